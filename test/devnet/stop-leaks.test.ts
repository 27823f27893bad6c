// What `npm run bench provider-e2e` starts (a devnet with its node in this process, a provider Mayor with two
// Polecats, a requester posting public and private jobs) stops completely: after stop() nothing holds a file of the
// devnet or of the Mayors, no child process is left (the helper that runs job commands, a job's command stopped
// mid-run) and the process exits by itself. The bench used to hang at exit holding connector.db. Real anvil, node,
// relay, connector, git, bwrap when it works here, child processes.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const homes = mkdtempSync(join(tmpdir(), 'crosstown-stop-leaks-'));
afterAll(() => rmSync(homes, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z';
  } catch {
    return false;
  }
}

interface Report {
  held: string[];
  children: { pid: number; cmd: string }[];
  hostPids: number[];
  slowBefore: number;
  slowAfter: number[];
}

describe('devnet + provider Mayors: stop leaves nothing behind', () => {
  it('holds no file, leaves no process and exits by itself', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'test/devnet/stop-leaks-child.ts'), homes],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    let reportedAt: number | undefined;
    child.stdout.on('data', (d) => {
      out += String(d);
      if (out.includes('\n')) reportedAt ??= Date.now();
    });
    child.stderr.on('data', (d) => {
      err += String(d);
    });
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    // Killed if it has not exited 10 s after its report (or 80 s in all): the hang this test is about.
    let hung = false;
    const watch = setInterval(() => {
      if (reportedAt !== undefined && Date.now() - reportedAt > 10_000) {
        hung = true;
        child.kill('SIGKILL');
      }
    }, 200);
    const overall = setTimeout(() => child.kill('SIGKILL'), 80_000);
    try {
      const code = await exited;
      expect(out, `no report: ${err.slice(-3000)}`).toContain('\n');
      const report = JSON.parse(out) as Report;
      expect(report.slowBefore, 'the slow job was running when everything stopped').toBeGreaterThan(0);
      expect(report.hostPids, 'job commands ran through the process host').toHaveLength(1);
      expect(report.held, 'file descriptors still open on the devnet or the Mayors').toEqual([]);
      expect(report.children, 'child processes left after stop').toEqual([]);
      expect(report.slowAfter, "the stopped job's command is still running").toEqual([]);
      expect(hung, 'the process did not exit by itself within 10 s of stopping').toBe(false);
      expect(code, err.slice(-3000)).toBe(0);
      for (const pid of report.hostPids) expect(alive(pid)).toBe(false);
    } finally {
      clearInterval(watch);
      clearTimeout(overall);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 100_000);
});
