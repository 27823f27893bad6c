// Issue 13 item 6, the provider's closure watcher across restarts, on a real anvil, a real node and two attached
// Mayors: the watcher persists its scan position in <provider home>/chain-state.json; a provider restarted after
// the chain moved on resumes after that block (before: from the first block the provider ever ran, rescanning
// everything), and a close the node started while the provider was down is still redeemed.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createChainClients,
  type DevChain,
  listChannels,
  startClose,
  startDevChain,
  tokenBalance,
} from '../../src/chain/index.js';
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
const startProvider = (
  onAttached?: (att: Attachment) => void,
  sk = providerSk,
  account = 2,
  home = providerHome(),
) => harness.startProvider({ sk, account, home, ...(onAttached ? { onAttached } : {}) });

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

beforeAll(async () => {
  chain = await startDevChain({ accounts: 4 });
  dir = mkdtempSync(join(tmpdir(), 'crosstown-scan-'));
  config = testNodeConfig(chain, join(dir, 'node'));
  node = await startNode(config, { logger: createLogger({ write: () => {} }) });
});

afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => {});
  await node?.stop();
  await chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const savedScan = (): bigint | undefined => {
  const path = join(providerHome(), 'chain-state.json');
  if (!existsSync(path)) return undefined;
  const s = JSON.parse(readFileSync(path, 'utf8')) as { lastScannedBlock?: string; genesisHash?: string };
  return s.lastScannedBlock === undefined ? undefined : BigInt(s.lastScannedBlock);
};

describe('provider closure watcher across a restart', () => {
  it('resumes after the persisted block and redeems a close started while the provider was down', async () => {
    const payer = (await attachAs(payerSk, 3)).att;
    let provider = await startProvider();
    await payJob(payer, provider.spsp, 3000n);
    await until(() => provider.earnings.receiver.paid === 3000n, 'the node to pay the provider');
    const firstBlock = await payer.clients.public.getBlockNumber();
    await payer.clients.public.request({ method: 'anvil_mine' as never, params: ['0x5'] as never });
    await until(() => (savedScan() ?? -1n) >= firstBlock, 'the scan position to be persisted', 10_000);
    await provider.stop();

    // While the provider is down: the chain moves on and the node starts closing its channel to the provider.
    await payer.clients.public.request({ method: 'anvil_mine' as never, params: ['0x40'] as never });
    const [channel] = (
      await listChannels(payer.clients.public, {
        channels: chain.network.channels,
        wallet: provider.att.walletAddress,
      })
    ).filter((c) => c.role === 'receiver');
    const nodeWallet = createChainClients({
      rpcUrl: chain.anvil.rpcUrl,
      chainId: chain.anvil.chainId,
      privateKey: chain.anvil.accounts[1]!.privateKey,
    });
    await startClose(nodeWallet, { channels: chain.network.channels, channelId: channel!.channelId });
    const lastScanned = savedScan()!;
    const before = await tokenBalance(payer.clients.public, {
      token: chain.network.token,
      owner: provider.att.walletAddress,
    });

    // Restarted: the first range scanned starts right after the persisted block, not at the provider's first block.
    const ranges: bigint[] = [];
    provider = await startProvider((att) => {
      const pub = att.clients.public as unknown as Record<string, (...a: unknown[]) => unknown>;
      const real = pub.getContractEvents!.bind(pub);
      pub.getContractEvents = (args: unknown) => {
        ranges.push((args as { fromBlock: bigint }).fromBlock);
        return real(args);
      };
    });
    await until(
      async () =>
        (await tokenBalance(payer.clients.public, {
          token: chain.network.token,
          owner: provider.att.walletAddress,
        })) -
          before ===
        3000n,
      'the watcher to redeem the close started while the provider was down',
    );
    expect(ranges[0]).toBe(lastScanned + 1n);
    expect(ranges.every((from) => from > lastScanned)).toBe(true);
    // And the position keeps moving.
    await until(() => savedScan()! > lastScanned, 'the new scan position to be persisted', 10_000);
  });
});
