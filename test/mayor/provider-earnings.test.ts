// Issue 13 item 6 on a real anvil, a real node and two attached Mayors: a requester pays a provider through the
// node, the node pays the provider with claims on its channel. The provider restarts (new process state, same
// home): the node's next claim continues from what was accepted before and is accepted (before: refused for
// good, "raises the cumulative amount by X, but Y was fulfilled"); the earnings survive in the ledger; when the
// node starts closing its channel, the provider's closure watcher redeems every claimed unit; and
// `crosstown earnings --format json` (a real child process) reports served, claimed, redeemed and redeemable;
// `crosstown earnings redeem` (a real child process, the provider's wallet) collects what the claims cover.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DevChain,
  listChannels,
  startClose,
  startDevChain,
  tokenBalance,
} from '../../src/chain/index.js';
import { cliCommand } from '../../src/devnet/index.js';
import type { Attachment, ProviderSpsp } from '../../src/mayor/runtime/index.js';
import type { NodeConfig } from '../../src/node/config.js';
import { createLogger, type RunningNode, startNode } from '../../src/node/index.js';
import { generateSecretKey } from '../../src/nostr/index.js';
import { testNodeConfig } from '../support/node-config.js';
import { providerHarness } from './provider-earnings-harness.js';

const _M2M = 10n ** 18n;
let chain: DevChain;
let dir: string;
let node: RunningNode;
let config: NodeConfig;
const closers: (() => Promise<unknown>)[] = [];
const providerSk = generateSecretKey();
const payerSk = generateSecretKey();
const providerHome = () => join(dir, 'provider');

const harness = providerHarness(() => ({ chain, node }), closers);
const { attachAs } = harness;
/** The provider as provider mode composes it: SPSP responder for payments, earnings for the node's claims. */
const startProvider = (sk = providerSk, account = 2, home = providerHome()) =>
  harness.startProvider({ sk, account, home });

/** One requester for every test (a second session of the same identity would replace the first). */
let payerAtt: Promise<Attachment> | undefined;
const thePayer = () => {
  payerAtt ??= attachAs(payerSk, 3).then((a) => a.att);
  return payerAtt;
};

/** The requester pays the provider `amount` for a job (SPSP with the provider, then a PREPARE via the node). */
const payJob = (payer: Attachment, provider: ProviderSpsp, amount: bigint, to = providerSk) =>
  harness.payJob(payer, payerSk, provider, amount, to);

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs `crosstown earnings <args> --format json` as a real child process on the test's chain; parses its output. */
async function earningsCli(args: string[], home: string, env: Record<string, string> = {}) {
  // The launcher (dist/ when the build is current, as installed; src/ through tsx otherwise).
  const [cmd, cliArgs] = cliCommand([
    'earnings',
    ...args,
    '--format',
    'json',
    '--network',
    'devnet',
    '--rpc-url',
    chain.anvil.rpcUrl,
    '--token',
    chain.network.token,
    '--channels',
    chain.network.channels,
    '--provider-home',
    home,
    '--home',
    join(dir, 'home'),
  ]);
  const { stdout } = await promisify(execFile)(cmd, cliArgs, {
    timeout: 30_000,
    env: { ...process.env, ...env },
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

beforeAll(async () => {
  chain = await startDevChain({ accounts: 5 });
  dir = mkdtempSync(join(tmpdir(), 'crosstown-earnings-'));
  config = testNodeConfig(chain, join(dir, 'node'));
  node = await startNode(config, { logger: createLogger({ write: () => {} }) });
});

afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => {});
  await node?.stop();
  await chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('provider earnings', () => {
  it('survive a provider restart: the next claim is accepted, the watcher redeems them, the CLI reports them', async () => {
    const payer = await thePayer();
    let provider = await startProvider();
    await payJob(payer, provider.spsp, 3000n);
    await payJob(payer, provider.spsp, 4000n);
    await until(() => provider.earnings.receiver.paid === 7000n, 'the node to pay the provider');

    // The provider restarts: nothing of its memory survives but its home directory.
    await provider.stop();
    provider = await startProvider();
    expect(provider.earnings.receiver.paid).toBe(7000n);
    await payJob(payer, provider.spsp, 5000n);
    // The node's claim continues from 7000: accepted, nothing left unpaid on either side.
    await until(() => provider.earnings.receiver.paid === 12_000n, "the node's next claim to be accepted");
    expect(provider.earnings.unpaid.total).toBe(0n);
    expect(provider.earnings.ledger.summary()).toMatchObject({
      earned: 12_000n,
      claimed: 12_000n,
      unclaimed: 0n,
    });

    // The node starts closing its channel to the provider: the watcher redeems the best claim before the end.
    const nodeClients = { public: payer.clients.public };
    const [channel] = (
      await listChannels(nodeClients.public, {
        channels: chain.network.channels,
        wallet: provider.att.walletAddress,
      })
    ).filter((c) => c.role === 'receiver');
    expect(channel?.sender.toLowerCase()).toBe(node.settlementAddress.toLowerCase());
    const before = await tokenBalance(nodeClients.public, {
      token: chain.network.token,
      owner: provider.att.walletAddress,
    });
    const { createChainClients } = await import('../../src/chain/index.js');
    const nodeWallet = createChainClients({
      rpcUrl: chain.anvil.rpcUrl,
      chainId: chain.anvil.chainId,
      privateKey: chain.anvil.accounts[1]!.privateKey,
    });
    await startClose(nodeWallet, { channels: chain.network.channels, channelId: channel!.channelId });
    await until(
      async () =>
        (await tokenBalance(nodeClients.public, {
          token: chain.network.token,
          owner: provider.att.walletAddress,
        })) -
          before ===
        12_000n,
      'the watcher to redeem',
    );

    // The operator's view, from a real `crosstown earnings` process reading the ledger and the chain.
    const report = await earningsCli([], providerHome());
    expect(report).toMatchObject({
      servedJobs: 3,
      earned: '12000',
      claimed: '12000',
      unclaimed: '0',
      redeemed: '12000',
      redeemable: '0',
    });
  });

  it('a claim accepted whose answer was lost: the node asks on reconnect and its next claim is accepted', async () => {
    const payer = await thePayer();
    const sk = generateSecretKey();
    const provider = await startProvider(sk, 0, join(dir, 'provider-flaky'));
    await payJob(payer, provider.spsp, 1000n, sk);
    await until(() => provider.earnings.receiver.paid === 1000n, 'the first claim');
    provider.link.dropAfterAccept = true;
    await payJob(payer, provider.spsp, 2000n, sk);
    await until(() => provider.earnings.receiver.paid === 3000n, 'the claim whose answer is lost');
    // Reconnected, the node resynced from our signed cumulative: the next claim continues from 3000.
    await payJob(payer, provider.spsp, 4000n, sk);
    await until(() => provider.earnings.receiver.paid === 7000n, "the node's next claim");
    expect(provider.earnings.unpaid.total).toBe(0n);
    const peer = provider.att.spsp.ilpAddress.split('.').at(-1)!;
    // The node books the claim when the provider's answer comes back, a moment after the provider counted it.
    await until(() => node.connector.balance(peer).paidToPeer === 7000n, 'the node to book the claim');
    expect(node.connector.balance(peer)).toMatchObject({ owedToPeer: 0n, paidToPeer: 7000n });
  });

  it('`crosstown earnings redeem` collects what the accepted claims cover; the report shows it redeemed', async () => {
    const payer = await thePayer();
    const sk = generateSecretKey();
    const home = join(dir, 'provider-redeem');
    const provider = await startProvider(sk, 4, home);
    await payJob(payer, provider.spsp, 1500n, sk);
    await payJob(payer, provider.spsp, 2500n, sk);
    await until(() => provider.earnings.receiver.paid === 4000n, 'the node to pay the provider');
    await provider.stop();

    const wallet = chain.anvil.accounts[4]!;
    const balance = () =>
      tokenBalance(payer.clients.public, { token: chain.network.token, owner: wallet.address });
    const before = await balance();
    expect(await earningsCli([], home)).toMatchObject({
      servedJobs: 2,
      earned: '4000',
      claimed: '4000',
      redeemed: '0',
      redeemable: '4000',
    });
    // The provider's wallet key, as an operator without a keystore gives it (plaintext, explicitly allowed).
    const key = { GASTOWN_WALLET_PRIVATE_KEY: wallet.privateKey, GASTOWN_ALLOW_UNENCRYPTED_KEYS: 'true' };
    const redeemed = await earningsCli(['redeem'], home, key);
    expect(redeemed).toMatchObject({ paid: '4000', channels: [expect.objectContaining({ paid: '4000' })] });
    expect((await balance()) - before).toBe(4000n);
    expect(await earningsCli([], home)).toMatchObject({ claimed: '4000', redeemed: '4000', redeemable: '0' });
  });
});
