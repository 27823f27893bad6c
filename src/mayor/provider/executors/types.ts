import type { ParsedJobRequest } from '../../../nostr/nip90.js';
import type { JobOutcome } from '../results.js';
import type { Sandbox } from '../sandbox.js';

/** What an executor gets for one job: its worktree, its limits, and how to tell the pool about processes. */
export interface ExecutionContext {
  job: ParsedJobRequest;
  /** The job's own worktree: empty at start, the only place it may write. */
  worktree: string;
  sandbox: Sandbox;
  timeoutMs: number;
  maxOutputBytes: number;
  /** Aborted when the job is cancelled or the pool stops. */
  signal: AbortSignal;
  /** Called with the process group id of every process the executor starts (the pool kills them on cancel/restart). */
  onSpawn(pid: number): void;
  /** URL schemes git inputs may use (operator setting). */
  gitProtocols: readonly string[];
}

/** One job type (`t` tag) a provider serves. */
export interface Executor {
  readonly jobType: string;
  /** Whether this machine can run the job type now (e.g. a Docker engine answers); advertised only then. */
  available(): Promise<boolean>;
  /** Why a request cannot be run (bad or missing inputs), or undefined; checked at intake, before acceptance. */
  check(job: ParsedJobRequest): string | undefined;
  run(ctx: ExecutionContext): Promise<JobOutcome>;
}
