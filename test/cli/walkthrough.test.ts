// The README's walkthrough, command for command, as real processes on a devnet: `devnet up` (terminal 1), then a
// fresh operator's wallet, the devnet faucet, a channel, `mayor start` (terminal 2), a paid ci-cd-linux job for the
// bundled sample repository served by the devnet's Mayor-Beta (public, then private), and the payment history.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliCommand, packRepo } from '../../src/devnet/index.js';

const home = mkdtempSync(join(tmpdir(), 'crosstown-walkthrough-'));
const passFile = join(home, 'pass');
writeFileSync(passFile, 'correct horse battery staple\n', { mode: 0o600 });
const env = { ...process.env, CROSSTOWN_HOME: home, CROSSTOWN_PASSPHRASE_FILE: passFile };
const daemons: ChildProcess[] = [];

afterAll(async () => {
  for (const d of daemons.reverse()) {
    if (d.exitCode === null && d.signalCode === null) {
      d.kill('SIGTERM');
      await new Promise((r) => d.once('exit', r));
    }
  }
  rmSync(home, { recursive: true, force: true });
});

async function cli(
  args: string[],
  timeoutMs = 120_000,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const [cmd, argv] = cliCommand(args);
  const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const status = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  return { status, stdout, stderr };
}

/** Starts a long-running command and resolves once its stdout contains `ready`. */
async function daemon(args: string[], ready: RegExp): Promise<string> {
  const [cmd, argv] = cliCommand(args);
  const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  daemons.push(child);
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (ready.test(out)) resolve(out);
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${err}`)));
  });
}

const json = <T>(r: { status: number | null; stdout: string; stderr: string }): T => {
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
};

describe('README walkthrough on a devnet', () => {
  it('wallet, faucet, channel, mayor start, a public and a private job, payments', async () => {
    const up = JSON.parse(await daemon(['devnet', 'up', '--format', 'json'], /}\n$/)) as {
      running: { beta: { pubkey: string } };
    };
    const beta = up.running.beta.pubkey;

    const wallet = json<{ address: string }>(
      await cli(['wallet', 'configure', '--generate', '--yes', '--format', 'json']),
    );
    const funded = json<{ address: string; m2m: string }>(await cli(['devnet', 'fund', '--format', 'json']));
    expect(funded.address).toBe(wallet.address);
    expect(BigInt(funded.m2m)).toBe(100n * 10n ** 18n);

    const opened = await cli(['channel', 'open', '--deposit', '50', '--yes']);
    expect(opened.status).toBe(0);
    expect(opened.stdout).toMatch(/deposit 50 M2M/);

    await daemon(['mayor', 'start', '--yes'], /Running; Ctrl-C to stop/);
    const status = await cli(['mayor', 'status', '--yes']);
    expect(status.stdout).toMatch(/Relay: ws:\/\/127\.0\.0\.1:\d+ \(connected/);
    expect(status.stdout).toMatch(/Channel: .* 50 of 50 M2M left/);

    const repo = `tar.gz+base64:${packRepo().base64}`;
    const post = (extra: string[]) =>
      cli([
        'job',
        'post',
        '--type',
        'ci-cd-linux',
        '--input',
        repo,
        '--param',
        'command=npm test',
        '--bid',
        '0.2',
        '--provider',
        beta,
        '--wait',
        '--timeout',
        '90',
        '--yes',
        '--format',
        'json',
        ...extra,
      ]);
    const publicJob = json<{ id: string; status: string; price: string; amount: string; summary: string }>(
      await post([]),
    );
    expect(publicJob.status).toBe('paid');
    expect(publicJob.summary).toBe('Build: SUCCESS | Tests: 4/4 passed');
    const privateJob = json<{ id: string; status: string; price: string; amount: string }>(
      await post(['--private']),
    );
    expect(privateJob.status).toBe('paid');

    // Each job paid its relay fee and the provider's amount, nothing else.
    const history = json<{ jobId: string; amount: string; status: string }[]>(
      await cli(['payments', 'history', '--yes', '--format', 'json']),
    );
    for (const job of [publicJob, privateJob]) {
      const paid = history.filter((p) => p.jobId === job.id).map((p) => BigInt(p.amount));
      expect(paid.sort()).toEqual([BigInt(job.price), BigInt(job.amount)].sort());
    }
  });
});
