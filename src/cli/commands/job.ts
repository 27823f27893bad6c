// `crosstown job post|status|list|cancel`: paid NIP-90 jobs through the running Mayor (its control socket). Status
// and list also work when no Mayor runs: they read the Mayor's state repository.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { formatM2M, parseM2M } from '../../chain/units.js';
import type { MayorConfig } from '../../mayor/config/index.js';
import { JOB_STATUSES, type JobRecord, openStateRepo, readJobsSnapshot } from '../../mayor/state/index.js';
import { CliError, ExitCode, note, printResult } from '../output.js';
import { startProgress } from '../progress.js';
import { addBase, type BaseOptions, helpExamples, loadConfig, run } from './common.js';
import { type ControlRequest, controlRequest, controlSocketPath } from './control.js';

/** The JSON shape of one job (docs/cli.md "job"): amounts are strings of base units, times Unix ms. */
export interface JobJson {
  id: string;
  kind: number;
  jobType: string;
  callbackSkill: string;
  status: string;
  createdAt: number;
  updatedAt: number;
  price?: string;
  bid?: string;
  amount?: string;
  provider?: string;
  resultEventId?: string;
  chainId?: string;
  settlementChainId?: number;
  error?: string;
  /** The callback skill's summary of the result, while the Mayor that routed it runs. */
  summary?: string;
  /** This job failed busy and was re-posted as this job (follow it: its outcome is this one's). */
  repostedAs?: string;
  /** `job post --wait` on a re-posted job: the ids before this, final, copy (the posted id first). */
  repostedFrom?: string[];
}

type Wire = Omit<JobRecord, 'price' | 'bid' | 'amount'> & {
  summary?: string;
  repostedFrom?: string[];
  price?: unknown;
  bid?: unknown;
  amount?: unknown;
};

export function jobJson(j: Wire): JobJson {
  const out: JobJson = {
    id: j.id,
    kind: j.kind,
    jobType: j.jobType,
    callbackSkill: j.callbackSkill,
    status: j.status,
    createdAt: j.createdAt,
    updatedAt: j.updatedAt,
  };
  for (const k of ['price', 'bid', 'amount'] as const) if (j[k] !== undefined) out[k] = String(j[k]);
  for (const k of ['provider', 'resultEventId', 'chainId', 'error', 'summary', 'repostedAs'] as const)
    if (j[k] !== undefined) out[k] = j[k];
  if (j.repostedFrom?.length) out.repostedFrom = [...j.repostedFrom];
  if (j.settlementChainId !== undefined) out.settlementChainId = j.settlementChainId;
  return out;
}

const m2m = (v: string | undefined) => (v === undefined ? '-' : `${formatM2M(BigInt(v))} M2M`);

function jobText(j: JobJson): string {
  return [
    ...(j.repostedFrom?.length
      ? [`Job ${j.repostedFrom[0]} was re-posted (a provider was busy) as ${j.id}: its outcome is below.`]
      : []),
    `Job ${j.id} (${j.jobType}, kind ${j.kind}): ${j.status}`,
    `  posted ${new Date(j.createdAt).toISOString()}, updated ${new Date(j.updatedAt).toISOString()}`,
    `  relay fee ${m2m(j.price)}, bid ${m2m(j.bid)}, asked ${m2m(j.amount)}${j.provider ? `, provider ${j.provider.slice(0, 16)}…` : ''}`,
    ...(j.summary ? [`  result: ${j.summary}`] : []),
    ...(j.error ? [`  error: ${j.error}`] : []),
    ...(j.repostedAs ? [`  re-posted as ${j.repostedAs}: see \`crosstown job status ${j.repostedAs}\``] : []),
  ].join('\n');
}

function jobRow(j: JobJson) {
  return {
    id: j.id,
    kind: j.kind,
    jobType: j.jobType,
    status: j.status,
    createdAt: j.createdAt,
    price: j.price ?? '',
    bid: j.bid ?? '',
    amount: j.amount ?? '',
    provider: j.provider ?? '',
    error: j.error ?? '',
  };
}

/** The result's summary line from the stored result event (a plain file read: no lock needed). */
async function storedSummary(config: MayorConfig, job: Wire): Promise<{ summary?: string }> {
  const file = join(config.stateDir, 'results', `${job.id}.toon`);
  if (!existsSync(file)) return {};
  try {
    const { decodeEvent } = await import('../../toon/index.js');
    const { parseJobResult } = await import('../../nostr/nip90.js');
    const { ciSummaryOf } = await import('../../skills/builtin/ci-cd-callback.js');
    const { sealedSummaryLine } = await import('../../mayor/lifecycle/sealed-summary.js');
    const result = parseJobResult(decodeEvent(new Uint8Array(readFileSync(file))));
    return { summary: sealedSummaryLine(config.stateDir, job.id, result) ?? ciSummaryOf(result) };
  } catch {
    return {}; // not a ci result (another callback skill): no summary to show
  }
}

/** Asks the running Mayor; undefined when none runs. */
async function ask(
  config: MayorConfig,
  req: ControlRequest,
  timeoutMs?: number,
): Promise<unknown | undefined> {
  return controlRequest(controlSocketPath(config), req, timeoutMs);
}

/** The jobs from the running Mayor, else as its state repository holds them (read only: nothing is changed). */
async function readJobs(config: MayorConfig): Promise<Wire[]> {
  const live = (await ask(config, { op: 'jobs' })) as Wire[] | undefined;
  if (live) return live;
  if (!existsSync(config.stateDir)) return [];
  return readJobsSnapshot(config.stateDir);
}

/** The dashboard and activity log show 7 hex digits of a job id (job-c9b3ccb). */
const MIN_PREFIX = 7;

/**
 * A job id as people copy it: the full id, or a prefix of at least 7 hex digits as the activity log, the
 * dashboard and `job list` show it (`job-c9b3ccb`, `c9b3ccb1e2f3…`). An ambiguous prefix is refused.
 */
export function findJob<T extends { id: string }>(jobs: T[], typed: string, mayor: string): T {
  const id = typed
    .trim()
    .replace(/^job-/, '')
    .replace(/(…|\.\.\.)$/, '')
    .toLowerCase();
  const exact = jobs.find((j) => j.id === id);
  if (exact) return exact;
  const matches = id.length >= MIN_PREFIX ? jobs.filter((j) => j.id.startsWith(id)) : [];
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new CliError(
      `job id ${typed} is ambiguous: it starts ${matches.length} jobs (${matches
        .slice(0, 3)
        .map((j) => j.id.slice(0, 16))
        .join(', ')}…): type more of it`,
      ExitCode.Usage,
    );
  }
  throw new CliError(
    `no job ${typed} in Mayor ${mayor}${id.length < MIN_PREFIX ? ` (type at least ${MIN_PREFIX} characters of its id)` : ''}: see \`crosstown job list\``,
    ExitCode.Usage,
  );
}

function notRunning(config: MayorConfig): never {
  throw new CliError(
    `no Mayor named ${config.name} is running (network ${config.network}): start it with \`crosstown mayor start\` (or attach)`,
    ExitCode.Unavailable,
  );
}

interface PostOptions extends BaseOptions {
  type: string;
  input: string[];
  param: string[];
  bid?: string;
  provider?: string;
  private: boolean;
  content?: string;
  callbackSkill?: string;
  kind?: string;
  payment: string;
  wait: boolean;
  timeout?: string;
}

const collect = (v: string, prev: string[]) => [...prev, v];

/**
 * Before the write fee is paid: does any provider advertise this job type, at a price within the bid? If not,
 * ask (or, with --yes, warn and go on); without a terminal and without --yes the post is refused.
 */
async function checkOffers(config: MayorConfig, o: PostOptions, bid: string | undefined): Promise<void> {
  const raw = (await ask(config, {
    op: 'offers',
    jobType: o.type,
    ...(o.kind ? { kind: Number(o.kind) } : {}),
  }).catch(() => undefined)) as { provider: string; price?: string }[] | undefined;
  if (!raw) return; // no Mayor (reported next) or an older one
  const { offerProblem } = await import('../../mayor/offers.js');
  const problem = offerProblem(
    raw.map((r) => ({ provider: r.provider, ...(r.price !== undefined ? { price: BigInt(r.price) } : {}) })),
    {
      jobType: o.type,
      ...(bid !== undefined ? { bid: BigInt(bid) } : {}),
      ...(o.provider ? { provider: o.provider } : {}),
    },
  );
  if (!problem) return;
  if (o.yes) {
    note(`warning: ${problem}; posting anyway (--yes)`);
    return;
  }
  const { canPrompt, confirm } = await import('../prompt.js');
  if (!canPrompt())
    throw new CliError(`${problem}: nothing was paid; pass --yes to post anyway`, ExitCode.Refused);
  await confirm(`${problem}. Post it anyway and pay the relay's write fee?`, o);
}

export function registerJob(program: Command): void {
  const job = program.command('job').description('Paid NIP-90 jobs: post them, follow them, cancel them');

  helpExamples(
    addBase(job.command('post').description('Post a paid job request through the running Mayor'))
      .requiredOption('--type <jobType>', 'job type (t tag), e.g. ci-cd-linux')
      .option(
        '--input <type:data>',
        'an input, e.g. git:https://github.com/o/r@main or text:hello (repeatable)',
        collect,
        [],
      )
      .option('--param <key=value>', 'a parameter (repeatable)', collect, [])
      .option('--bid <m2m>', 'the most you pay the provider, decimal M2M')
      .option('--provider <pubkey>', 'a chosen provider (hex pubkey)')
      .option(
        '--private',
        'send the request gift-wrapped (NIP-59) to --provider only; the result comes back wrapped to you',
        false,
      )
      .option('--content <text>', 'free-text content of the request')
      .option('--callback-skill <name>', 'the skill the result is routed to')
      .option('--kind <n>', 'request kind (default 5065)')
      .option(
        '--payment <mode>',
        'atomic: the provider seals its result and is paid exactly when it reveals the key; after-result: clear result, paid after it arrives',
        'atomic',
      )
      .option('--wait', 'wait until the job is final (paid, failed or cancelled)', false)
      .option(
        '--timeout <seconds>',
        'with --wait: give up after this long (default: the job-timeout setting)',
      ),
    [
      'crosstown job post --type ci-cd-linux --input git:https://github.com/acme/app@pr-1234 --bid 0.01 --wait',
      'crosstown job post --type docker-build-amd64 --param arch=amd64 --format json | jq -r .id',
      'crosstown job post --type ci-cd-linux --input git:https://github.com/acme/secret@main --provider <hex> --private',
      'crosstown job post --type ci-cd-linux --input text:hello --bid 0.01 --payment after-result',
    ],
    "The relay fee (bytes × basePricePerByte) is paid over ILP when the request is posted; the provider is paid up to --bid when its result comes back (atomic: the payment itself reveals the sealed result's key).",
  ).action(
    run(async (o: PostOptions) => {
      const config = loadConfig(o);
      const inputs = o.input.map((i) => {
        const c = i.indexOf(':');
        if (c <= 0) throw new CliError(`--input "${i}" must be type:data (e.g. text:hello)`, ExitCode.Usage);
        return { type: i.slice(0, c), data: i.slice(c + 1) };
      });
      const params: Record<string, string> = {};
      for (const p of o.param) {
        const e = p.indexOf('=');
        if (e <= 0) throw new CliError(`--param "${p}" must be key=value`, ExitCode.Usage);
        params[p.slice(0, e)] = p.slice(e + 1);
      }
      let bid: string | undefined;
      if (o.bid !== undefined) {
        try {
          bid = parseM2M(o.bid).toString();
        } catch {
          throw new CliError(`--bid "${o.bid}" is not a decimal M2M amount`, ExitCode.Usage);
        }
      }
      if (o.private && !o.provider)
        throw new CliError(
          '--private needs --provider <pubkey>: a gift wrap is addressed to one provider',
          ExitCode.Usage,
        );
      if (o.payment !== 'atomic' && o.payment !== 'after-result')
        throw new CliError(`--payment must be atomic or after-result, got "${o.payment}"`, ExitCode.Usage);
      if (o.kind !== undefined && !/^5\d{3}$/.test(o.kind))
        throw new CliError('--kind must be a job request kind 5000..5999', ExitCode.Usage);
      const request = {
        jobType: o.type,
        ...(inputs.length ? { inputs } : {}),
        ...(Object.keys(params).length ? { params } : {}),
        ...(bid !== undefined ? { bid } : {}),
        ...(o.provider ? { provider: o.provider } : {}),
        ...(o.private ? { private: true } : {}),
        ...(o.content ? { content: o.content } : {}),
        ...(o.callbackSkill ? { callbackSkill: o.callbackSkill } : {}),
        ...(o.kind ? { kind: Number(o.kind) } : {}),
        payment: o.payment,
      };
      if (o.format === 'text') note(`Network: ${config.network}`);
      await checkOffers(config, o, bid);
      const progress = startProgress(`posting a ${o.type} job (paying the relay)`, o);
      let posted: { jobId: string; bytes: number; price: string; status: string } | undefined;
      try {
        posted = (await ask(config, { op: 'post', request }, 120_000)) as typeof posted;
      } catch (err) {
        progress.fail();
        throw err;
      }
      if (!posted) {
        progress.fail();
        notRunning(config);
      }
      progress.succeed(
        `posted ${posted.jobId}: ${posted.bytes} bytes, relay fee ${formatM2M(BigInt(posted.price))} M2M`,
      );
      let record = (await ask(config, { op: 'job', id: posted.jobId })) as Wire;
      if (o.wait) {
        const seconds = o.timeout !== undefined ? Number(o.timeout) : config.jobTimeoutSeconds;
        if (!Number.isFinite(seconds) || seconds <= 0)
          throw new CliError('--timeout must be a positive number of seconds', ExitCode.Usage);
        const waiting = startProgress(`waiting for the result of ${posted.jobId.slice(0, 12)}…`, o);
        record = (await ask(
          config,
          { op: 'wait', id: posted.jobId, timeoutMs: seconds * 1000 },
          seconds * 1000 + 10_000,
        )) as Wire;
        const via = record.repostedFrom?.length ? ` (re-posted as ${record.id.slice(0, 12)}…)` : '';
        if (['paid', 'routed'].includes(record.status)) waiting.succeed(`result: ${record.status}${via}`);
        else if (['failed', 'cancelled'].includes(record.status)) waiting.fail(`${record.status}${via}`);
        else waiting.fail(`not final after ${seconds} s: ${record.status}${via}`);
      }
      const value = { ...jobJson(record), bytes: posted.bytes };
      printResult(o.format, { value, rows: [jobRow(value)], text: () => jobText(value) });
      if (o.wait && ['failed', 'cancelled'].includes(record.status)) {
        throw new CliError(
          `job ${record.id} ended ${record.status}${record.error ? `: ${record.error}` : ''}`,
          ExitCode.Failure,
        );
      }
      if (o.wait && !['paid', 'routed', 'failed', 'cancelled'].includes(record.status)) {
        throw new CliError(
          `job ${record.id} is still ${record.status}: follow it with \`crosstown job status ${record.id}\``,
          ExitCode.Unavailable,
        );
      }
    }),
  );

  helpExamples(
    addBase(job.command('status').description('One job: status, fees, provider')).argument(
      '<jobId>',
      'the job (request event) id',
    ),
    ['crosstown job status 5abc123…', 'crosstown job status 5abc123… --format json | jq -r .status'],
  ).action(
    run(async (id: string, o: BaseOptions) => {
      const config = loadConfig(o);
      const found = findJob(await readJobs(config), id, config.name);
      // The callback skill's summary lives in the running Mayor; the state repository keeps the result itself.
      const value = jobJson(
        found.summary === undefined ? { ...found, ...(await storedSummary(config, found)) } : found,
      );
      printResult(o.format, { value, rows: [jobRow(value)], text: () => jobText(value) });
    }),
  );

  helpExamples(
    addBase(job.command('list').description('Jobs, newest first')).option(
      '--status <status>',
      `only jobs in this state: ${JOB_STATUSES.join(', ')}`,
    ),
    ['crosstown job list', 'crosstown job list --status posted --format csv'],
  ).action(
    run(async (o: BaseOptions & { status?: string }) => {
      if (o.status && !(JOB_STATUSES as readonly string[]).includes(o.status)) {
        throw new CliError(`--status "${o.status}" is not one of ${JOB_STATUSES.join(', ')}`, ExitCode.Usage);
      }
      const config = loadConfig(o);
      const jobs = (await readJobs(config))
        .filter((j) => !o.status || j.status === o.status)
        .sort((a, b) => b.createdAt - a.createdAt)
        .map(jobJson);
      printResult(o.format, {
        value: jobs,
        rows: jobs.map(jobRow),
        text: () =>
          jobs.length === 0
            ? 'No jobs.'
            : jobs
                .map(
                  (j) =>
                    `${j.id.slice(0, 16)}…  ${j.status.padEnd(15)} ${j.jobType.padEnd(20)} ${new Date(j.createdAt).toISOString()}`,
                )
                .join('\n'),
      });
    }),
  );

  helpExamples(
    addBase(
      job
        .command('cancel')
        .description('Stop waiting for a job that has no result yet (asks first unless --yes)'),
    ).argument('<jobId>', 'the job id'),
    ['crosstown job cancel 5abc123…', 'crosstown job cancel 5abc123… --yes --format json'],
    'A cancelled job is final: a result arriving later is not routed and its provider is not paid.',
  ).action(
    run(async (typed: string, o: BaseOptions) => {
      const config = loadConfig(o);
      const id = findJob(await readJobs(config), typed, config.name).id;
      const { confirm } = await import('../prompt.js');
      await confirm(`Cancel job ${id}?`, o);
      let record = (await ask(config, { op: 'cancel', id }).catch((err: Error) => {
        throw new CliError(
          `cannot cancel job ${id}: ${err.message}`,
          (err as { code?: string }).code === 'JOB_UNKNOWN' ? ExitCode.Usage : ExitCode.Failure,
        );
      })) as Wire | undefined;
      if (!record) {
        // No Mayor runs: change the state repository directly (the next start will not resume the job).
        const state = await openStateRepo({ dir: config.stateDir });
        try {
          if (!state.jobs.get(id))
            throw new CliError(
              `no job ${id} in Mayor ${config.name}: see \`crosstown job list\``,
              ExitCode.Usage,
            );
          try {
            record = state.jobs.put({ id, status: 'cancelled', error: 'cancelled by the operator' });
          } catch (err) {
            throw new CliError(`cannot cancel job ${id}: ${(err as Error).message}`, ExitCode.Failure);
          }
        } finally {
          await state.close();
        }
      }
      const value = jobJson(record);
      printResult(o.format, { value, rows: [jobRow(value)], text: () => `Cancelled.\n${jobText(value)}` });
    }),
  );
}
