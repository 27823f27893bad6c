// Crash safety for real: a child process writing transitions is SIGKILLed at a random moment, several times
// over the same repository. Every transition the child reported as flushed must survive, git must be
// consistent, and the working tree clean after the recovery on open.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStateRepo } from '../../src/mayor/state/index.js';
import { gitOut, runUntilSelfKill, tempDir } from './state-helpers.js';

const root = resolve(import.meta.dirname, '../..');
const child = join(root, 'test/mayor/state-crash-child.ts');
const tmp = tempDir('crosstown-crash-');
afterAll(() => tmp.cleanup());

/** Runs the child until it has reported `minFlushed` jobs flushed, waits `extraMs`, SIGKILLs it. */
function runAndKill(
  dir: string,
  prefix: string,
  minFlushed: number,
  extraMs: number,
  mode: 'flush' | 'durable' = 'flush',
): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, prefix, mode], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let flushed = -1;
    let buf = '';
    let stderr = '';
    let killing = false;
    proc.stderr.on('data', (d) => {
      stderr += String(d);
    });
    proc.stdout.on('data', (d) => {
      buf += String(d);
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        const m = /^F (\d+)$/.exec(line);
        if (m) flushed = Math.max(flushed, Number(m[1]));
      }
      if (!killing && flushed >= minFlushed) {
        killing = true;
        setTimeout(() => proc.kill('SIGKILL'), extraMs);
      }
    });
    proc.on('exit', (code, signal) => {
      // Lines written before the kill may still sit in the pipe: take them too.
      for (const line of buf.split('\n')) {
        const m = /^F (\d+)$/.exec(line);
        if (m) flushed = Math.max(flushed, Number(m[1]));
      }
      if (signal !== 'SIGKILL') reject(new Error(`child exited with ${code}: ${stderr}`));
      else resolvePromise(flushed);
    });
  });
}

describe('state repo: SIGKILL crash safety', () => {
  for (const mode of ['flush', 'durable'] as const) {
    it(`keeps every ${mode === 'flush' ? 'flushed (committed)' : 'durable (fsynced, maybe not committed)'} transition across repeated SIGKILLs; fsck passes; clean after open`, async () => {
      const dir = join(tmp.dir, `mayor-${mode}`);
      const rounds = [
        { prefix: 'a', min: 40, extra: 0 },
        { prefix: 'b', min: 120, extra: 7 },
        { prefix: 'c', min: 60, extra: 23 },
      ];
      for (const r of rounds) {
        const flushed = await runAndKill(dir, r.prefix, r.min, r.extra, mode);
        expect(flushed).toBeGreaterThanOrEqual(r.min);

        const repo = await openStateRepo({ dir });
        const rec = repo.recovery;
        console.log(
          `${mode} round ${r.prefix}: ${flushed + 1} jobs reported flushed, ${repo.jobs.list().length} loaded; recovery removed ` +
            `${rec.tmpFilesRemoved.length} tmp files, ${rec.staleGitLocks.length} git locks, truncated ` +
            `${rec.truncatedLogs.length} logs, committed leftovers: ${rec.committedLeftovers}`,
        );
        try {
          for (const prev of rounds.slice(0, rounds.indexOf(r) + 1)) {
            const upto = prev === r ? flushed : prev.min;
            for (let i = 0; i <= upto; i++) {
              const job = repo.jobs.get(`${prev.prefix}-${i}`);
              expect(job, `${prev.prefix}-${i}`).toBeDefined();
              expect(job!.status).toBe(i % 3 === 0 ? 'result-received' : 'posted');
              expect(job!.bid).toBe(BigInt(i));
            }
          }
          // Whatever got further than the flush report is still a valid, loaded record.
          for (const j of repo.jobs.list())
            expect(['posting', 'posted', 'result-received']).toContain(j.status);
          // Every log line is whole JSON; every flushed job's line is there.
          const lines = readFileSync(join(dir, 'payment_log.jsonl'), 'utf8').split('\n').filter(Boolean);
          const jobsInLog = new Set(lines.map((l) => (JSON.parse(l) as { job: string }).job));
          for (let i = 0; i <= flushed; i++) expect(jobsInLog.has(`${r.prefix}-${i}`)).toBe(true);
          expect(gitOut(dir, ['status', '--porcelain'])).toBe('');
          gitOut(dir, ['fsck', '--full', '--strict']); // throws on a non-zero exit
          // The working tree matches HEAD for the flushed records.
          const committed = JSON.parse(gitOut(dir, ['show', `HEAD:jobs/${r.prefix}-0.json`]));
          expect(committed.id).toBe(`${r.prefix}-0`);
        } finally {
          await repo.close();
        }
      }
    }, 120_000);
  }

  it('a transition made durable but killed before its git commit is there and committed after reopen', async () => {
    const dir = join(tmp.dir, 'mayor-one');
    const out = await runUntilSelfKill('test/mayor/state-durable-child.ts', [dir]);
    // The child killed itself right after durable(): the transition is on disk, git still has the old one.
    expect(out).toContain('DURABLE');
    const onDisk = JSON.parse(readFileSync(join(dir, 'jobs', 'd-1.json'), 'utf8'));
    expect(onDisk.status).toBe('posted');
    const inHead = JSON.parse(gitOut(dir, ['show', 'HEAD:jobs/d-1.json']));
    expect(inHead.status).toBe('posting');
    expect(gitOut(dir, ['status', '--porcelain'])).not.toBe('');

    const repo = await openStateRepo({ dir });
    try {
      expect(repo.recovery.committedLeftovers).toBe(true);
      expect(repo.jobs.get('d-1')).toMatchObject({ status: 'posted', price: 5n });
      expect(JSON.parse(gitOut(dir, ['show', 'HEAD:jobs/d-1.json'])).status).toBe('posted');
      expect(gitOut(dir, ['show', 'HEAD:payment_log.jsonl'])).toContain('"job":"d-1"');
      expect(gitOut(dir, ['status', '--porcelain'])).toBe('');
      gitOut(dir, ['fsck', '--full', '--strict']);
    } finally {
      await repo.close();
    }
  }, 60_000);
});
