// connector.db's writer thread keeps the process alive only while one of its commits is awaited: a commit that a
// read settled on the main thread (drainSync) must not keep a process from exiting (a node's process hung at exit
// this way after stop), and close() returns once the thread's connection to the file is closed. Real child
// processes, real SQLite files, real worker threads.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'crosstown-store-exit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the child; resolves with its exit code (null if it had to be killed after `limitMs`) and its output. */
async function runChild(mode: 'return' | 'close', limitMs = 10_000) {
  const sub = mkdtempSync(join(dir, `${mode}-`));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'test/connector/store-exit-child.ts'), sub, mode],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += String(d);
  });
  child.stderr.on('data', (d) => {
    err += String(d);
  });
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    child.kill('SIGKILL');
  }, limitMs);
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  clearTimeout(timer);
  return { code, hung, out, err };
}

describe('connector store: exit and close', () => {
  it('a process whose last commit was settled by a read exits by itself', async () => {
    const r = await runChild('return');
    expect(r.hung, `the process did not exit within 10 s: ${r.out}${r.err}`).toBe(false);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ rows: 1 });
  }, 20_000);

  it('close() returns once no file descriptor on the database is left', async () => {
    const r = await runChild('close');
    expect(r.hung, `the process did not exit within 10 s: ${r.out}${r.err}`).toBe(false);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ rows: 1, held: [] });
  }, 20_000);
});
