// Pieces every view shares: the network banner (always on screen), rules, the footer, and the job table row.
import { cell, formatBytes, formatClock, formatM2M, shortHex } from '../format.js';
import { blank, type Line, line, type Segment, type Style, seg } from '../line.js';
import type { ConnectionStatus, DashboardState, JobInfo } from '../model.js';

export interface Size {
  width: number;
  /** Lines available for the frame. */
  height: number;
}

const BADGE: Record<DashboardState['network']['kind'], { text: string; style: Style }> = {
  local: { text: ' LOCAL ', style: 'local' },
  testnet: { text: ' TESTNET ', style: 'testnet' },
  mainnet: { text: ' MAINNET: REAL MONEY ', style: 'mainnet' },
};

/** Two lines: network badge, name and chain id (never dropped), then token and RPC. */
export function banner(state: DashboardState, size: Size): Line[] {
  const { network } = state;
  const badge = BADGE[network.kind];
  const first = line(
    [seg(badge.text, badge.style), seg(` ${network.name}`, 'bold'), seg(` · chain ${network.chainId}`)],
    [seg('mayor ', 'dim'), seg(state.mayor, 'bold')],
  );
  const token = network.token ?? 'not deployed';
  const second = line(
    [seg(' token ', 'dim'), seg(size.width < 64 && network.token ? shortHex(token) : token)],
    network.rpc ? [seg('rpc ', 'dim'), seg(network.rpc)] : undefined,
  );
  return [first, second];
}

export function rule(size: Size, title?: string): Line {
  if (!title) return line([seg('─'.repeat(size.width), 'dim')]);
  const head = `── ${title} `;
  return line([
    seg('── ', 'dim'),
    seg(title, 'heading'),
    seg(` ${'─'.repeat(Math.max(0, size.width - head.length))}`, 'dim'),
  ]);
}

/** Key hints; a notice (e.g. "refreshed 12:00:01") goes first so it is never the part that is cut. */
export function footer(size: Size, wide: string, narrow: string, notice?: string): Line {
  const hints = seg(` ${size.width < 60 ? narrow : wide}`, 'dim');
  return line(notice ? [seg(` ${notice} `, 'accent'), seg('│', 'dim'), hints] : [hints]);
}

export const STATUS_ICON: Record<ConnectionStatus, Segment> = {
  connected: seg('●', 'good'),
  connecting: seg('◌', 'warn'),
  disconnected: seg('○', 'dim'),
  error: seg('✗', 'danger'),
};

export const STATUS_STYLE: Record<ConnectionStatus, Style> = {
  connected: 'good',
  connecting: 'warn',
  disconnected: 'dim',
  error: 'danger',
};

export function jobStateStyle(job: JobInfo): Style {
  switch (job.state) {
    case 'posting':
      return 'dim';
    case 'posted':
    case 'running':
      return 'accent';
    case 'result-received':
    case 'routed':
      return 'warn';
    case 'paid':
    case 'served':
      return job.result && job.result.status !== 'success' ? 'danger' : 'good';
    case 'failed':
    case 'refused':
      return 'danger';
    case 'cancelled':
      return 'dim';
  }
}

/**
 * One job as a table row. Columns are dropped as the terminal narrows: provider/summary first, then bytes and
 * price, then the job type; id and state always stay.
 */
export function jobRow(job: JobInfo, selected: boolean, size: Size, showTime: boolean): Line {
  const w = size.width;
  const marker = seg(selected ? '> ' : '  ', selected ? 'selected' : 'plain');
  const id = seg(cell(job.id, 14));
  // result-received (a moment between posted and paid) is the one state word cut below 100 columns.
  const state = seg(cell(job.state, w >= 100 ? 15 : 9), jobStateStyle(job));
  const left: Segment[] = [marker, id, seg(' '), state];
  if (w >= 48) left.push(seg(' '), seg(cell(job.jobType, w >= 90 ? 20 : w >= 72 ? 18 : 14)));
  if (w >= 60) left.push(seg(' '), seg(cell(formatM2M(job.price), 13, 'right')));
  if (w >= 72) left.push(seg(' '), seg(cell(formatBytes(job.bytes), 7, 'right'), 'dim'));
  if (w >= 90 && showTime) left.push(seg(` ${formatClock(job.postedAt)}`, 'dim'));
  if (w >= 72) {
    const t = job.result?.tests;
    const detail = t ? `${t.passed}/${t.total} passed` : job.provider ? `provider ${job.provider}` : '';
    if (detail) left.push(seg(` ${detail}`, job.result ? jobStateStyle(job) : 'dim'));
  }
  return line(left);
}

/** A window of `rows` items that keeps `index` visible. */
export function windowAround<T>(items: T[], index: number, rows: number): { start: number; items: T[] } {
  if (rows <= 0) return { start: 0, items: [] };
  const start = Math.max(0, Math.min(index - Math.floor(rows / 2), items.length - rows));
  return { start, items: items.slice(start, start + rows) };
}

/** Keeps a frame within `height` lines: body lines are cut, the footer (last line) always stays. */
export function fitHeight(lines: Line[], height: number): Line[] {
  if (lines.length <= height) return lines;
  if (height <= 1) return lines.slice(-1);
  return [...lines.slice(0, height - 1), lines[lines.length - 1]!];
}

export { blank };
