// The main screen: network, connections, channel, subscriptions, jobs, recent activity.
import { formatClock, formatM2M, shortHex } from '../format.js';
import { type Line, line, type Segment, seg } from '../line.js';
import type { ActivityEntry, ActivityKind, DashboardState } from '../model.js';
import { isInFlight } from '../model.js';
import { mainJobs, selectedIndex, type UiState } from '../ui-state.js';
import {
  banner,
  fitHeight,
  footer,
  jobRow,
  rule,
  type Size,
  STATUS_ICON,
  STATUS_STYLE,
  windowAround,
} from './common.js';

const LABEL = 11;
const label = (text: string) => seg(` ${text.padEnd(LABEL - 1)}`, 'dim');
const MAX_RELAY_LINES = 3;

export function statusLines(state: DashboardState): Line[] {
  const out: Line[] = [];
  const relays = state.relays.slice(0, MAX_RELAY_LINES);
  if (relays.length === 0) out.push(line([label('Relay'), seg('none configured', 'warn')]));
  relays.forEach((r, i) => {
    const more = i === relays.length - 1 && state.relays.length > relays.length;
    const left: Segment[] = [
      label(i === 0 ? (state.relays.length > 1 ? 'Relays' : 'Relay') : ''),
      STATUS_ICON[r.status],
      seg(` ${r.status}`, STATUS_STYLE[r.status]),
      seg(` ${r.url}`),
    ];
    if (r.status === 'connected') left.push(seg(` · ${r.subscriptions} subs`, 'dim'));
    if (r.lastError && r.status !== 'connected') left.push(seg(` · ${r.lastError}`, 'danger'));
    if (more) left.push(seg(` · +${state.relays.length - relays.length} more`, 'dim'));
    out.push(line(left));
  });
  const c = state.connector;
  const conn: Segment[] = [
    label('Connector'),
    STATUS_ICON[c.status],
    seg(` ${c.status}`, STATUS_STYLE[c.status]),
  ];
  conn.push(seg(` ${c.url}`));
  if (c.lastError && c.status !== 'connected') conn.push(seg(` · ${c.lastError}`, 'danger'));
  out.push(line(conn));
  out.push(...channelLines(state));
  const subs = state.subscriptions;
  out.push(
    line([
      label('Subs'),
      subs.length === 0 ? seg('none', 'dim') : seg(`${subs.length}: `, 'dim'),
      seg(subs.map((s) => s.summary).join(' · ')),
    ]),
  );
  return out;
}

export function isLowBalance(state: DashboardState): boolean {
  return state.channel !== null && state.channel.remaining < state.channel.lowBalanceThreshold;
}

function channelLines(state: DashboardState): Line[] {
  const ch = state.channel;
  if (!ch) return [line([label('Channel'), seg('none open', 'warn')])];
  const low = isLowBalance(state);
  const out = [
    line(
      [
        label('Channel'),
        seg(formatM2M(ch.remaining), low ? 'danger' : 'good'),
        seg(` left of ${formatM2M(ch.deposit)}`),
        seg(` · spent ${formatM2M(ch.spent)}`, 'dim'),
      ],
      [seg(shortHex(ch.id, 6), 'dim')],
    ),
  ];
  if (low) {
    out.push(
      line([
        seg(' ! LOW BALANCE', 'danger'),
        seg(`: below ${formatM2M(ch.lowBalanceThreshold)}; top up the channel (c: details)`, 'danger'),
      ]),
    );
  }
  return out;
}

const ACTIVITY_ICON: Record<ActivityKind, Segment> = {
  post: seg('↑', 'accent'),
  result: seg('↓', 'good'),
  payment: seg('→', 'warn'),
  earning: seg('←', 'good'),
  channel: seg('◆', 'accent'),
  connection: seg('●', 'dim'),
  error: seg('!', 'danger'),
  info: seg('·', 'dim'),
};

export function activityRow(entry: ActivityEntry, size: Size): Line {
  const left: Segment[] = [];
  if (size.width >= 50) left.push(seg(` ${formatClock(entry.at)}`, 'dim'));
  left.push(
    seg(' '),
    ACTIVITY_ICON[entry.kind],
    seg(` ${entry.text}`, entry.kind === 'error' ? 'danger' : 'plain'),
  );
  if (entry.amount === undefined) return line(left);
  const sign = entry.kind === 'earning' ? '+' : entry.kind === 'payment' || entry.kind === 'post' ? '-' : '';
  return line(left, [seg(`${sign}${formatM2M(entry.amount)}`, sign === '+' ? 'good' : 'warn')]);
}

/** The status block in one line, for short terminals: relays up, connector, channel balance. */
export function compactStatus(state: DashboardState): Line {
  const up = state.relays.filter((r) => r.status === 'connected').length;
  const relayStatus = up === state.relays.length && up > 0 ? 'connected' : up > 0 ? 'connecting' : 'error';
  const ch = state.channel;
  const low = isLowBalance(state);
  return line([
    seg(' '),
    STATUS_ICON[relayStatus],
    seg(` relays ${up}/${state.relays.length}  `),
    STATUS_ICON[state.connector.status],
    seg(` connector ${state.connector.status}  `),
    ch
      ? seg(`channel ${formatM2M(ch.remaining)}${low ? ' LOW' : ''}`, low ? 'danger' : 'good')
      : seg('no channel', 'warn'),
  ]);
}

/** Below this many rows for the two lists, the status block shrinks to one line. */
const MIN_LIST_ROWS = 4;

export function mainView(state: DashboardState, ui: UiState, size: Size): Line[] {
  const head = [...banner(state, size), rule(size)];
  const full = statusLines(state);
  const compact = size.height - head.length - full.length - 3 < MIN_LIST_ROWS;
  const top = [...head, ...(compact ? [compactStatus(state)] : full)];
  const jobs = mainJobs(state);
  const inFlight = jobs.filter(isInFlight).length;
  const foot = footer(
    size,
    'q quit  r refresh  h history  c channel  ? help  ↑↓ select  ⏎ open',
    'q quit  ? help  ↑↓ ⏎',
    ui.notice,
  );
  // Rows left for the two lists once the fixed parts are placed: two headings and the footer.
  const room = size.height - top.length - 3;
  const activityWanted = Math.max(1, state.activity.length);
  const jobsWanted = Math.max(1, jobs.length);
  let jobRows = Math.min(jobsWanted, Math.max(1, Math.ceil(room / 2)));
  const activityRows = Math.max(0, Math.min(activityWanted, room - jobRows));
  jobRows = Math.max(jobRows, Math.min(jobsWanted, room - activityRows));

  const body: Line[] = [...top, rule(size, `Jobs · ${inFlight} in flight · ${jobs.length} total`)];
  if (jobs.length === 0) body.push(line([seg('  no jobs yet', 'dim')]));
  const sel = selectedIndex(ui, jobs);
  const shown = windowAround(jobs, sel, jobRows);
  shown.items.forEach((job, i) => {
    body.push(jobRow(job, shown.start + i === sel, size, false));
  });
  body.push(rule(size, 'Activity'));
  if (state.activity.length === 0) body.push(line([seg('  nothing yet', 'dim')]));
  for (const entry of state.activity.slice(-Math.max(1, activityRows)).reverse()) {
    body.push(activityRow(entry, size));
  }
  return fitHeight([...body.slice(0, size.height - 1), foot], size.height);
}
