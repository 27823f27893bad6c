// The state repository's owner lock under contention: several real processes take and release it in tight loops.
// Never two owners at once (each holds an O_EXCL marker while it owns the lock), and a process that finds the lock
// taken gets REPO_LOCKED, never an unexpected error (the lock released between its two looks, or seen before its
// owner had written its pid into it).
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock } from '../../src/mayor/state/recovery.js';
import { tempDir } from './state-helpers.js';

const require = createRequire(import.meta.url);
const CHILD = fileURLToPath(new URL('./state-lock-child.ts', import.meta.url));
const t = tempDir();
afterAll(() => t.cleanup());

function contend(
  dir: string,
  ms: number,
): Promise<{ acquired: number; refused: number; double: number; errors: string[] }> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', pathToFileURL(require.resolve('tsx')).href, CHILD, dir, String(ms)],
      { timeout: 30_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    ),
  );
}

describe('state repository owner lock', () => {
  it('four processes contending: never two owners, only REPO_LOCKED refusals', async () => {
    const dir = join(t.dir, 'contended');
    mkdirSync(join(dir, '.git'), { recursive: true });
    const runs = await Promise.all([1, 2, 3, 4].map(() => contend(dir, 2500)));
    const total = runs.reduce((a, r) => a + r.acquired, 0);
    expect(runs.flatMap((r) => r.errors)).toEqual([]);
    expect(runs.map((r) => r.double)).toEqual([0, 0, 0, 0]);
    expect(total).toBeGreaterThan(20);
    expect(runs.reduce((a, r) => a + r.refused, 0)).toBeGreaterThan(0);
  }, 60_000);

  it('takes over a lock whose process is gone, or that is empty; refuses a live owner', () => {
    const dir = join(t.dir, 'stale');
    mkdirSync(join(dir, '.git'), { recursive: true });
    const lock = join(dir, '.git', 'crosstown.lock');
    writeFileSync(lock, '2147483646\n'); // no such process
    const release = acquireLock(dir);
    expect(readFileSync(lock, 'utf8')).toBe(`${process.pid}\n`);
    expect(() => acquireLock(dir)).toThrow(/in use by process/);
    release();
    writeFileSync(lock, '');
    acquireLock(dir)();
  });
});
