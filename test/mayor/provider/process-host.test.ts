// Commands run through the helper process (process-host.ts) behave as when the Mayor runs them itself: exit code,
// output, stdin, the pid reported (a real process group), timeout and cancel kill the group. Real processes.
import { afterAll, describe, expect, it } from 'vitest';
import { type RunOptions, runProcess } from '../../../src/mayor/provider/process.js';
import { runInHost } from '../../../src/mayor/provider/process-host.js';

const base = (argv: string[], extra: Partial<RunOptions> = {}): RunOptions => ({
  argv,
  cwd: process.cwd(),
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  timeoutMs: 10_000,
  maxOutputBytes: 1 << 16,
  ...extra,
});

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

  it('runProcess uses it when up and runs here when turned off', async () => {
    await hosted(base(['true']));
    const viaHost = await runProcess(base(['sh', '-c', 'echo $PPID']));
    expect(Number(viaHost.output.trim())).not.toBe(process.pid);
    process.env.CROSSTOWN_PROCESS_HOST = '0';
    const here = await runProcess(base(['sh', '-c', 'echo $PPID']));
    expect(Number(here.output.trim())).toBe(process.pid);
  });
});
