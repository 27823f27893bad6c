// Issue 13 items 4 and 7 on a whole node (src/node startNode, real relay, BTP, SQLite, anvil): a payer starts closing
// its channel while the node is down, and the restarted node still redeems; the chain is reset under a running node
// (anvil_reset, contracts redeployed at the same addresses, as a restarted devnet does), and the node refuses
// payments with an error that says what to do, as does a node started with state from the old chain.
// Both failed before: the watcher started at the head, and nothing compared the chain with the node's state.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployPaymentChannels } from '../../src/chain/actions/deployPaymentChannels.js';
import { deployToken } from '../../src/chain/actions/deployToken.js';
import {
  claimDomain,
  createChainClients,
  type DevChain,
  openChannel,
  readChannel,
  signClaim,
  startClose,
  startDevChain,
} from '../../src/chain/index.js';
import { BtpClient } from '../../src/connector/index.js';
import { IlpPacketType } from '../../src/ilp/index.js';
import { createLogger, type NodeConfig, type RunningNode, startNode } from '../../src/node/index.js';
import { generateSecretKey } from '../../src/nostr/index.js';
import { jobEvent, paidWrite, spspOverNostr } from '../devnet/helpers.js';
import { testNodeConfig } from '../support/node-config.js';

const PRICE = 10n ** 13n;
const M2M = 10n ** 18n;
let chain: DevChain;
const dirs: string[] = [];
const running: RunningNode[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
const rpc = async (method: string, params: unknown[]) => {
  const res = await fetch(chain.anvil.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return ((await res.json()) as { result: unknown }).result;
};
const wallet = (i: number) =>
  createChainClients({
    rpcUrl: chain.anvil.rpcUrl,
    chainId: chain.anvil.chainId,
    privateKey: chain.anvil.accounts[i]!.privateKey,
  });
const newDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'crosstown-chain-guard-'));
  dirs.push(d);
  return d;
};
async function boot(config: NodeConfig, lines: string[] = []) {
  const node = await startNode(config, {
    logger: createLogger({ level: 'info', write: (l) => lines.push(l) }),
    watcherPollingMs: 100,
    chainCheckIntervalMs: 300,
  });
  running.push(node);
  return node;
}

/** A Mayor-like payer: SPSP over Nostr, its own channel to the node, writes over BTP, claims it signs. */
async function payer(node: RunningNode, account: number) {
  const sk = generateSecretKey();
  const spsp = await spspOverNostr(node.relayUrl, node.pubkey, sk, {
    walletKey: chain.anvil.accounts[account]!.privateKey, // declares its address, with the proof
  });
  const btp = await BtpClient.connect({ url: spsp.btpUrl, authToken: spsp.btpToken, reconnectDelayMs: 100 });
  const { channelId } = await openChannel(wallet(account), {
    channels: chain.network.channels,
    token: chain.network.token,
    receiver: node.settlementAddress,
    amount: M2M,
    challengeWindow: 3600n,
  });
  let cumulative = 0n;
  let pays: string[] = [];
  let owed = 0n;
  return {
    channelId,
    btp,
    get cumulative() {
      return cumulative;
    },
    async write() {
      const w = paidWrite(jobEvent(sk), spsp, PRICE);
      const reply = await btp.sendPrepare(w.prepare);
      if (reply.type === IlpPacketType.Fulfill) {
        pays.push(Buffer.from(w.prepare.executionCondition).toString('hex'));
        owed += w.prepare.amount;
      }
      return reply;
    },
    async claim() {
      const signed = await signClaim({
        signer: chain.anvil.accounts[account]!.privateKey,
        domain: claimDomain(chain.anvil.chainId, chain.network.channels),
        claim: { channelId, cumulativeAmount: cumulative + owed },
      });
      await btp.sendClaim({ ...signed, pays });
      cumulative += owed;
      owed = 0n;
      pays = [];
    },
  };
}
const claimed = async (channelId: Hex) =>
  (await readChannel(wallet(0).public, { channels: chain.network.channels, channelId })).claimed;

beforeAll(async () => {
  chain = await startDevChain({ accounts: 4 });
});
afterAll(async () => {
  for (const n of running) await n.stop().catch(() => {});
  await chain?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('item 4: a close started while the node is down', () => {
  it('is redeemed by the restarted node (scan from the saved block, restored channels checked)', async () => {
    const config = testNodeConfig(chain, newDir(), { basePricePerByte: PRICE });
    const first = await boot(config);
    const p = await payer(first, 2);
    expect((await p.write()).type).toBe(IlpPacketType.Fulfill);
    await p.claim();
    await first.stop();
    await p.btp.close();
    // While the node is down: the payer starts closing, and the chain moves on.
    await startClose(wallet(2), { channels: chain.network.channels, channelId: p.channelId });
    for (let i = 0; i < 5; i++) await rpc('evm_mine', []);
    expect(await claimed(p.channelId)).toBe(0n);

    const lines: string[] = [];
    await boot(config, lines);
    await until(async () => (await claimed(p.channelId)) === p.cumulative, 'the restarted node to redeem');
    // The log line follows the receipt, which may come a moment after the state is visible.
    const attempts = () =>
      lines
        .map((l) => JSON.parse(l) as { msg: string; channel?: string; outcome?: string })
        .filter((l) => l.msg === 'closing channel: redemption attempt');
    await until(() => attempts().length > 0, 'the attempt to be logged');
    expect(attempts()).toContainEqual(expect.objectContaining({ channel: p.channelId, outcome: 'redeemed' }));
  });
});

// Before the reset below: it needs the contracts in place.
describe('item 7: the contracts code', () => {
  it('a changed token code stops payments; the chain back as it was, they resume', async () => {
    const node = await boot(testNodeConfig(chain, newDir(), { basePricePerByte: PRICE }));
    expect((await node.checkChain()).ok).toBe(true);
    const tokenCode = (await rpc('eth_getCode', [chain.network.token, 'latest'])) as string;
    const otherCode = (await rpc('eth_getCode', [chain.network.channels, 'latest'])) as string;
    await rpc('anvil_setCode', [chain.network.token, otherCode]);
    try {
      const check = await node.checkChain();
      expect(check.ok).toBe(false);
      expect(check.problems.join('; ')).toContain(`the code at ${chain.network.token} (the token) changed`);
      expect(node.connector.paymentsRefused).toMatch(/payments are refused|Payments are refused/);
    } finally {
      await rpc('anvil_setCode', [chain.network.token, tokenCode]);
    }
    expect((await node.checkChain()).ok).toBe(true);
    expect(node.connector.paymentsRefused).toBeUndefined();
  });
});

describe('item 7: a chain reset', () => {
  it('a running node refuses payments with what to do; a node started on the empty chain too', async () => {
    const dataDir = newDir();
    const node = await boot(testNodeConfig(chain, dataDir, { basePricePerByte: PRICE }));
    const p = await payer(node, 3);
    expect((await p.write()).type).toBe(IlpPacketType.Fulfill);
    await p.claim();
    expect((await p.write()).type).toBe(IlpPacketType.Fulfill);
    // Another payer served on credit through its bound channel, no claim yet: its channel is checked too.
    const q = await payer(node, 2);
    expect((await q.write()).type).toBe(IlpPacketType.Fulfill);

    // The devnet's anvil restarted empty; the contracts deployed again at the same addresses.
    await rpc('anvil_reset', []);
    const deployer = wallet(0);
    expect((await deployToken(deployer)).address).toBe(chain.network.token);
    expect((await deployPaymentChannels(deployer)).address).toBe(chain.network.channels);

    // The periodic check notices; the next write and the next claim are refused, saying what to do. (Until it runs,
    // a write is served on the cached channel state, or refused T04 once the credit check finds the channel gone.)
    const refused = (r: { type: number; code?: string }) =>
      r.type === IlpPacketType.Reject && r.code === 'T00';
    let reply = await p.write();
    for (let i = 0; i < 50 && !refused(reply as { type: number; code?: string }); i++) {
      await sleep(100);
      reply = await p.write();
    }
    expect(reply).toMatchObject({ type: IlpPacketType.Reject, code: 'T00' });
    const message = (reply as { message: string }).message;
    expect(message).toMatch(/payments refused/);
    expect(message).toContain(p.channelId);
    expect(message).toContain(q.channelId);
    expect(message).toContain(join(dataDir, 'connector.db'));
    await expect(p.claim()).rejects.toThrow(/CHAIN_MISMATCH/);
    await p.btp.close();
    await q.btp.close();

    // The node restarted with its state from the old chain: refused from the start (the channel is gone).
    await node.stop();
    const restarted = await boot(testNodeConfig(chain, dataDir, { basePricePerByte: PRICE }));
    expect(restarted.connector.paymentsRefused).toContain(p.channelId);
    await restarted.stop();

    // A fresh node on a chain without the contracts refuses payments from the start.
    await rpc('anvil_reset', []);
    const empty = await boot(testNodeConfig(chain, newDir(), { basePricePerByte: PRICE }));
    const check = await empty.checkChain();
    expect(check.ok).toBe(false);
    expect(check.problems.join('; ')).toMatch(/no PaymentChannels contract code/);
    expect(empty.connector.paymentsRefused).toMatch(/devnet/);
  });
});
