// Runs one job command in its own process group and captures its output under a limit. The whole group is
// killed (SIGKILL to -pgid) on timeout, cancel or output overflow, so a job's background children die with it.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { runInHost } from './process-host.js';

export interface RunOptions {
  /** argv[0] is the program; no shell unless the caller asks for one. */
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** Output kept in memory (stdout and stderr interleaved); the rest is hashed and counted, not kept. */
  maxOutputBytes: number;
  /** Past this many bytes of output the group is killed: a job may not fill the disk or the CPU with logs. */
  killAfterOutputBytes?: number;
  signal?: AbortSignal;
  /** Called once the child exists, with its pid (= its process group id). */
  onSpawn?: (pid: number) => void;
  stdin?: Buffer;
}

export interface RunOutcome {
  /** null when killed by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  cancelled: boolean;
  /** The output overflowed killAfterOutputBytes and the group was killed. */
  outputOverflow: boolean;
  /** Kept output: the head, and when truncated also the tail, joined by a marker line. */
  output: string;
  /** Total bytes the process wrote. */
  outputBytes: number;
  /** sha256 (hex) of everything the process wrote, kept or not. */
  outputSha256: string;
  truncated: boolean;
  durationMs: number;
  /** Set when the program could not be started at all. */
  spawnError?: string;
}

/** Most of the kept output that comes from the end of the stream. */
const TAIL_BYTES = 16 * 1024;

export function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Runs the command through the small helper process when it is up (process-host.ts), else here. */
export function runProcess(opts: RunOptions): Promise<RunOutcome> {
  return runInHost(opts) ?? runProcessHere(opts);
}

/** Runs the command from this process. */
export function runProcessHere(opts: RunOptions): Promise<RunOutcome> {
  const started = performance.now();
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headBytes = 0;
  // The tail keeps the last TAIL_BYTES: test runners print their summary at the end.
  let tail = Buffer.alloc(0);
  let total = 0;
  let timedOut = false;
  let cancelled = false;
  let overflow = false;
  const tailLimit = Math.min(TAIL_BYTES, Math.floor(opts.maxOutputBytes / 2));
  const headLimit = opts.maxOutputBytes - tailLimit;
  const killAfter = opts.killAfterOutputBytes ?? Math.max(opts.maxOutputBytes * 16, 64 * 1024 * 1024);

  return new Promise((resolve) => {
    const child = spawn(opts.argv[0]!, opts.argv.slice(1), {
      cwd: opts.cwd,
      env: opts.env,
      detached: true, // own process group: kill(-pid) reaches every descendant that stays in it
      stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    const killAll = () => {
      if (pid !== undefined) killGroup(pid);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killAll();
    }, opts.timeoutMs);
    const onAbort = () => {
      cancelled = true;
      killAll();
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (pid !== undefined) opts.onSpawn?.(pid);
    if (opts.stdin && child.stdin) {
      child.stdin.on('error', () => {});
      child.stdin.end(opts.stdin);
    }

    const onData = (chunk: Buffer) => {
      total += chunk.length;
      hash.update(chunk);
      if (headBytes < headLimit) {
        const take = chunk.subarray(0, headLimit - headBytes);
        head.push(take);
        headBytes += take.length;
      }
      const joined = Buffer.concat([tail, chunk]);
      tail = joined.length <= tailLimit ? joined : joined.subarray(joined.length - tailLimit);
      if (total > killAfter && !overflow) {
        overflow = true;
        killAll();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);

    let spawnError: string | undefined;
    child.on('error', (err) => {
      spawnError = `could not start ${opts.argv[0]}: ${err.message}`;
    });
    // The leader is gone: anything left in its group (a backgrounded grandchild holding the pipes) goes too,
    // or 'close' would wait for it.
    child.on('exit', killAll);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const truncated = total > opts.maxOutputBytes;
      let output: string;
      if (!truncated) {
        const rest = total - headBytes; // bytes after the head; all of them are in the tail
        output = Buffer.concat([...head, tail.subarray(tail.length - rest)]).toString('utf8');
      } else {
        const omitted = total - headBytes - tail.length;
        output = `${Buffer.concat(head).toString('utf8')}\n[... ${omitted} bytes omitted ...]\n${tail.toString('utf8')}`;
      }
      const outcome: RunOutcome = {
        exitCode: code,
        signal,
        timedOut,
        cancelled,
        outputOverflow: overflow,
        output,
        outputBytes: total,
        outputSha256: hash.digest('hex'),
        truncated,
        durationMs: performance.now() - started,
      };
      if (spawnError !== undefined) outcome.spawnError = spawnError;
      resolve(outcome);
    });
  });
}
