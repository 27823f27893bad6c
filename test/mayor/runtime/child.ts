// Runs the Mayor's main as a real child process (so SIGKILL hits the Mayor itself) and speaks its line protocol:
// passphrase first, JSON commands in, JSON events out. dist/mayor/main.js when the build is current (the launcher's
// rule, bin/dist-current.js: CI builds it in `npm ci`), else src/mayor/main.ts through tsx: the same code either way.
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { distState } from '../../../bin/dist-current.js';
import { runTag } from '../../support/global-setup.js';

const require = createRequire(import.meta.url);
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const MAIN = fileURLToPath(new URL('../../../src/mayor/main.ts', import.meta.url));
const MAIN_JS = fileURLToPath(new URL('../../../dist/mayor/main.js', import.meta.url));

export interface MayorChild {
  proc: ChildProcess;
  /** Every JSON line printed so far. */
  events: Record<string, unknown>[];
  stderr: string[];
  send(cmd: unknown): void;
  waitFor(
    pred: (e: Record<string, unknown>) => boolean,
    timeoutMs?: number,
    what?: string,
  ): Promise<Record<string, unknown>>;
  waitStderr(re: RegExp, timeoutMs?: number): Promise<string>;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export function spawnMayor(env: Record<string, string>, passphrase: string): MayorChild {
  const args =
    distState(ROOT) === 'current'
      ? [MAIN_JS]
      : ['--import', pathToFileURL(require.resolve('tsx')).href, MAIN];
  const proc = spawn(process.execPath, args, {
    // The run's tag (test/support/global-setup.ts) travels along, so a Mayor a test forgets is still killed.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...runTag(), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const events: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  let buf = '';
  let errBuf = '';
  const wake: (() => void)[] = [];
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        events.push(JSON.parse(line));
      } catch {}
    }
    for (const w of wake.splice(0)) w();
  });
  proc.stderr!.on('data', (d: Buffer) => {
    errBuf += d.toString();
    const parts = errBuf.split('\n');
    errBuf = parts.pop()!;
    stderr.push(...parts);
    for (const w of wake.splice(0)) w();
  });
  proc.on('exit', () => {
    for (const w of wake.splice(0)) w();
  });
  proc.stdin!.write(`${passphrase}\n`);
  const until = async <T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = find();
      if (hit !== undefined) return hit;
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(
          `mayor exited (${proc.exitCode ?? proc.signalCode}) before ${what}: ${stderr.slice(-5).join(' | ')}`,
        );
      }
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}; stderr: ${stderr.slice(-5).join(' | ')}`);
      await new Promise<void>((r) => {
        wake.push(r);
        setTimeout(r, 100);
      });
    }
  };
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    proc,
    events,
    stderr,
    send: (cmd) => proc.stdin!.write(`${JSON.stringify(cmd)}\n`),
    waitFor: (pred, timeoutMs = 30_000, what = 'event') => until(() => events.find(pred), timeoutMs, what),
    waitStderr: (re, timeoutMs = 30_000) =>
      until(() => stderr.find((l) => re.test(l)), timeoutMs, `stderr ${re}`),
    kill: async () => {
      proc.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.stdin!.write('{"stop":true}\n');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}
