// `crosstown mayor start|status`, `job …` and `relay …` against a real devnet (anvil, node with relay and connector)
// and a provider stand-in from the Mayor runtime tests: the daemon runs as a real child process until SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlSocketPath } from '../../src/cli/commands/control.js';
import { cliCommand, type Devnet, startDevnet } from '../../src/devnet/index.js';
import { writeKey } from '../../src/mayor/keystore/index.js';
import { type Standin, startStandin } from '../mayor/runtime/helpers.js';
import { cleanEnv, json, runCli, runInPty, tempHome } from './helpers.js';
import { arrayOf, bool, hex32, nullable, num, obj, problems, str, units } from './shapes.js';

const PASSPHRASE = 'correct horse battery staple 42';
const AMOUNT = 10n ** 15n;
let devnet: Devnet;
let provider: Standin;
let env: Record<string, string>;
let home: string;

const jobShape = obj(
  { id: str, kind: num, jobType: str, callbackSkill: str, status: str, createdAt: num, updatedAt: num },
  {
    price: units,
    bid: units,
    amount: units,
    provider: str,
    resultEventId: str,
    chainId: str,
    settlementChainId: num,
    error: str,
    summary: str,
    bytes: num,
  },
);
const statusShape = obj({
  running: bool,
  name: str,
  pubkey: str,
  network: str,
  chainId: nullable(num),
  relays: arrayOf(obj({ url: str, status: str, subscriptions: num })),
  connector: str,
  channel: nullable(obj({ channelId: hex32, deposit: units, spent: units, remaining: units })),
  jobs: obj(
    Object.fromEntries(
      ['posting', 'posted', 'result-received', 'routed', 'paid', 'failed', 'cancelled'].map((s) => [s, num]),
    ),
  ),
  held: arrayOf(str),
  localMode: bool,
  // provider mode: what it serves, jobs served in this run, earnings (null for a requester)
  provider: nullable(
    obj({
      jobTypes: arrayOf(str),
      price: units,
      served: obj({ running: num, done: num, refused: num, failed: num }),
      earned: units,
    }),
  ),
  pid: nullable(num),
});
const subscriptionShape = obj({
  name: str,
  filters: arrayOf(
    obj({}, { kinds: arrayOf(num), '#p': arrayOf(str), '#t': arrayOf(str), authors: arrayOf(str) }),
  ),
  since: nullable(num),
});
const relayStatusShape = obj({
  mayorRunning: bool,
  network: str,
  relays: arrayOf(
    obj({ url: str, status: str, subscriptions: nullable(num), name: nullable(str), error: nullable(str) }),
  ),
  subscriptions: arrayOf(subscriptionShape),
});

/** The daemon, spawned as the CLI itself (no launcher in between) so SIGTERM reaches it. */
function startDaemon(extra: Record<string, string> = {}): {
  proc: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
} {
  const [cmd, args] = cliCommand(['mayor', 'start', '--yes', '--format', 'json']);
  const proc = spawn(cmd, args, { env: cleanEnv({ ...env, ...extra }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exit = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return { proc, out: () => out, err: () => err, exit };
}

async function until(cond: () => boolean, ms: number, what: string, detail: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${detail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  devnet = await startDevnet({ mayors: ['alpha', 'beta'] });
  provider = await startStandin(devnet, devnet.mayors.beta!, AMOUNT);
  home = tempHome();
  const alpha = devnet.mayors.alpha!;
  const keystore = join(home, 'keys', 'mayor');
  await writeKey({
    dir: keystore,
    entry: 'wallet',
    secretKey: alpha.walletPrivateKey,
    passphrase: PASSPHRASE,
  });
  await writeKey({ dir: keystore, entry: 'nostr', secretKey: alpha.nostrSecretKey, passphrase: PASSPHRASE });
  const pass = join(home, 'pass');
  writeFileSync(pass, `${PASSPHRASE}\n`, { mode: 0o600 });
  env = {
    CROSSTOWN_HOME: home,
    CROSSTOWN_RELAY_URL: devnet.relayUrl,
    GASTOWN_BASE_SEPOLIA_RPC: devnet.rpcUrl,
    CROSSTOWN_CONNECTOR_BTP: devnet.btpUrl,
    CROSSTOWN_DEFAULT_DEPOSIT: '10',
    CROSSTOWN_NODE_PUBKEY: devnet.node.pubkey,
    CROSSTOWN_PASSPHRASE_FILE: pass,
  };
}, 120_000);

afterAll(async () => {
  await provider?.stop();
  await devnet?.stop();
});

describe('crosstown mayor + job + relay', () => {
  it('runs the daemon until SIGTERM; status, job post --wait, list, status, cancel and relay subscriptions go through it', async () => {
    const d = startDaemon();
    try {
      await until(
        () => d.out().includes('\n'),
        90_000,
        'the ready line',
        () => d.err(),
      );
      const ready = JSON.parse(d.out().split('\n')[0]!) as Record<string, unknown>;
      expect(ready).toMatchObject({
        running: true,
        network: 'devnet',
        socket: controlSocketPath({ home, name: 'mayor' }),
      });

      const status = await runCli(['mayor', 'status', '--format', 'json'], env);
      expect(status.status, status.stderr).toBe(0);
      expect(problems(statusShape, json(status))).toEqual([]);
      expect(json(status)).toMatchObject({ running: true, network: 'devnet', connector: 'connected' });
      const statusText = await runCli(['mayor', 'status'], env);
      expect(statusText.stdout).toContain('Network: devnet');

      const posted = await runCli(
        [
          'job',
          'post',
          '--type',
          'ci-cd-linux',
          '--input',
          'text:hello',
          '--bid',
          '0.01',
          '--wait',
          '--timeout',
          '60',
          '--yes', // the stand-in provider publishes no NIP-89 advert
          '--format',
          'json',
        ],
        env,
      );
      expect(posted.status, posted.stderr).toBe(0);
      expect(posted.stderr).toMatch(/warning: no provider advertises job type ci-cd-linux/);
      const job = json(posted) as { id: string; status: string; amount?: string };
      expect(problems(jobShape, job)).toEqual([]);
      expect(job.status).toBe('paid');
      expect(job.amount).toBe(AMOUNT.toString());

      const [list, one, refused, badPayment] = await Promise.all([
        runCli(['job', 'list', '--format', 'json'], env),
        runCli(['job', 'status', job.id, '--format', 'json'], env),
        runCli(['job', 'post', '--type', 'ci-cd-linux', '--bid', 'lots'], env),
        runCli(['job', 'post', '--type', 'ci-cd-linux', '--bid', '0.01', '--payment', 'bolt11'], env),
      ]);
      expect(badPayment.status).toBe(2);
      expect(badPayment.stderr).toMatch(/--payment must be atomic or after-result/);
      expect(problems(arrayOf(jobShape), json(list))).toEqual([]);
      expect((json(list) as { id: string }[]).map((j) => j.id)).toContain(job.id);
      expect(json(one)).toMatchObject({ id: job.id, status: 'paid' });
      expect(refused.status).toBe(2);
      // Nobody advertises this type: without --yes (and no terminal to ask) nothing is posted or paid.
      const before = (json(list) as unknown[]).length;
      const unserved = await runCli(['job', 'post', '--type', 'no-such-type', '--bid', '0.01'], env);
      expect(unserved.status, unserved.stderr).toBe(4);
      expect(unserved.stderr).toMatch(/no provider advertises job type no-such-type .*nothing was paid/);
      const after = await runCli(['job', 'list', '--format', 'json'], env);
      expect((json(after) as unknown[]).length).toBe(before);

      // A job with no result yet (the provider is paused) can be cancelled.
      provider.paused = true;
      const waiting = await runCli(
        ['job', 'post', '--type', 'ci-cd-linux', '--bid', '0.01', '--yes', '--format', 'json'],
        env,
      );
      expect(waiting.status, waiting.stderr).toBe(0);
      const wid = (json(waiting) as { id: string }).id;
      const [noYes, cancelled] = await Promise.all([
        runCli(['job', 'cancel', wid], env),
        runCli(['job', 'cancel', wid, '--yes', '--format', 'json'], env),
      ]);
      expect(noYes.status).toBe(2);
      expect(cancelled.status, cancelled.stderr).toBe(0);
      expect(json(cancelled)).toMatchObject({ id: wid, status: 'cancelled' });

      const sub = await runCli(
        ['relay', 'subscribe', 'notes', '--kinds', '1', '--tag', 't=crosstown', '--format', 'json'],
        env,
      );
      expect(sub.status, sub.stderr).toBe(0);
      expect(problems(subscriptionShape, json(sub))).toEqual([]);
      const relays = await runCli(['relay', 'status', '--format', 'json'], env);
      expect(relays.status, relays.stderr).toBe(0);
      expect(problems(relayStatusShape, json(relays))).toEqual([]);
      const r = json(relays) as {
        mayorRunning: boolean;
        relays: { status: string }[];
        subscriptions: { name: string }[];
      };
      expect(r.mayorRunning).toBe(true);
      expect(r.relays[0]!.status).toBe('connected');
      expect(r.subscriptions.map((s) => s.name).sort()).toEqual(['notes', 'results']);
      const off = await runCli(['relay', 'disconnect', 'notes', '--format', 'json'], env);
      expect(off.status, off.stderr).toBe(0);
      expect(json(off)).toEqual({ name: 'notes', removed: true });

      // Only one Mayor per name.
      const second = await runCli(['mayor', 'start', '--yes'], env);
      expect(second.status).toBe(2);
      expect(second.stderr).toContain('already running');
    } finally {
      d.proc.kill('SIGTERM');
    }
    expect(await d.exit).toBe(0);
    expect(d.err()).toContain('stopped');
    expect(existsSync(controlSocketPath({ home, name: 'mayor' }))).toBe(false);
    expect(d.err()).not.toContain(PASSPHRASE);

    // Stopped: status says so with exit 3; the jobs are still listed from the state repository.
    const [down, list] = await Promise.all([
      runCli(['mayor', 'status', '--format', 'json'], env),
      runCli(['job', 'list', '--status', 'paid', '--format', 'json'], env),
    ]);
    expect(down.status).toBe(3);
    expect(json(down)).toEqual({ running: false, name: 'mayor', network: 'devnet' });
    expect(list.status, list.stderr).toBe(0);
    expect((json(list) as unknown[]).length).toBe(1);
    // Each CLI call is a fresh process (~1-4 s on a loaded 2-core machine): give the whole journey time.
  }, 240_000);

  it('refuses a relay above the price ceiling with exit 4, and an unreachable relay with exit 3', async () => {
    // Other Mayor names (their own state), the same keys.
    const keys = { CROSSTOWN_KEYSTORE_DIR: join(home, 'keys', 'mayor') };
    const [pricey, noRelay] = await Promise.all([
      runCli(['mayor', 'start', '--yes', '--name', 'cheap'], {
        ...env,
        ...keys,
        CROSSTOWN_MAX_BASE_PRICE_PER_BYTE: '0.000000000000000001',
      }),
      runCli(['mayor', 'start', '--yes', '--name', 'lonely', '--relay-urls', 'ws://127.0.0.1:9'], {
        ...env,
        ...keys,
      }),
    ]);
    expect(pricey.status, pricey.stderr).toBe(4);
    expect(noRelay.status, noRelay.stderr).toBe(3);
  }, 120_000);

  it('a mistyped passphrase with no Nostr key yet: refused, and no Nostr key is sealed under it', async () => {
    const keys = join(home, 'keys', 'wallet-only');
    await writeKey({
      dir: keys,
      entry: 'wallet',
      secretKey: devnet.mayors.alpha!.walletPrivateKey,
      passphrase: PASSPHRASE,
    });
    const wrong = join(home, 'wrong-pass');
    writeFileSync(wrong, 'not the passphrase\n', { mode: 0o600 });
    const r = await runCli(['mayor', 'start', '--yes', '--name', 'typo'], {
      ...env,
      CROSSTOWN_KEYSTORE_DIR: keys,
      CROSSTOWN_PASSPHRASE_FILE: wrong,
    });
    expect(r.status, r.stderr).not.toBe(0);
    expect(r.stderr).toMatch(/passphrase/i);
    expect(existsSync(join(keys, 'nostr.json'))).toBe(false);
  }, 60_000);

  it('attach shows the dashboard on a terminal and q stops the Mayor cleanly; without a terminal it is exit 2', async () => {
    const noTty = await runCli(['mayor', 'attach', '--yes'], env);
    expect(noTty.status).toBe(2);
    expect(noTty.stderr).toContain('needs a terminal');

    const t = runInPty(['mayor', 'attach', '--yes'], env);
    await t.expect('Channel', 60_000);
    await t.expect('Relay');
    t.send('q');
    expect(await t.exit).toBe(0);
    expect(t.output()).not.toContain(PASSPHRASE);
    expect(existsSync(controlSocketPath({ home, name: 'mayor' }))).toBe(false);
  }, 150_000);
});
