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
