// Commands run through the helper process (process-host.ts) behave as when the Mayor runs them itself: exit code,
// output, stdin, the pid reported (a real process group), timeout and cancel kill the group; it stops (exit awaited)
// when its last user does. Real processes.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunOptions, runProcess } from '../../../src/mayor/provider/process.js';
import { joinProcessHost, runInHost } from '../../../src/mayor/provider/process-host.js';

const base = (argv: string[], extra: Partial<RunOptions> = {}): RunOptions => ({
  argv,
  cwd: process.cwd(),
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  timeoutMs: 10_000,
  maxOutputBytes: 1 << 16,
  ...extra,
});

function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z';
  } catch {
    return false;
  }
}

/** Waits until the helper is up (the first call starts it and runs here). */
async function hosted(opts: RunOptions) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const run = runInHost(opts);
    if (run) return run;
    if (Date.now() > deadline) throw new Error('the process host did not come up');
    await new Promise((r) => setTimeout(r, 50));
  }
}

afterAll(() => {
  delete process.env.CROSSTOWN_PROCESS_HOST;
});

describe('process host', () => {
  it('runs a command with stdin and reports its output, exit code and pid', async () => {
    const pids: number[] = [];
    const out = await hosted(
      base(['sh', '-c', 'cat; echo "pgid $(ps -o pgid= $$ | tr -d " ")"; exit 3'], {
        stdin: Buffer.from('hello\n'),
        onSpawn: (pid) => pids.push(pid),
      }),
    );
    expect(out.exitCode).toBe(3);
    expect(pids).toHaveLength(1);
    expect(out.output).toBe(`hello\npgid ${pids[0]}\n`); // its own process group, led by the pid we were given
    expect(out.spawnError).toBeUndefined();
  });

  it('kills the group on timeout and on cancel, and reports a program that cannot start', async () => {
    const slow = await hosted(base(['sh', '-c', 'sleep 30 & sleep 30'], { timeoutMs: 200 }));
    expect(slow.timedOut).toBe(true);
    expect(slow.durationMs).toBeLessThan(5000);
    const ac = new AbortController();
    const pids: number[] = [];
    const cancelled = hosted(base(['sleep', '30'], { signal: ac.signal, onSpawn: (pid) => pids.push(pid) }));
    while (pids.length === 0) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    const c = await cancelled;
    expect(c.cancelled).toBe(true);
    expect(() => process.kill(pids[0]!, 0)).toThrow(); // gone
    const missing = await hosted(base(['/nonexistent/program']));
    expect(missing.spawnError).toMatch(/could not start/);
  });

  it('a helper killed mid-run: the run is reported as not started and its group is killed', async () => {
    const pids: number[] = [];
    const run = hosted(base(['sleep', '30'], { onSpawn: (pid) => pids.push(pid) }));
    while (pids.length === 0) await new Promise((r) => setTimeout(r, 10));
    const helper = Number(readFileSync(`/proc/${pids[0]}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    expect(helper).not.toBe(process.pid);
    process.kill(helper, 'SIGKILL');
    const out = await run;
    expect(out.spawnError).toMatch(/process host stopped/);
    // The job's group went with it (gone, or a zombie waiting for its new parent to reap it).
    const deadline = Date.now() + 5000;
    while (alive(pids[0]!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(alive(pids[0]!)).toBe(false);
  });

  it('runProcess uses it when up and runs here when turned off', async () => {
    await hosted(base(['true']));
    const viaHost = await runProcess(base(['sh', '-c', 'echo $PPID']));
    expect(Number(viaHost.output.trim())).not.toBe(process.pid);
    process.env.CROSSTOWN_PROCESS_HOST = '0';
    const here = await runProcess(base(['sh', '-c', 'echo $PPID']));
    expect(Number(here.output.trim())).toBe(process.pid);
  });

  it('stops when its last user stops: the helper has exited when release() returns, its run ends, its group dies', async () => {
    delete process.env.CROSSTOWN_PROCESS_HOST;
    const first = joinProcessHost();
    const second = joinProcessHost();
    const pids: number[] = [];
    const run = hosted(base(['sleep', '30'], { onSpawn: (pid) => pids.push(pid) }));
    while (pids.length === 0) await new Promise((r) => setTimeout(r, 10));
    const helper = Number(readFileSync(`/proc/${pids[0]}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    expect(helper).not.toBe(process.pid);
    await first();
    await first(); // twice is once
    expect(alive(helper), 'another user still holds it').toBe(true);
    await second();
    expect(alive(helper), 'the helper is gone once the last release returns').toBe(false);
    expect((await run).spawnError).toMatch(/process host stopped/);
    const deadline = Date.now() + 5000;
    while (alive(pids[0]!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(alive(pids[0]!)).toBe(false);
  });
});
