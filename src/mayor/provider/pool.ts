// The Polecat pool: at most `size` jobs run at once, each in its own worktree and branch, under a time and
// output limit, in its own process group. Accepted jobs are remembered in polecats.json until they finish,
// so a provider that crashes finds them on restart (see `recover`).

import type { ParsedJobRequest } from '../../nostr/nip90.js';
import { mark } from '../../transport/trace.js';
import { errorOutcome } from './executors/common.js';
import type { Executor } from './executors/types.js';
import { killJobProcesses } from './orphans.js';
import {
  type PersistedJob,
  type PoolStateFile,
  PoolStateWriter,
  processStartTime,
  readPoolState,
  writePoolState,
} from './pool-state.js';
import { joinProcessHost } from './process-host.js';
import type { JobOutcome } from './results.js';
import type { Sandbox } from './sandbox.js';
import type { WorkRepo } from './worktree.js';

export interface PoolLimits {
  timeoutMs: number;
  maxOutputBytes: number;
}

export interface PoolOptions {
  home: string;
  repo: WorkRepo;
  sandbox: Sandbox;
  executors: ReadonlyMap<string, Executor>;
  /** Jobs running at once (default 4). */
  size?: number;
  limits: PoolLimits;
  gitProtocols: readonly string[];
  /** Keep worktrees after jobs finish (debugging); default false. */
  keepWorktrees?: boolean;
  /** Worktrees kept ready ahead of jobs (default min(size, 2)); 0 creates each one when its job starts. */
  warmWorktrees?: number;
}

/** A job the previous provider process accepted and never finished. */
export interface InterruptedJob {
  request: ParsedJobRequest['event'];
  attempt: number;
  wasRunning: boolean;
}

export interface PoolRun {
  outcome: JobOutcome;
  /** The worktree the job ran in (removed by the time the promise resolves, unless keepWorktrees). */
  worktree: string;
  /** Pool time from start to outcome besides the executor's own command (queue wait excluded). */
  overheadMs: number;
  /** Time spent afterwards removing the worktree and making a warm one to replace it. */
  cleanupMs: number;
  /** When (performance.now()) the job's acceptance was durable, its command started and ended, for benches. */
  marks?: { accepted?: number; started?: number; finished?: number };
}

/** Called with the outcome while the worktree still exists (the service publishes the result here). */
export type BeforeCleanup = (run: PoolRun) => Promise<void>;

interface Slot {
  job: ParsedJobRequest;
  attempt: number;
  controller: AbortController;
  start: () => void;
  /** Resolves once the job's acceptance is durable in polecats.json (its command starts only after). */
  accepted: Promise<void>;
}

export class PolecatPool {
  readonly size: number;
  private readonly opts: PoolOptions;
  private state: PoolStateFile = { version: 1, jobs: {} };
  private readonly waiting: Slot[] = [];
  private readonly active = new Map<string, Slot>();
  private readonly all = new Map<string, Slot>();
  private stopped = false;
  private readonly warmTarget: number;
  private warming: Promise<void> = Promise.resolve();
  private readonly writer: PoolStateWriter;
  /** Stops the helper process that runs job commands once no other pool uses it (process-host.ts). */
  private readonly releaseHost = joinProcessHost();

  constructor(options: PoolOptions) {
    this.opts = options;
    this.writer = new PoolStateWriter(options.home, () => this.state);
    this.size = options.size ?? 4;
    this.warmTarget = options.warmWorktrees ?? Math.min(this.size, 2);
  }

  /** Jobs accepted and not finished (running + queued). */
  get inFlight(): number {
    return this.all.size;
  }

  get running(): number {
    return this.active.size;
  }

  has(jobId: string): boolean {
    return this.all.has(jobId);
  }

  /**
   * Resolves once `jobId`'s acceptance is durable (fsynced in polecats.json), so a crash from then on finds it;
   * rejects if that write failed. Resolved for a job the pool does not hold.
   */
  accepted(jobId: string): Promise<void> {
    return this.all.get(jobId)?.accepted ?? Promise.resolve();
  }

  /**
   * Call once before submitting: reads what a previous process left, kills its surviving process groups,
   * removes every stale worktree and branch, and returns the jobs it never finished (the caller reports or
   * re-runs them; they are forgotten here).
   */
  async recover(): Promise<InterruptedJob[]> {
    await this.opts.repo.init();
    const previous = readPoolState(this.opts.home);
    for (const [jobId, job] of Object.entries(previous.jobs))
      await killJobProcesses(job.processes, this.opts.repo.pathFor(jobId));
    await this.opts.repo.prune(new Set());
    this.state = { version: 1, jobs: {} };
    writePoolState(this.opts.home, this.state);
    // In the background: the first jobs may start before these are ready and make their own.
    this.warm();
    return Object.values(previous.jobs).map((j: PersistedJob) => ({
      request: j.request,
      attempt: j.attempt,
      wasRunning: j.state === 'running',
    }));
  }

  /** Queues a job; resolves when it has finished and its worktree is gone. Never rejects for job failures. */
  submit(job: ParsedJobRequest, attempt = 1, beforeCleanup?: BeforeCleanup): Promise<PoolRun> {
    if (this.stopped)
      return Promise.resolve({
        outcome: errorOutcome('provider is stopping'),
        worktree: '',
        overheadMs: 0,
        cleanupMs: 0,
      });
    if (this.all.has(job.id)) throw new Error(`job ${job.id} is already in the pool`);
    // The acceptance goes to the disk on the thread pool (one fsync, off the main thread) while the job waits for
    // a Polecat and its worktree; the command starts only once it is durable.
    const marks: NonNullable<PoolRun['marks']> = {};
    const accepted = this.persist(job.id, {
      request: job.event,
      state: 'queued',
      acceptedAt: Date.now(),
      attempt,
      processes: [],
    }).then(() => {
      marks.accepted = performance.now();
      mark('pool: accepted durable');
    });
    accepted.catch(() => {}); // reported by execute() (the job fails with it)
    return new Promise<PoolRun>((resolve) => {
      const slot: Slot = {
        job,
        attempt,
        accepted,
        controller: new AbortController(),
        start: () => {
          this.execute(slot, marks, beforeCleanup).then(resolve, (err: Error) =>
            resolve({
              outcome: errorOutcome(`provider error: ${err.message}`),
              worktree: '',
              overheadMs: 0,
              cleanupMs: 0,
            }),
          );
        },
      };
      this.all.set(job.id, slot);
      this.waiting.push(slot);
      this.pump();
    });
  }

  /** Cancels a queued or running job (its process groups are killed); false when the pool does not have it. */
  cancel(jobId: string): boolean {
    const slot = this.all.get(jobId);
    if (!slot) return false;
    slot.controller.abort();
    // A queued job finishes now (as cancelled) instead of waiting for a free Polecat.
    const queued = this.waiting.indexOf(slot);
    if (queued >= 0) {
      this.waiting.splice(queued, 1);
      slot.start();
    }
    return true;
  }

  /** Cancels everything and waits for the pool to drain. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const slot of this.all.values()) slot.controller.abort();
    while (this.all.size > 0) await new Promise((r) => setTimeout(r, 10));
    try {
      await this.warming;
      await this.writer.idle();
    } finally {
      await this.releaseHost();
    }
  }

  /** Tops up the warm worktrees; the promise never rejects. */
  private warm(): Promise<void> {
    if (this.stopped || this.warmTarget <= 0) return this.warming;
    const next = this.opts.repo.warm(this.warmTarget);
    this.warming = Promise.all([this.warming, next]).then(() => {});
    return next;
  }

  private pump(): void {
    while (this.active.size < this.size && this.waiting.length > 0) {
      const slot = this.waiting.shift()!;
      this.active.set(slot.job.id, slot);
      slot.start();
    }
  }

  private async execute(
    slot: Slot,
    marks: NonNullable<PoolRun['marks']>,
    beforeCleanup?: BeforeCleanup,
  ): Promise<PoolRun> {
    const t0 = performance.now();
    const { job } = slot;
    const entry = this.state.jobs[job.id];
    const run: PoolRun = {
      outcome: errorOutcome('job cancelled'),
      worktree: '',
      overheadMs: 0,
      cleanupMs: 0,
      marks,
    };
    try {
      if (slot.controller.signal.aborted) return run;
      const executor = this.opts.executors.get(job.jobType);
      if (!executor) {
        run.outcome = errorOutcome(`job type ${job.jobType} is not served`);
        return run;
      }
      // Marked running in memory; written with the first process id (the only fact recovery acts on).
      if (entry) entry.state = 'running';
      run.worktree = await this.opts.repo.add(job.id);
      mark('pool: worktree ready');
      await slot.accepted;
      mark('pool: command start');
      const c0 = performance.now();
      marks.started = c0;
      run.outcome = await executor.run({
        job,
        worktree: run.worktree,
        sandbox: this.opts.sandbox,
        timeoutMs: this.opts.limits.timeoutMs,
        maxOutputBytes: this.opts.limits.maxOutputBytes,
        signal: slot.controller.signal,
        gitProtocols: this.opts.gitProtocols,
        onSpawn: (pid) => {
          entry?.processes.push({ pid, startTime: processStartTime(pid) });
          this.writer.write(false).catch(() => {}); // a plain rename: the process ids matter only while this machine stays up
        },
      });
      marks.finished = performance.now();
      mark('pool: command end');
      // The command's own time, as the executor measured it (never more than the executor took).
      const commandMs = Math.min(performance.now() - c0, run.outcome.durationMs);
      run.overheadMs = performance.now() - t0 - commandMs;
      await beforeCleanup?.(run);
      return run;
    } finally {
      const c1 = performance.now();
      // Unsandboxed, a job can leave a process outside its group (setsid) still working in its worktree; in
      // bwrap, the pid namespace took everything with it.
      if (run.worktree && this.opts.sandbox.kind === 'none') await killJobProcesses([], run.worktree);
      if (run.worktree && !this.opts.keepWorktrees) await this.opts.repo.remove(job.id).catch(() => {});
      // Replace the worktree this job used while its slot is still held (after its result went out), so the
      // next job finds one ready. Skipped when jobs are waiting: they should start now.
      if (this.waiting.length === 0) await this.warm();
      run.cleanupMs = performance.now() - c1;
      delete this.state.jobs[job.id];
      await this.writer.write(false).catch(() => {});
      this.active.delete(job.id);
      this.all.delete(job.id);
      this.pump();
    }
  }

  private persist(jobId: string, job: PersistedJob): Promise<void> {
    this.state.jobs[jobId] = job;
    return this.writer.write(true);
  }
}
