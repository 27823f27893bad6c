// Job commands are started by a small helper process (process-host-child.ts), not by the Mayor itself. Starting a
// process from the Mayor forks all of it: a few hundred MB of page tables copied while its main thread stands still
// (about 40 ms per job in a profile of provider-e2e, issue 17), and everything that thread does for other jobs
// (claims, FULFILLs, in the devnet the whole node) waits. The helper is small, so its forks are cheap. It runs the
// same runProcess; only the outcome and the pid cross over. If it is not up yet, cannot start or dies, commands run
// here as before (a run it held is reported as failed to start, its process group killed). When the Mayor dies,
// the helper sees its channel close, kills the groups it started and exits (a restarted Mayor kills leftovers too).
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RunOptions, RunOutcome } from './process.js';

/** What the Mayor sends: a command to run (RunOptions without the callbacks) or an abort of one. */
export type HostRequest = { run: number; opts: Omit<RunOptions, 'signal' | 'onSpawn'> } | { abort: number };
/** What the helper answers: the pid once spawned, then the outcome. */
export type HostReply =
  | { spawned: number; pid: number }
  | { done: number; outcome: RunOutcome }
  | { ready: true };

interface Waiting {
  resolve: (o: RunOutcome) => void;
  opts: RunOptions;
  pid?: number;
  started: number;
}

class ProcessHost {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  ready = false;
  dead = false;

  constructor() {
    const fromSource = import.meta.url.endsWith('.ts');
    const entry = fileURLToPath(new URL(`./process-host-child.${fromSource ? 'ts' : 'js'}`, import.meta.url));
    const execArgv = fromSource
      ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href]
      : [];
    this.child = spawn(process.execPath, [...execArgv, entry], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    this.idle();
    this.child.on('message', (m: HostReply) => this.onReply(m));
    this.child.on('error', () => this.die());
    this.child.on('exit', () => this.die());
    this.child.on('disconnect', () => this.die());
  }

  run(opts: RunOptions): Promise<RunOutcome> {
    const id = this.nextId++;
    const { signal, onSpawn: _onSpawn, ...plain } = opts;
    return new Promise<RunOutcome>((resolve) => {
      this.waiting.set(id, { resolve, opts, started: performance.now() });
      this.busy();
      this.child.send({ run: id, opts: plain } satisfies HostRequest);
      const onAbort = () => {
        if (this.waiting.has(id) && !this.dead) this.child.send({ abort: id } satisfies HostRequest);
      };
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private onReply(m: HostReply): void {
    if ('ready' in m) {
      this.ready = true;
      return;
    }
    if ('spawned' in m) {
      const w = this.waiting.get(m.spawned);
      if (!w) return;
      w.pid = m.pid;
      w.opts.onSpawn?.(m.pid);
      return;
    }
    const w = this.waiting.get(m.done);
    if (!w) return;
    this.waiting.delete(m.done);
    if (this.waiting.size === 0) this.idle();
    w.resolve(m.outcome);
  }

  private die(): void {
    if (this.dead) return;
    this.dead = true;
    this.ready = false;
    if (host === this) host = undefined;
    for (const w of this.waiting.values()) {
      if (w.pid !== undefined) {
        try {
          process.kill(-w.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      w.resolve({
        exitCode: null,
        signal: null,
        timedOut: false,
        cancelled: false,
        outputOverflow: false,
        output: '',
        outputBytes: 0,
        outputSha256: 'e3b0c44298fc1c149afbe4c8996fb92427ae41e4649b934ca495991b7852b855',
        truncated: false,
        durationMs: performance.now() - w.started,
        spawnError: 'the process host stopped while the command ran; run the job again',
      });
    }
    this.waiting.clear();
  }

  /**
   * Closes the channel (the helper kills the groups it started and exits) and waits for the helper's exit; one that
   * has not exited within 2 s is killed.
   */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.die();
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    if (this.child.connected) this.child.disconnect();
    else this.child.kill('SIGKILL');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    timer.unref();
    await exited;
    clearTimeout(timer);
  }

  /** The helper does not keep the Mayor alive while no command runs. */
  private idle(): void {
    this.child.unref();
    (this.child.channel as { unref?: () => void } | undefined)?.unref?.();
  }

  private busy(): void {
    this.child.ref();
    (this.child.channel as { ref?: () => void } | undefined)?.ref?.();
  }
}

let host: ProcessHost | undefined;
let failures = 0;
/** Users of the helper (provider pools; several Mayors may run in one process): it stops when the last one stops. */
let users = 0;

/**
 * Joins the helper's users; returns this user's release, which stops the helper (and waits for its exit) when no
 * other user is left, so a stopped Mayor leaves no process behind.
 */
export function joinProcessHost(): () => Promise<void> {
  users++;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    if (--users > 0) return;
    await stopProcessHost();
  };
}

/** Stops the helper now (its runs end as not started, their groups killed) and waits for its exit. */
export async function stopProcessHost(): Promise<void> {
  const h = host;
  host = undefined;
  await h?.close();
}

/**
 * Runs `opts` in the helper when it is up; undefined when it is not (starting it for later calls), so the caller
 * runs the command itself. CROSSTOWN_PROCESS_HOST=0 turns the helper off.
 */
export function runInHost(opts: RunOptions): Promise<RunOutcome> | undefined {
  if (process.env.CROSSTOWN_PROCESS_HOST === '0') return undefined;
  if (host?.ready) return host.run(opts);
  if (!host && failures < 3) {
    try {
      host = new ProcessHost();
    } catch {
      failures++;
    }
  }
  return undefined;
}
