// The payment audit: one JSON line per payment in payment_log.jsonl inside the Mayor's state repository,
// rotated daily (UTC) to payment_log-YYYY-MM-DD.jsonl and kept 30 days. Appends go through the state
// repository's commit queue, so every payment is committed (several may share a group commit) and
// recording one never waits on disk or git.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatM2M } from '../../chain/units.js';
import type { StateRepo } from '../state/index.js';
import { AuditError } from './errors.js';
import { parseLine, toCsv, toJson, validatePayment } from './format.js';
import { paymentStats } from './stats.js';
import type { DateRange, PaymentEntry, PaymentInput, PaymentStats } from './types.js';

export const CURRENT_LOG = 'payment_log.jsonl';
const ROTATED = /^payment_log-(\d{4}-\d{2}-\d{2})(?:\.(\d+))?\.jsonl$/;
const DAY_MS = 86_400_000;

export interface OpenPaymentAuditOptions {
  /** What the log uses of the state repository: its directory, file changes and their durability. */
  state: Pick<StateRepo, 'dir' | 'files' | 'durable'>;
  /** Days of rotated logs kept (default 30); older files are deleted (their commits stay in git history). */
  retentionDays?: number;
  /** Clock in Unix milliseconds (tests move it across midnight). */
  now?: () => number;
}

export interface PaymentAudit {
  /** Appends a payment; returns at once with the normalized entry (flush the state repo for durability). */
  record(payment: PaymentInput): PaymentEntry;
  /** Payments in the range, oldest first, from every kept log file. */
  list(range?: DateRange): Promise<PaymentEntry[]>;
  exportCsv(range?: DateRange): Promise<string>;
  /** A JSON array of payments (amounts as strings of base units). */
  exportJson(range?: DateRange): Promise<string>;
  stats(range?: DateRange): Promise<PaymentStats>;
  /** Rotates if the day changed and deletes logs past retention. `record` does this on its own. */
  rotate(): void;
}

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function toMs(what: string, v: Date | number | string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(ms)) {
    throw new AuditError(
      'INVALID_RANGE',
      `${what} ${JSON.stringify(v)} is not a date: use ISO text such as 2026-11-25 or 2026-11-25T10:00:00Z.`,
    );
  }
  return ms;
}

export function openPaymentAudit(options: OpenPaymentAuditOptions): PaymentAudit {
  const { state } = options;
  const now = options.now ?? Date.now;
  const retentionDays = options.retentionDays ?? 30;
  const dir = state.dir;

  /** Rotated file names already on disk or queued, so a rotation never overwrites one. */
  const rotated = new Set(readdirSync(dir).filter((f) => ROTATED.test(f)));
  /** UTC day of the entries in the current file (undefined while it is empty). */
  let currentDay: string | undefined;
  const current = join(dir, CURRENT_LOG);
  if (existsSync(current)) {
    const text = readFileSync(current, 'utf8');
    const first = text.slice(0, text.indexOf('\n'));
    if (first) currentDay = utcDay(parseLine(`${CURRENT_LOG} line 1`, first).time);
  }

  const rotate = () => {
    const today = utcDay(now());
    if (currentDay !== undefined && currentDay !== today) {
      let name = `payment_log-${currentDay}.jsonl`;
      for (let n = 1; rotated.has(name); n++) name = `payment_log-${currentDay}.${n}.jsonl`;
      rotated.add(name);
      state.files.rename(CURRENT_LOG, name, `audit: rotate payment log of ${currentDay}`);
      currentDay = undefined;
    }
    const oldest = utcDay(Date.parse(today) - retentionDays * DAY_MS);
    for (const f of [...rotated]) {
      const day = ROTATED.exec(f)![1]!;
      if (day < oldest) {
        rotated.delete(f);
        state.files.remove(f, `audit: delete ${f}, older than ${retentionDays} days`);
      }
    }
  };
  rotate();

  const list = async (range: DateRange = {}): Promise<PaymentEntry[]> => {
    const from = toMs('from', range.from);
    const to = toMs('to', range.to);
    if (from !== undefined && to !== undefined && from > to) {
      throw new AuditError('INVALID_RANGE', `from (${range.from}) is after to (${range.to}): swap them.`);
    }
    // The files are what is read: every entry recorded so far is on disk once durable (its git commit may follow).
    await state.durable();
    const files = readdirSync(dir).filter((f) => f === CURRENT_LOG || ROTATED.test(f));
    const out: PaymentEntry[] = [];
    for (const f of files) {
      const lines = readFileSync(join(dir, f), 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (line === '') return;
        const p = parseLine(`${f} line ${i + 1}`, line);
        if ((from === undefined || p.time >= from) && (to === undefined || p.time < to)) out.push(p);
      });
    }
    return out.sort((a, b) => a.time - b.time);
  };

  return {
    record(input) {
      const entry = validatePayment({ ...input, time: input.time ?? now() });
      rotate();
      currentDay ??= utcDay(now());
      const line = `${JSON.stringify(toJson(entry))}\n`;
      state.files.append(
        CURRENT_LOG,
        line,
        `payment ${entry.direction} ${formatM2M(entry.amount)} M2M ${entry.status}${entry.jobId ? ` job ${entry.jobId}` : ''}`,
      );
      return entry;
    },
    list,
    exportCsv: async (range) => toCsv(await list(range)),
    exportJson: async (range) => `${JSON.stringify((await list(range)).map(toJson), null, 2)}\n`,
    stats: async (range) => paymentStats(await list(range)),
    rotate,
  };
}
