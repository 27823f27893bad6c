// `crosstown payments history|export|stats`: the Mayor's payment audit (payment_log.jsonl in its state repository).
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { formatM2M } from '../../chain/index.js';
import {
  type DateRange,
  type OpenPaymentAuditOptions,
  openPaymentAudit,
  type PaymentAudit,
  type PaymentEntry,
  type Totals,
} from '../../mayor/audit/index.js';
import { openStateRepo, StateError, type StateRepo } from '../../mayor/state/index.js';
import { CliError, ExitCode, type OutputFormat, parseFormat, printResult } from '../output.js';
import { addBase, type BaseOptions, helpExamples, loadConfig, run } from './common.js';

interface RangeOptions extends BaseOptions {
  from?: string;
  to?: string;
}

/** The JSON shape of one payment (docs/cli.md "payments"), named as `payments export --format json` names them. */
export interface PaymentRow {
  time: string;
  direction: 'in' | 'out';
  /** What the payment was for: write-fee (the relay, for posting), provider-payment (for a job's result), earning. */
  what: PaymentKind;
  jobId: string;
  amount: string;
  amountM2M: string;
  bytes: number | null;
  status: string;
  counterparty: string;
  channelId: string;
}

type PaymentKind = 'write-fee' | 'provider-payment' | 'earning';

/** A payment out with a size in bytes paid the relay for a write; one without paid a provider. */
const kindOf = (p: PaymentEntry): PaymentKind =>
  p.direction === 'in' ? 'earning' : p.bytes !== undefined ? 'write-fee' : 'provider-payment';

const LABEL: Record<PaymentKind, string> = {
  'write-fee': 'write fee',
  'provider-payment': 'provider payment',
  earning: 'earning',
};

const row = (p: PaymentEntry): PaymentRow => ({
  time: new Date(p.time).toISOString(),
  direction: p.direction,
  what: kindOf(p),
  jobId: p.jobId ?? '',
  amount: p.amount.toString(),
  amountM2M: formatM2M(p.amount),
  bytes: p.bytes ?? null,
  status: p.status,
  counterparty: p.counterparty,
  channelId: p.channelId ?? '',
});

/** CSV columns named as in `payments export` (snake_case), plus `what`. */
const csvRow = (r: PaymentRow) => ({
  time: r.time,
  direction: r.direction,
  what: r.what,
  job_id: r.jobId,
  amount: r.amount,
  amount_m2m: r.amountM2M,
  bytes: r.bytes,
  status: r.status,
  counterparty: r.counterparty,
  channel_id: r.channelId,
});

function range(o: RangeOptions): DateRange {
  return { ...(o.from ? { from: o.from } : {}), ...(o.to ? { to: o.to } : {}) };
}

/**
 * A read-only view of a state repository that a running Mayor holds (its owner lock): the audit reads the log
 * files as they are; rotation and commits stay the Mayor's job, so the write hooks do nothing.
 */
function readOnlyState(dir: string): OpenPaymentAuditOptions['state'] {
  const nothing = () => {};
  return {
    dir,
    durable: async () => {},
    files: { append: nothing, rename: nothing, remove: nothing },
  };
}

/** Opens the audit for one call; the state repository is released afterwards. */
async function withAudit<T>(o: BaseOptions, fn: (audit: PaymentAudit) => Promise<T>): Promise<T> {
  const config = loadConfig(o);
  let state: StateRepo;
  try {
    state = await openStateRepo({ dir: config.stateDir });
  } catch (err) {
    if (!(err instanceof StateError && err.code === 'REPO_LOCKED')) throw err;
    // A running Mayor owns the repository: read its committed and appended log lines without the lock.
    return fn(openPaymentAudit({ state: readOnlyState(config.stateDir) }));
  }
  try {
    return await fn(openPaymentAudit({ state }));
  } finally {
    await state.close();
  }
}

const rangeOptions = (cmd: Command) =>
  cmd
    .option('--from <date>', 'first day or instant, inclusive (ISO: 2026-11-01 or 2026-11-01T10:00:00Z)')
    .option('--to <date>', 'end, exclusive (ISO)');

const totalsJson = (t: Totals) => ({
  count: t.count,
  total: t.total.toString(),
  average: t.average.toString(),
});

export function registerPayments(program: Command): void {
  const payments = program
    .command('payments')
    .description('Payment audit: every payment in and out, per job');

  helpExamples(
    rangeOptions(addBase(payments.command('history').description('Payments, oldest first')))
      .option('--direction <in|out>', 'only payments received (in) or made (out)')
      .option('--status <status>', 'fulfilled | rejected | failed')
      .option('--limit <n>', 'only the last n'),
    [
      'crosstown payments history --from 2026-11-01',
      'crosstown payments history --direction out --format json',
    ],
  ).action(
    run(async (o: RangeOptions & { direction?: string; status?: string; limit?: string }) => {
      if (o.direction && !['in', 'out'].includes(o.direction)) {
        throw new CliError(`--direction "${o.direction}" must be in or out`, ExitCode.Usage);
      }
      if (o.status && !['fulfilled', 'rejected', 'failed'].includes(o.status)) {
        throw new CliError(`--status "${o.status}" must be fulfilled, rejected or failed`, ExitCode.Usage);
      }
      if (o.limit !== undefined && !/^\d+$/.test(o.limit))
        throw new CliError('--limit must be a whole number', ExitCode.Usage);
      let list = await withAudit(o, (a) => a.list(range(o)));
      list = list.filter(
        (p) => (!o.direction || p.direction === o.direction) && (!o.status || p.status === o.status),
      );
      if (o.limit !== undefined) list = list.slice(-Number(o.limit));
      const rows = list.map(row);
      printResult(o.format, {
        value: rows,
        rows: rows.map(csvRow),
        text: () =>
          rows.length === 0
            ? 'No payments in this range.'
            : [
                `${'TIME'.padEnd(24)}  ${'WHAT'.padEnd(16)}  ${'AMOUNT (M2M)'.padStart(14)}  ${'STATUS'.padEnd(9)}  ${'JOB'.padEnd(13)}  TO/FROM`,
                ...rows.map(
                  (r) =>
                    `${r.time.padEnd(24)}  ${LABEL[r.what].padEnd(16)}  ${r.amountM2M.padStart(14)}  ${r.status.padEnd(9)}  ${(r.jobId ? `${r.jobId.slice(0, 12)}…` : '-').padEnd(13)}  ${r.counterparty}`,
                ),
              ].join('\n'),
      });
    }),
  );

  helpExamples(
    rangeOptions(
      payments
        .command('export')
        .description('Export the audit as CSV (spreadsheet-safe) or JSON')
        .option('--format <format>', 'csv | json', parseFormat, 'csv' as OutputFormat)
        .option('-y, --yes', 'non-interactive (never prompts)', false)
        .option('--home <dir>', 'crosstown home')
        .option('--name <mayor>', 'Mayor name')
        .option('-o, --output <file>', 'write to this file (0600) instead of stdout'),
    ),
    [
      'crosstown payments export --from 2026-11-01 --to 2026-12-01 > november.csv',
      'crosstown payments export --format json -o payments.json',
    ],
  ).action(
    run(async (o: RangeOptions & { output?: string }) => {
      if (o.format === 'text')
        throw new CliError('export writes csv or json: pass --format csv or --format json', ExitCode.Usage);
      const text = await withAudit(o, (a) =>
        o.format === 'csv' ? a.exportCsv(range(o)) : a.exportJson(range(o)),
      );
      if (o.output) {
        writeFileSync(o.output, text, { mode: 0o600 });
        process.stderr.write(`wrote ${o.output}\n`);
      } else process.stdout.write(text);
    }),
  );

  helpExamples(
    rangeOptions(addBase(payments.command('stats').description('Totals by direction and status'))),
    [
      'crosstown payments stats',
      'crosstown payments stats --from 2026-11-01 --format json | jq .netFulfilled',
    ],
  ).action(
    run(async (o: RangeOptions) => {
      const s = await withAudit(o, (a) => a.stats(range(o)));
      const value = {
        ...totalsJson(s),
        byDirection: { in: totalsJson(s.byDirection.in), out: totalsJson(s.byDirection.out) },
        byStatus: {
          fulfilled: totalsJson(s.byStatus.fulfilled),
          rejected: totalsJson(s.byStatus.rejected),
          failed: totalsJson(s.byStatus.failed),
        },
        netFulfilled: s.netFulfilled.toString(),
      };
      const rows = [
        { group: 'all', ...totalsJson(s) },
        { group: 'in', ...totalsJson(s.byDirection.in) },
        { group: 'out', ...totalsJson(s.byDirection.out) },
        { group: 'fulfilled', ...totalsJson(s.byStatus.fulfilled) },
        { group: 'rejected', ...totalsJson(s.byStatus.rejected) },
        { group: 'failed', ...totalsJson(s.byStatus.failed) },
      ];
      const m = (v: bigint) => `${formatM2M(v)} M2M`;
      printResult(o.format, {
        value,
        rows,
        text: () =>
          [
            `Payments: ${s.count}, total ${m(s.total)}, average ${m(s.average)}`,
            `  received: ${s.byDirection.in.count} (${m(s.byDirection.in.total)})`,
            `  paid:     ${s.byDirection.out.count} (${m(s.byDirection.out.total)})`,
            `  fulfilled ${s.byStatus.fulfilled.count}, rejected ${s.byStatus.rejected.count}, failed ${s.byStatus.failed.count}`,
            `  net (fulfilled in - out): ${s.netFulfilled < 0n ? '-' : ''}${m(s.netFulfilled < 0n ? -s.netFulfilled : s.netFulfilled)}`,
          ].join('\n'),
      });
    }),
  );
}
