// The Mayor's git-backed state: jobs, chains of jobs, subscriptions and channels, one file each.
// The in-memory view changes synchronously; files and commits follow through the one commit queue.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Filter } from '../../nostr/types.js';
import {
  assertId,
  compact,
  decodeChain,
  decodeChannel,
  decodeJob,
  decodeSubscription,
  encodeChain,
  encodeChannel,
  encodeJob,
  encodeSubscriptions,
} from './codec.js';
import { StateError } from './errors.js';
import { CommitQueue, type CommitStats, type FileOp } from './queue.js';
import {
  acquireLock,
  commitLeftovers,
  initRepo,
  removeStaleGitLocks,
  removeTmpFiles,
  truncatePartialLines,
  updateGitignore,
} from './recovery.js';
import { assertTransition, INITIAL_STATUSES, isTerminal } from './transitions.js';
import {
  type ChainRecord,
  type ChainStep,
  type ChannelRecord,
  JOB_STATUSES,
  type JobRecord,
  type JobStatus,
  type JobTransition,
  type SubscriptionRecord,
} from './types.js';

export interface OpenStateRepoOptions {
  /** Repository directory, e.g. `~/.crosstown/<mayor-name>` (created 0700 if missing). */
  dir: string;
  /** Clock in Unix milliseconds (tests move it). */
  now?: () => number;
  /** Called when a background commit fails (flush() also rejects). Default: print to stderr. */
  onError?: (err: unknown) => void;
  /** How long a git lock file may take to disappear (a git of a killed Mayor finishing) before it is deleted. */
  staleLockWaitMs?: number;
  /**
   * How long durable changes gather before one git commit takes them all (default 1 s; flush() and close()
   * do not wait for it). Durability does not depend on it: a change is durable before its commit.
   */
  commitDelayMs?: number;
}

/** What opening found and repaired, and where the jobs stand. */
export interface RecoveryReport {
  /** True when the repository was created by this open. */
  created: boolean;
  staleGitLocks: string[];
  tmpFilesRemoved: string[];
  /** `.jsonl` files whose half-written last line was dropped. */
  truncatedLogs: string[];
  /** True when uncommitted changes from an interrupted run were committed. */
  committedLeftovers: boolean;
  /** Job ids by status, as loaded. */
  jobsByStatus: Record<JobStatus, string[]>;
  /** Jobs not in a final state: the runtime resumes these. */
  pendingJobs: string[];
  /** Milliseconds the open took. */
  openMs: number;
}

/** Fields of a job that may change without a status change. */
export type JobUpdate = Omit<JobTransition, 'status' | 'kind' | 'jobType' | 'callbackSkill'>;

export interface ChainInput {
  id: string;
  steps: ChainStep[];
  current?: number;
  status?: ChainRecord['status'];
}

export interface ChannelInput {
  channelId: string;
  direction: 'out' | 'in';
  chainId: number;
  contract: string;
  counterparty: string;
  deposit: bigint;
  cumulativeSigned: bigint;
  lastClaim?: { amount: bigint; signature: string; at: number };
}

export interface StateRepo {
  readonly dir: string;
  readonly recovery: RecoveryReport;
  readonly jobs: {
    get(id: string): JobRecord | undefined;
    list(filter?: { status?: JobStatus | JobStatus[] }): JobRecord[];
    /** Validates and applies a transition; the returned record is already the in-memory truth. */
    put(transition: JobTransition): JobRecord;
    /** Sets fields that became known (provider, amount, …) without a status change; not on final jobs. */
    update(fields: JobUpdate): JobRecord;
    /** Jobs not yet in a final state (paid, failed, cancelled). */
    pending(): JobRecord[];
    byStatus(): Record<JobStatus, string[]>;
  };
  readonly chains: {
    get(id: string): ChainRecord | undefined;
    list(): ChainRecord[];
    put(chain: ChainInput): ChainRecord;
  };
  readonly subscriptions: {
    get(name: string): SubscriptionRecord | undefined;
    list(): SubscriptionRecord[];
    set(name: string, filters: Filter[], since?: number): SubscriptionRecord;
    remove(name: string): boolean;
  };
  readonly channels: {
    get(channelId: string): ChannelRecord | undefined;
    list(): ChannelRecord[];
    put(channel: ChannelInput): ChannelRecord;
    /**
     * Drops a channel record the chain no longer has (a chain reset: a new channel may even get the same id).
     * Returns false if there was none. Only for that case: records otherwise never go back.
     */
    forget(channelId: string, reason: string): boolean;
  };
  /**
   * Raw file changes through the same commit queue, for other Mayor modules (the payment audit).
   * Paths are relative to the repository root.
   */
  readonly files: {
    append(path: string, data: string, message: string): void;
    rename(from: string, to: string, message: string): void;
    remove(path: string, message: string): void;
  };
  /**
   * Resolves when every change made before the call is durable: written atomically and fsynced, so a crash
   * cannot lose it (the next open commits it). Its git commit follows in the background. Rejects if the write
   * failed. This is what the runtime waits on before a PREPARE leaves or a result is routed. Channel records are
   * the exception: they are written beside the other changes, not in their order (flush() and close() wait for
   * them; a Mayor that lost one in a crash resyncs with its node at start).
   */
  durable(): Promise<void>;
  /**
   * durable() without waiting for record files (jobs, chains, channels, subscriptions): every append, new file,
   * rename and removal made before the call is fsynced. For an effect guarded only by such a file (an intent
   * line), when a restart does not need the record transition made with it.
   */
  logged(): Promise<void>;
  /** Resolves when every change made before the call is durable and committed to git. */
  flush(): Promise<void>;
  stats(): CommitStats;
  /** Flushes, releases the owner lock; later changes throw CLOSED. */
  close(): Promise<void>;
}

function emptyIndex(): Record<JobStatus, string[]> {
  return Object.fromEntries(JOB_STATUSES.map((s) => [s, [] as string[]])) as unknown as Record<
    JobStatus,
    string[]
  >;
}

function readJsonFile(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new StateError(
      'REPO_CORRUPT',
      `${path} is not valid JSON: restore the committed version (git checkout -- <file>) or remove it.`,
      { cause: err },
    );
  }
}

function loadDir<T>(dir: string, sub: string, decode: (where: string, raw: unknown) => T): T[] {
  const d = join(dir, sub);
  if (!existsSync(d)) return [];
  const out: T[] = [];
  for (const f of readdirSync(d)) {
    if (!f.endsWith('.json')) continue;
    const path = join(d, f);
    try {
      out.push(decode(path, readJsonFile(path)));
    } catch (err) {
      if (err instanceof StateError && err.code === 'INVALID_RECORD') {
        throw new StateError('REPO_CORRUPT', `${err.message} (restore it with git or remove it)`, {
          cause: err,
        });
      }
      throw err;
    }
  }
  return out;
}

/**
 * The job records as they are on disk, for commands that only look (`job status`, `job list`): no lock, no git, no
 * recovery, nothing written, so it is fast and works beside a running Mayor. Records are replaced by atomic renames,
 * so each file read is a whole record; an interrupted write leaves a temporary file, which is skipped.
 */
export function readJobsSnapshot(dir: string): JobRecord[] {
  return loadDir(resolve(dir), 'jobs', decodeJob);
}

/** Opens (creating if needed) a state repository, recovers from any crash, and loads every record. */
export async function openStateRepo(options: OpenStateRepoOptions): Promise<StateRepo> {
  const started = performance.now();
  const dir = resolve(options.dir);
  const now = options.now ?? Date.now;
  const created = await initRepo(dir);
  const release = acquireLock(dir);
  try {
    const staleGitLocks = await removeStaleGitLocks(dir, options.staleLockWaitMs);
    const tmpFilesRemoved = removeTmpFiles(dir);
    const truncatedLogs = truncatePartialLines(dir);
    updateGitignore(dir); // committed with the leftovers, if any, or with the next commit
    const committedLeftovers = await commitLeftovers(dir);
    const repo = load(dir, now, release, options.onError ?? defaultOnError, options.commitDelayMs);
    const jobsByStatus = repo.jobs.byStatus();
    const recovery: RecoveryReport = {
      created,
      staleGitLocks,
      tmpFilesRemoved,
      truncatedLogs,
      committedLeftovers,
      jobsByStatus,
      pendingJobs: repo.jobs.pending().map((j) => j.id),
      openMs: performance.now() - started,
    };
    return { ...repo, recovery };
  } catch (err) {
    release();
    throw err;
  }
}

function defaultOnError(err: unknown): void {
  console.error(`crosstown: state commit failed: ${err instanceof Error ? err.message : String(err)}`);
}

function load(
  dir: string,
  now: () => number,
  release: () => void,
  onError: (err: unknown) => void,
  commitDelayMs?: number,
): Omit<StateRepo, 'recovery'> {
  const jobs = new Map<string, JobRecord>();
  const statusIndex = new Map<JobStatus, Set<string>>(JOB_STATUSES.map((s) => [s, new Set()]));
  for (const j of loadDir(dir, 'jobs', decodeJob)) {
    jobs.set(j.id, j);
    statusIndex.get(j.status)!.add(j.id);
  }
  const chains = new Map<string, ChainRecord>(loadDir(dir, 'chains', decodeChain).map((c) => [c.id, c]));
  const channels = new Map<string, ChannelRecord>(
    loadDir(dir, 'channels', decodeChannel).map((c) => [c.channelId, c]),
  );
  const subs = new Map<string, SubscriptionRecord>();
  const subsPath = join(dir, 'subscriptions.json');
  if (existsSync(subsPath)) {
    const raw = readJsonFile(subsPath);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new StateError('REPO_CORRUPT', `${subsPath} must hold an object of named subscriptions.`);
    }
    for (const [name, v] of Object.entries(raw)) subs.set(name, decodeSubscription(subsPath, name, v));
  }

  const queue = new CommitQueue(dir, onError, commitDelayMs);
  let closed = false;
  const live = () => {
    if (closed)
      throw new StateError('CLOSED', `State repository ${dir} is closed: open it again to make changes.`);
  };
  const writeOp = (path: string, render: () => string | null): FileOp => ({ type: 'write', path, render });
  const jobOp = (id: string) =>
    writeOp(`jobs/${id}.json`, () => {
      const j = jobs.get(id);
      return j ? encodeJob(j) : null;
    });
  const subsOp = writeOp('subscriptions.json', () => encodeSubscriptions(subs.values()));

  const putJob = (t: JobTransition, fieldsOnly = false): JobRecord => {
    live();
    assertId('job', t.id);
    const at = t.at ?? now();
    const prev = jobs.get(t.id);
    if (!JOB_STATUSES.includes(t.status)) {
      throw new StateError(
        'INVALID_RECORD',
        `Job ${t.id}: status must be one of ${JOB_STATUSES.join(', ')}.`,
      );
    }
    for (const f of ['price', 'bid', 'amount'] as const) {
      const v = t[f];
      if (v !== undefined && (typeof v !== 'bigint' || v < 0n)) {
        throw new StateError(
          'INVALID_RECORD',
          `Job ${t.id}: ${f} must be a non-negative bigint of base units.`,
        );
      }
    }
    let next: JobRecord;
    if (fieldsOnly) {
      if (!prev)
        throw new StateError('UNKNOWN_JOB', `Job ${t.id} is not known: create it first with status posting.`);
      if (isTerminal(prev.status)) {
        throw new StateError(
          'INVALID_TRANSITION',
          `Job ${t.id} is ${prev.status}, which is final: it cannot change.`,
        );
      }
      next = { ...prev, updatedAt: at };
    } else if (!prev) {
      if (!INITIAL_STATUSES.includes(t.status)) {
        throw new StateError(
          'UNKNOWN_JOB',
          `Job ${t.id} is not known, so it cannot become ${t.status}: create it first with status posting.`,
        );
      }
      if (!Number.isSafeInteger(t.kind) || t.kind! < 0 || !t.jobType || !t.callbackSkill) {
        throw new StateError(
          'INVALID_RECORD',
          `New job ${t.id} needs kind (an integer such as 5065), jobType and callbackSkill.`,
        );
      }
      next = {
        id: t.id,
        kind: t.kind!,
        jobType: t.jobType,
        callbackSkill: t.callbackSkill,
        status: t.status,
        createdAt: at,
        updatedAt: at,
        history: [{ status: t.status, at }],
      };
    } else {
      assertTransition(t.id, prev.status, t.status);
      next = {
        ...prev,
        status: t.status,
        updatedAt: at,
        history: [...prev.history, { status: t.status, at }],
      };
    }
    const fields = [
      'price',
      'bid',
      'amount',
      'resultEventId',
      'provider',
      'chainId',
      'settlementChainId',
      'error',
      'repostedAs',
    ] as const;
    for (const f of fields) if (t[f] !== undefined) (next as unknown as Record<string, unknown>)[f] = t[f];
    if (next.chainId !== undefined) assertId('chain', next.chainId);
    if (next.repostedAs !== undefined) assertId('job', next.repostedAs);
    Object.freeze(next.history);
    const frozen = Object.freeze(compact(next));
    jobs.set(t.id, frozen);
    if (prev) statusIndex.get(prev.status)!.delete(t.id);
    statusIndex.get(frozen.status)!.add(t.id);
    const what = fieldsOnly ? `${t.status} (update)` : `${prev ? `${prev.status} -> ` : ''}${t.status}`;
    queue.enqueue([jobOp(t.id)], `job ${t.id}: ${what}`);
    return frozen;
  };

  const putChain = (input: ChainInput): ChainRecord => {
    live();
    const prev = chains.get(input.id);
    const at = now();
    const record = decodeChain(`chain ${input.id}`, {
      id: input.id,
      steps: input.steps,
      current: input.current ?? prev?.current ?? 0,
      status: input.status ?? prev?.status ?? 'running',
      createdAt: prev?.createdAt ?? at,
      updatedAt: at,
    });
    chains.set(record.id, record);
    queue.enqueue(
      [writeOp(`chains/${record.id}.json`, () => encodeChain(chains.get(record.id)!))],
      `chain ${record.id}: step ${record.current}/${record.steps.length} ${record.status}`,
    );
    return record;
  };

  const putChannel = (input: ChannelInput): ChannelRecord => {
    live();
    const where = `channel ${input.channelId}`;
    const prev = channels.get(input.channelId);
    const enc = (v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
    const record = decodeChannel(where, {
      ...input,
      deposit: enc(input.deposit),
      cumulativeSigned: enc(input.cumulativeSigned),
      lastClaim: input.lastClaim && { ...input.lastClaim, amount: enc(input.lastClaim.amount) },
      updatedAt: now(),
    });
    if (record.cumulativeSigned > record.deposit) {
      throw new StateError(
        'INVALID_RECORD',
        `${where}: cumulative ${record.cumulativeSigned} exceeds the deposit ${record.deposit}; top the channel up first.`,
      );
    }
    if (prev && record.cumulativeSigned < prev.cumulativeSigned) {
      throw new StateError(
        'INVALID_RECORD',
        `${where}: cumulative claims never decrease (was ${prev.cumulativeSigned}, got ${record.cumulativeSigned}); check the chain, which is the source of truth.`,
      );
    }
    if (prev && (prev.direction !== record.direction || prev.chainId !== record.chainId)) {
      throw new StateError('INVALID_RECORD', `${where}: direction and chain id of a channel cannot change.`);
    }
    channels.set(record.channelId, record);
    // Unordered: a job's transition must not queue behind it, and a Mayor that lost it resyncs with its node.
    queue.enqueueUnordered(
      // Rendered when written: the record as it is then, or none (a forget in the same batch: removals run before
      // records are written, so an unconditional write would bring a forgotten channel back).
      [
        writeOp(`channels/${record.channelId}.json`, () => {
          const current = channels.get(record.channelId);
          return current ? encodeChannel(current) : null;
        }),
      ],
      `channel ${record.channelId}: deposit ${record.deposit} cumulative ${record.cumulativeSigned}`,
    );
    return record;
  };

  const checkPath = (path: string) => {
    const parts = path.split('/');
    if (
      !/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(path) ||
      parts.some((p) => p === '..' || p === '.git')
    ) {
      throw new StateError(
        'INVALID_RECORD',
        `Path ${JSON.stringify(path)} must stay inside the state repository.`,
      );
    }
    // Record files are written only by their typed APIs, which validate them.
    if (['jobs', 'chains', 'channels', 'subscriptions.json', '.gitignore'].includes(parts[0]!)) {
      throw new StateError('INVALID_RECORD', `Path ${path} belongs to a record type: use its API instead.`);
    }
  };

  return {
    dir,
    jobs: {
      get: (id) => jobs.get(id),
      list: (filter) => {
        if (!filter?.status) return [...jobs.values()];
        const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
        return statuses.flatMap((s) => [...(statusIndex.get(s) ?? [])].map((id) => jobs.get(id)!));
      },
      put: (t) => putJob(t),
      update: (fields) => {
        const prev = jobs.get(fields.id);
        return putJob({ ...fields, status: prev?.status ?? 'posting' }, true);
      },
      pending: () => [...jobs.values()].filter((j) => !isTerminal(j.status)),
      byStatus: () => {
        const out = emptyIndex();
        for (const [s, ids] of statusIndex) out[s] = [...ids];
        return out;
      },
    },
    chains: { get: (id) => chains.get(id), list: () => [...chains.values()], put: putChain },
    subscriptions: {
      get: (name) => subs.get(name),
      list: () => [...subs.values()],
      set: (name, filters, since) => {
        live();
        const rec = decodeSubscription(`subscription ${name}`, name, { filters, since });
        subs.set(name, rec);
        queue.enqueue(
          [subsOp],
          `subscription ${name}: ${filters.length} filter(s)${since ? ` since ${since}` : ''}`,
        );
        return rec;
      },
      remove: (name) => {
        live();
        if (!subs.delete(name)) return false;
        queue.enqueue([subsOp], `subscription ${name}: removed`);
        return true;
      },
    },
    channels: {
      get: (id) => channels.get(id),
      list: () => [...channels.values()],
      put: putChannel,
      forget: (id, reason) => {
        live();
        if (!channels.delete(id)) return false;
        // The lane of its writes (put): the two never race on one file.
        queue.enqueueUnordered(
          [{ type: 'remove', path: `channels/${id}.json` }],
          `channel ${id}: forgotten (${reason})`,
        );
        return true;
      },
    },
    files: {
      append: (path, data, message) => {
        live();
        checkPath(path);
        queue.enqueue([{ type: 'append', path, data }], message);
      },
      rename: (from, to, message) => {
        live();
        checkPath(from);
        checkPath(to);
        queue.enqueue([{ type: 'rename', from, to }], message);
      },
      remove: (path, message) => {
        live();
        checkPath(path);
        queue.enqueue([{ type: 'remove', path }], message);
      },
    },
    durable: () => queue.durable(),
    logged: () => queue.logged(),
    flush: () => queue.flush(),
    stats: () => queue.stats(),
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        await queue.flush();
      } finally {
        release();
      }
    },
  };
}
