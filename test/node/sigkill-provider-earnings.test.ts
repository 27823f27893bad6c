// Issue 15 "provider earnings under a node kill", on real processes: anvil, `crosstown node start` as a child
// process, a requester and a provider (SPSP responder + durable earnings, as provider mode composes them) attached
// to it. The node is SIGKILLed right after it forwarded the provider's payments (its claims to the provider may be
// cut), then started again on the same data dir and ports while both stay attached. After the restart the node
// claims what it owes the provider (its resync asks the provider), a payment after the restart goes through, and
// the books agree to the base unit: the requester paid each payment once, the node's accepted claim from the
// requester = its claims to the provider = the provider's earnings (earnings.jsonl), nothing earned left unclaimed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevChain, startDevChain } from '../../src/chain/index.js';
import { openConnectorStore } from '../../src/connector/index.js';
import { EarningsLedger } from '../../src/mayor/runtime/earnings-ledger.js';
import type { RunningNode } from '../../src/node/index.js';
import { generateSecretKey } from '../../src/nostr/index.js';
import { providerHarness } from '../mayor/provider-earnings-harness.js';
import { waitFor } from '../mayor/runtime/helpers.js';
import { killNodeProcess, type NodeProcess, startNodeProcess } from '../support/node-process.js';

const PRICE = 2n * 10n ** 15n;
let chain: DevChain;
let dir: string;
let node: NodeProcess | undefined;
const closers: (() => Promise<unknown>)[] = [];
const { attachAs, startProvider, payJob } = providerHarness(
  () => ({
    chain,
    node: { relayUrl: node!.endpoints.relayUrl, pubkey: node!.endpoints.pubkey } as RunningNode,
  }),
  closers,
);

beforeAll(async () => {
  chain = await startDevChain({ accounts: 4 });
  dir = mkdtempSync(join(tmpdir(), 'crosstown-node-kill-earnings-'));
});

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  await killNodeProcess(node);
  await chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const startNode = async (ports?: { relay: string; btp: string }) => {
  node = await startNodeProcess({
    chain,
    dataDir: join(dir, 'node'),
    walletKey: chain.anvil.accounts[1]!.privateKey,
    ...(ports && { extraArgs: ['--relay-port', ports.relay, '--btp-port', ports.btp] }),
  });
  return node;
};

describe('SIGKILL of the node under a paying requester and a provider', () => {
  it("the provider's earnings are claimed once after the restart; node, requester and provider books agree", async () => {
    const first = await startNode();
    const ports = {
      relay: new URL(first.endpoints.relayUrl).port,
      btp: new URL(first.endpoints.btpUrl).port,
    };
    const providerSk = generateSecretKey();
    const payerSk = generateSecretKey();
    const home = join(dir, 'provider');
    const provider = await startProvider({ sk: providerSk, account: 3, home });
    const payer = (await attachAs(payerSk, 2)).att;
    const ledger = () => {
      const l = EarningsLedger.open(home);
      try {
        return l.summary();
      } finally {
        l.close();
      }
    };
    // Two payments; the node is killed the moment the second is fulfilled: its claim to the provider for it is
    // cut or not, either way the node's books and the provider's must meet again after the restart.
    await payJob(payer, payerSk, provider.spsp, PRICE, providerSk);
    await payJob(payer, payerSk, provider.spsp, PRICE + 1n, providerSk);
    first.child.kill('SIGKILL');
    expect(await first.exit).toEqual({ code: null, signal: 'SIGKILL' });
    const second = await startNode(ports);
    await waitFor(() => payer.btp.connected && provider.att.btp.connected, 20_000, 'both re-attached');
    // A payment after the restart goes through (the node kept the provider's route and its channels).
    await payJob(payer, payerSk, provider.spsp, PRICE + 2n, providerSk);
    const earned = 3n * PRICE + 3n;
    // The node claims everything it owes the provider: what it owed before the kill came back from connector.db
    // (or from its resync, which asks the provider).
    await waitFor(() => ledger().unclaimed === 0n, 20_000, 'the provider fully claimed').catch((err) => {
      throw new Error(
        `${(err as Error).message}: ${JSON.stringify(ledger(), (_, v) => (typeof v === 'bigint' ? `${v}` : v))}\nnode stderr: ${second.stderr()}`,
      );
    });
    await payer.settle();
    const summary = ledger();
    expect(summary.earned).toBe(earned);
    expect(summary.claimed).toBe(earned);
    expect(summary.jobs.map((j) => j.amount).sort()).toEqual([PRICE, PRICE + 1n, PRICE + 2n]);
    const paid = payer.channel();
    await provider.stop();
    second.child.kill('SIGTERM');
    expect(await second.exit).toEqual({ code: 0, signal: null });
    const books = openConnectorStore({ path: join(dir, 'node', 'connector.db') });
    try {
      // The requester paid exactly the three payments, once; the node paid the provider exactly those.
      expect(paid.cumulative).toBe(earned);
      expect(books.acceptedClaim(paid.channelId)?.cumulativeAmount).toBe(earned);
      const providerPeer = provider.att.spsp.ilpAddress.split('.').at(-1)!;
      expect(books.outgoing(providerPeer)?.cumulative).toBe(earned);
      expect(books.unpaid(providerPeer, 'out')).toEqual([]);
    } finally {
      books.close();
    }
  }, 90_000);
});
