// Runs the real `crosstown` binary as a child process: the README's first command (`npx crosstown demo`), minus
// the install. Everything is real: anvil, the node, both Mayors, git worktrees, bwrap when it works here.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/crosstown.js');
const home = mkdtempSync(join(tmpdir(), 'crosstown-demo-home-'));
// A fresh home: nothing from the operator's ~/.crosstown can leak into the run.
const env = { ...process.env, CROSSTOWN_HOME: home };
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  pid: number;
}

function run(args: string[], timeoutMs = 150_000): Promise<Run> {
  const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, pid: child.pid! });
    }),
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Processes whose command line mentions `needle` (the demo's temp dirs name every process it started). */
function processesMentioning(needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirProc()) {
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes(needle)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function readdirProc(): string[] {
  return existsSync('/proc') ? readdirSync('/proc').filter((e) => /^\d+$/.test(e)) : [];
}

interface Report {
  status: string;
  network: { anvilPid: number; rpcUrl: string };
  sandbox: string;
  unsandboxed: boolean;
  job: { id: string; bytes: number; bid: string; history: string[] };
  result: { build: string; tests: { passed: number; failed: number; total: number }; routedCount: number };
  payments: {
    writeFee: string;
    providerPayment: string;
    providerFees: { what: string; bytes: number; amount: string }[];
    providerFeesTotal: string;
    redeemedOnChain: string;
    nodeKept: string;
  };
  channelRemaining: string;
  balances: Record<
    'alpha' | 'beta' | 'node',
    Record<
      | 'walletBefore'
      | 'walletAfter'
      | 'channelDepositBefore'
      | 'channelDepositAfter'
      | 'channelSpentBefore'
      | 'channelSpentAfter',
      string
    >
  >;
  checks: string[];
  lines: string[];
}

const B = (s: string) => BigInt(s);

describe('crosstown demo', () => {
  it('runs the journeys: success, N/N tests, routed once, amounts add up exactly, nothing left running', async () => {
    const r = await run(['demo', '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.status).toBe('success');
    expect(report.result.build).toBe('SUCCESS');
    // examples/sample-repo has 4 tests, all passing.
    expect(report.result.tests).toEqual({ passed: 4, failed: 0, total: 4 });
    expect(report.result.routedCount).toBe(1);
    expect(report.job.history).toEqual(['posting', 'posted', 'result-received', 'routed', 'paid']);

    // The journeys' words, in order.
    const short = `job-${report.job.id.slice(0, 7)}`;
    const p = report.payments;
    const wanted = [
      `Posted ${short}: ci-cd-linux (${report.job.bytes} bytes, `,
      'Waiting for result...',
      `Received result for ${short} from Mayor-Beta`,
      'Build: SUCCESS | Tests: 4/4 passed',
      'Payment Channel: ',
      'Demo succeeded',
    ];
    const at = wanted.map((w) => report.lines.findIndex((l) => l.startsWith(w)));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);

    // Amounts, recomputed here with bigints from the report's own parts.
    const price = 10n ** 13n; // the devnet's basePricePerByte
    expect(B(p.writeFee)).toBe(BigInt(report.job.bytes) * price);
    expect(B(p.providerPayment)).toBeLessThanOrEqual(B(report.job.bid));
    expect(p.providerFees.map((f) => f.what).sort()).toEqual(['feedback', 'result']);
    for (const f of p.providerFees) expect(B(f.amount)).toBe(BigInt(f.bytes) * price);
    expect(p.providerFees.reduce((s, f) => s + B(f.amount), 0n)).toBe(B(p.providerFeesTotal));
    const { alpha, beta, node } = report.balances;
    const spent = (x: typeof alpha) => B(x.channelSpentAfter) - B(x.channelSpentBefore);
    const wallet = (x: typeof alpha) => B(x.walletAfter) - B(x.walletBefore);
    expect(spent(alpha)).toBe(B(p.writeFee) + B(p.providerPayment));
    expect(B(report.channelRemaining)).toBe(B(alpha.channelDepositAfter) - B(alpha.channelSpentAfter));
    expect(B(alpha.channelDepositAfter)).toBe(50n * 10n ** 18n);
    expect(spent(beta)).toBe(B(p.providerFeesTotal));
    expect(spent(node)).toBe(B(p.providerPayment)); // Beta's on-chain claim on the node's channel
    expect(B(p.redeemedOnChain)).toBe(B(p.providerPayment));
    expect(wallet(alpha)).toBe(0n);
    expect(wallet(beta)).toBe(B(p.redeemedOnChain));
    expect(wallet(node)).toBe(-(B(node.channelDepositAfter) - B(node.channelDepositBefore)));
    // The node keeps exactly the relay fees: in from both Mayors' channels, out to Beta.
    expect(spent(alpha) + spent(beta) - B(p.providerPayment)).toBe(B(p.nodeKept));
    expect(B(p.nodeKept)).toBe(B(p.writeFee) + B(p.providerFeesTotal));
    expect(report.checks.length).toBeGreaterThanOrEqual(10);

    // Nothing left: anvil is gone, and no process runs from the demo's temporary directories.
    expect(alive(report.network.anvilPid)).toBe(false);
    expect(alive(r.pid)).toBe(false);
    expect(processesMentioning('crosstown-mayors-')).toEqual([]);
  }, 180_000);

  it('without a sandbox: Beta runs the demo job unsandboxed with the permission the demo grants, and says so', async () => {
    const r = await run(['demo', '--sandbox', 'none', '--format', 'json']);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.sandbox).toBe('none');
    expect(report.unsandboxed).toBe(true);
    expect(report.lines.join('\n')).toMatch(/WITHOUT a sandbox, with the permission the demo grants/);
    expect(report.result.tests.passed).toBe(4);
  }, 180_000);

  it('fails with exit 1 and says what failed when the tests fail', async () => {
    const r = await run(['demo', '--repo', join(root, 'test/fixtures/sample-repos/failing')]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('Build: FAILURE | Tests: 2/4 passed');
    expect(r.stderr).toMatch(
      /demo failed \(RESULT_NOT_SUCCESS\): check failed: the build succeeded with every test passing: .*FAILURE/,
    );
    expect(r.stdout).not.toContain('Demo succeeded');
  }, 180_000);

  it('Ctrl-C while it waits: stops everything it started and exits 130', async () => {
    const child = spawn(process.execPath, [bin, 'demo'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let out = '';
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    await new Promise<void>((resolve) =>
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('Posted job-')) resolve();
      }),
    );
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(err).toContain('demo failed (INTERRUPTED)');
    const rpc = /anvil (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
    await expect(fetch(rpc, { method: 'POST', signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  }, 120_000);

  it('refuses an unknown output format with exit code 2 and a clear message', async () => {
    const r = await run(['demo', '--format', 'xml']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('use one of text, json, csv');
  }, 60_000);
});

// `devnet up --format json` with both Mayors, then `devnet down`: test/devnet/cli.test.ts (one devnet for both checks).
