// The Polecat pool under load and across a crash: real worktrees, real bwrap, real child processes; the
// network side is the in-process FakeNetwork (helpers.ts).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type JobReport, readPoolState } from '../../../src/mayor/provider/index.js';
import { parseJobResult } from '../../../src/nostr/nip90.js';
import { parseCiResultContent } from '../../../src/skills/builtin/ci-result.js';
import { decompressLogs } from '../../../src/skills/logs.js';
import { FakeNetwork, jobRequest, startProvider, tempHome } from './helpers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const sandbox = existsSync('/usr/bin/bwrap') ? ('auto' as const) : ('none' as const);

async function runMany(poolSize: number, jobs: number) {
  const network = new FakeNetwork();
  const home = tempHome();
  const { service } = await startProvider(home, network, {
    poolSize,
    sandbox,
    policy: { allowUnsandboxed: true },
  });
  // Each job writes its own marker, waits so all of them overlap, then lists its worktree and prints where it is.
  const events = Array.from({ length: jobs }, (_, i) =>
    jobRequest({
      command: `echo job-${i} > mine.txt; echo "t0=$(date +%s%3N)"; sleep 1; echo "t1=$(date +%s%3N)"; echo "pwd=$PWD"; ls; cat mine.txt`,
    }),
  );
  const intakes = await Promise.all(events.map((e) => service.handleJobRequest(e)));
  const reports: JobReport[] = [];
  for (const intake of intakes) {
    if (intake.status !== 'accepted') throw new Error(`refused: ${JSON.stringify(intake)}`);
    reports.push(await intake.done);
  }
  await service.stop();
  return { reports, home, events };
}

describe('Polecat pool', () => {
  for (const [size, jobs] of [
    [20, 20],
    [30, 30],
  ] as const) {
    it(`runs ${jobs} concurrent jobs on a pool of ${size}, each in its own worktree, none contaminated`, async () => {
      const { reports, home, events } = await runMany(size, jobs);
      const dirs = new Set<string>();
      const runs: [number, number][] = [];
      reports.forEach((report, i) => {
        const result = parseJobResult(report.result!);
        expect(result.jobId).toBe(events[i]!.id);
        const content = parseCiResultContent(result.content);
        const logs = decompressLogs(content.logs!);
        expect(result.status, `job ${i}: ${JSON.stringify({ ...content, logs })}`).toBe('success');
        const [t0, t1, ...lines] = logs.trim().split('\n');
        runs.push([Number(t0!.slice(3)), Number(t1!.slice(3))]);
        expect(lines).toEqual([`pwd=${report.worktree}`, 'mine.txt', `job-${i}`]);
        dirs.add(report.worktree);
      });
      expect(dirs.size).toBe(jobs);
      // The jobs ran side by side (each one's sleep overlapped others'), whatever the machine's load.
      const mostAtOnce = Math.max(...runs.map(([t]) => runs.filter(([a, b]) => a <= t && t < b).length));
      expect(mostAtOnce).toBeGreaterThan(1);
      expect(readdirSync(path.join(home, 'worktrees'))).toEqual([]);
      expect(readPoolState(home).jobs).toEqual({});
    }, 120_000);
  }
});

describe('a job that leaves a process behind', () => {
  it('unsandboxed: a process that left the group (setsid) is killed before the worktree goes', async () => {
    const network = new FakeNetwork();
    const home = tempHome();
    const { service } = await startProvider(home, network, {
      sandbox: 'none',
      policy: { allowUnsandboxed: true },
    });
    const marker = `${50000 + Math.floor(Math.random() * 9999)}`;
    const intake = await service.handleJobRequest(
      jobRequest({ command: `setsid sleep ${marker} >/dev/null 2>&1 </dev/null & echo left` }),
    );
    if (intake.status !== 'accepted') throw new Error(`refused: ${JSON.stringify(intake)}`);
    const report = await intake.done;
    expect(parseJobResult(report.result!).status).toBe('success');
    const sleeping = () =>
      execFileSync('ps', ['-eo', 'args'])
        .toString()
        .split('\n')
        .filter((line) => line === `sleep ${marker}`);
    expect(sleeping()).toEqual([]);
    expect(existsSync(report.worktree)).toBe(false);
    await service.stop();
  }, 60_000);
});

/** Non-zombie processes in a process group (a container's pid 1 may never reap the crashed host's children). */
function liveMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') out.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('provider restart mid-job', () => {
  for (const mode of [
    { sandbox, onRestart: 'fail' as const, escapes: false },
    { sandbox: 'none' as const, onRestart: 'rerun' as const, escapes: false },
    // Unsandboxed, the job puts a process outside its process group (setsid): recovery must find it too.
    { sandbox: 'none' as const, onRestart: 'fail' as const, escapes: true },
  ]) {
    it(`SIGKILL of the host (sandbox ${mode.sandbox}${mode.escapes ? ', a process escaped its group' : ''}) → on start the job is ${mode.onRestart === 'fail' ? 'reported failed' : 're-run'}, no stale worktree, no orphan`, async () => {
      const home = tempHome();
      const marker = `${40000 + Math.floor(Math.random() * 9999)}`;
      // 'fail': a job that would run for hours; 'rerun': one that finishes 2 s after its (re)start.
      const command =
        mode.onRestart === 'rerun'
          ? `sleep 3; echo done-${marker}`
          : mode.escapes
            ? `setsid sleep ${marker} >/dev/null 2>&1 </dev/null & sleep ${marker}`
            : `sleep ${marker}`;
      const request = jobRequest({ command });
      const requestFile = path.join(home, 'request.json');
      writeFileSync(requestFile, JSON.stringify(request));
      const host = spawn(
        process.execPath,
        ['--import', 'tsx', path.join(HERE, 'restart-host.ts'), home, requestFile, mode.sandbox],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      await waitFor(() => {
        try {
          const job = readPoolState(home).jobs[request.id];
          return job?.state === 'running' && job.processes.length > 0;
        } catch {
          return false;
        }
      }, 30_000);
      if (mode.onRestart === 'fail')
        await waitFor(
          () =>
            execFileSync('ps', ['-eo', 'args'])
              .toString()
              .split('\n')
              .filter((line) => line === `sleep ${marker}`).length === (mode.escapes ? 2 : 1),
          10_000,
        );
      const groups = readPoolState(home).jobs[request.id]!.processes.map((p) => p.pid);
      host.kill('SIGKILL');
      await new Promise((r) => host.once('exit', r));
      expect(existsSync(path.join(home, 'worktrees', request.id))).toBe(true); // the crash left it

      const network = new FakeNetwork();
      const { service, recovered } = await startProvider(home, network, {
        sandbox: mode.sandbox,
        policy: { allowUnsandboxed: true },
        onRestart: mode.onRestart,
      });
      const reports = await recovered;
      expect(reports).toHaveLength(1);
      const result = parseJobResult(reports[0]!.result!);
      expect(result.jobId).toBe(request.id);
      if (mode.onRestart === 'fail') {
        expect(result.status).toBe('error');
        expect(result.statusInfo).toMatch(/provider restarted/);
        expect(result.amount).toBeUndefined();
      } else {
        expect(result.status).toBe('success');
        expect(decompressLogs(parseCiResultContent(result.content).logs!)).toContain(`done-${marker}`);
        expect(result.amount?.amount).toBe(500n);
      }
      // Every process group the crashed host started is gone.
      for (const pgid of groups) expect(liveMembers(pgid)).toEqual([]);
      expect(network.published.map((e) => e.id)).toContain(reports[0]!.result!.id);
      expect(execFileSync('ps', ['-eo', 'args']).toString()).not.toContain(`sleep ${marker}`);
      expect(readdirSync(path.join(home, 'worktrees'))).toEqual([]);
      await service.stop();
    }, 60_000);
  }
});
