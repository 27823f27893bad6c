// Runs the real `crosstown` binary (bin/crosstown.js) as a child process with a private CROSSTOWN_HOME.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = join(import.meta.dirname, '../../bin/crosstown.js');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function tempHome(): string {
  return mkdtempSync(join(tmpdir(), 'crosstown-cli-'));
}

/** The environment a test child gets: no inherited crosstown/gastown variables, only what the test sets. */
export function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(CROSSTOWN_|GASTOWN_)/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

export function runCli(args: string[], env: Record<string, string>, input?: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: cleanEnv(env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** Parses stdout as JSON, failing with the run's output when it does not parse. */
export function json(run: CliRun): unknown {
  try {
    return JSON.parse(run.stdout);
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.status}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}

export interface PtySession {
  /** Everything the terminal showed so far (echo included). */
  output(): string;
  /** Waits until the terminal shows `text`. */
  expect(text: string | RegExp, timeoutMs?: number): Promise<void>;
  send(text: string): void;
  exit: Promise<number | null>;
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * Runs the binary on a real pseudo-terminal (util-linux `script`), so prompts, hidden input and the dashboard
 * behave as for a person at a terminal.
 */
export function runInPty(args: string[], env: Record<string, string>): PtySession {
  // A fresh pty has no size (0 x 0): give it one, as a terminal window would.
  const cmd = `stty cols 120 rows 40; exec ${[process.execPath, BIN, ...args].map(quote).join(' ')}`;
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], {
    env: cleanEnv({ TERM: 'xterm-256color', COLUMNS: '120', LINES: '40', ...env }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  const wake: (() => void)[] = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of wake.splice(0)) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exit = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return {
    output: () => out,
    async expect(text, timeoutMs = 30_000) {
      const seen = () => (typeof text === 'string' ? out.includes(text) : text.test(out));
      const end = Date.now() + timeoutMs;
      while (!seen()) {
        if (Date.now() > end) throw new Error(`terminal never showed ${String(text)}; it showed:\n${out}`);
        await new Promise<void>((r) => {
          wake.push(r);
          setTimeout(r, 200);
        });
      }
    },
    send: (text) => child.stdin.write(text),
    exit,
  };
}
