// Shared by the state/audit tests: temporary directories and plain git queries (the real git binary).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export function tempDir(prefix = 'crosstown-state-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function gitOut(dir: string, args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
  });
}

export function commitCount(dir: string): number {
  return Number(gitOut(dir, ['rev-list', '--count', 'HEAD']).trim());
}

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Runs a test child (`node --import tsx <script> ...args`) that ends by SIGKILLing itself; resolves with what it
 * printed. Rejects if it exits any other way (its stderr in the error).
 */
export function runUntilSelfKill(script: string, args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => {
      out += String(d);
    });
    proc.stderr.on('data', (d) => {
      err += String(d);
    });
    proc.on('exit', (code, signal) =>
      signal === 'SIGKILL' ? done(out) : fail(new Error(`child exited with ${code}: ${err}`)),
    );
  });
}

/** A payment channel record as the state repo keeps it, without its cumulative. */
export function testChannel(channelId: string) {
  return {
    channelId,
    direction: 'out' as const,
    chainId: 31337,
    contract: `0x${'11'.repeat(20)}`,
    counterparty: `0x${'22'.repeat(20)}`,
    deposit: 10n ** 20n,
  };
}
