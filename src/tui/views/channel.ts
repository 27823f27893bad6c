// The payment channel in detail, with the payments that moved it.
import { formatM2M } from '../format.js';
import { type Line, line, seg } from '../line.js';
import type { DashboardState } from '../model.js';
import type { UiState } from '../ui-state.js';
import { banner, fitHeight, footer, rule, type Size } from './common.js';
import { activityRow, isLowBalance } from './main.js';

const row = (name: string, value: string, style: Parameters<typeof seg>[1] = 'plain'): Line =>
  line([seg(` ${name.padEnd(12)}`, 'dim'), seg(value, style)]);

/** "[#######-----]": how much of the deposit is left; integer arithmetic on bigints. */
function bar(remaining: bigint, deposit: bigint, cols: number): string {
  const filled = deposit > 0n ? Number((remaining * BigInt(cols)) / deposit) : 0;
  const n = Math.max(0, Math.min(cols, filled));
  return `[${'#'.repeat(n)}${'-'.repeat(cols - n)}]`;
}

export function channelView(state: DashboardState, ui: UiState, size: Size): Line[] {
  const out: Line[] = [...banner(state, size), rule(size, 'Payment channel')];
  const foot = footer(size, 'esc back  c close this view  r refresh  q quit', 'esc back', ui.notice);
  const ch = state.channel;
  if (!ch) {
    out.push(line([seg(' No payment channel is open; the Mayor opens one when it first pays.', 'warn')]));
    return fitHeight([...out, foot], size.height);
  }
  const low = isLowBalance(state);
  out.push(row('Channel', ch.id));
  if (ch.status) out.push(row('Status', ch.status, ch.status === 'open' ? 'good' : 'warn'));
  if (ch.receiver) out.push(row('Receiver', ch.receiver));
  if (ch.contract) out.push(row('Contract', ch.contract));
  out.push(row('Deposit', formatM2M(ch.deposit)));
  out.push(row('Spent', `${formatM2M(ch.spent)} (cumulative, signed)`));
  out.push(row('Remaining', formatM2M(ch.remaining), low ? 'danger' : 'good'));
  out.push(row('Warn below', formatM2M(ch.lowBalanceThreshold)));
  out.push(
    line([
      seg(` ${' '.repeat(12)}`),
      seg(bar(ch.remaining, ch.deposit, Math.max(4, Math.min(40, size.width - 16)))),
    ]),
  );
  if (low) {
    out.push(line([seg(' ! LOW BALANCE: top up the channel before the next job is refused.', 'danger')]));
  }
  const money = state.activity.filter((a) => a.amount !== undefined);
  out.push(rule(size, 'Payments'));
  if (money.length === 0) out.push(line([seg('  none yet', 'dim')]));
  const rows = Math.max(1, size.height - out.length - 1);
  for (const entry of money.slice(-rows).reverse()) out.push(activityRow(entry, size));
  return fitHeight([...out, foot], size.height);
}
