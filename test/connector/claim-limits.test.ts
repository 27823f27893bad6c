// Issue 14 (limits leftovers): claims and payment-channel-status requests over BTP cost the node chain reads
// (one eth_call per channel it has not seen), so they get per-peer budgets. A hostile peer floods claims and status
// requests for channels that do not exist; a counting JSON-RPC proxy in front of anvil shows the node's RPC calls
// stay bounded, while an honest peer on the same node still pays with claims and reads its status.
import { randomBytes } from 'node:crypto';
import type { Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDomain, type DevChain, openChannel, signClaim, startDevChain } from '../../src/chain/index.js';
import { BtpClient, DEFAULT_CLAIM_LIMITS } from '../../src/connector/index.js';
import { IlpPacketType } from '../../src/ilp/index.js';
import { type RpcCounter, startRpcCounter } from '../support/rpc-counter.js';
import { addMayor, anvilAccounts, makeEvent, type Node, paidWrite, startNodeReadingVia } from './helpers.js';

let dev: DevChain;
let rpc: RpcCounter;
let node: Node;
const { clients, addr } = anvilAccounts(() => dev);
const links: BtpClient[] = [];
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const randomChannel = () => `0x${randomBytes(32).toString('hex')}` as Hex;

beforeAll(async () => {
  dev = await startDevChain({ accounts: 4 });
  rpc = await startRpcCounter(dev.anvil.rpcUrl);
  // The node's reads go through the counter; the payers use anvil directly.
  node = await startNodeReadingVia(dev, rpc.url);
});

afterAll(async () => {
  for (const l of links) await l.close();
  await node?.close();
  await rpc?.close();
  await dev?.stop();
});

async function mayor(id: string, account: number) {
  const m = addMayor(node, id, { settlementAddress: addr(account), creditLimit: 10n ** 15n });
  const client = await BtpClient.connect({ url: node.connector.btpUrl, authToken: m.authToken });
  links.push(client);
  return { ...m, client };
}

const sign = (account: number, channelId: Hex, cumulativeAmount: bigint) =>
  signClaim({
    signer: dev.anvil.accounts[account]!.privateKey,
    domain: claimDomain(dev.anvil.chainId, dev.network.channels),
    claim: { channelId, cumulativeAmount },
  });

const open = (account: number, amount: bigint) =>
  openChannel(clients(account), {
    channels: dev.network.channels,
    token: dev.network.token,
    receiver: addr(1),
    amount,
    challengeWindow: 3600n,
  });

describe('claim and status budgets per BTP peer', () => {
  it('a flood of claims and status requests for unknown channels costs a bounded number of RPC reads', async () => {
    // The flooder has a small channel of its own and one fulfilled, unpaid write: a claim naming a packet the node
    // does not know is refused without a read, so each claim below names that real packet.
    const hostile = await mayor('flooder', 3);
    await open(3, 10_000n);
    const w = paidWrite(makeEvent(), hostile.destination, hostile.sharedSecret);
    expect((await hostile.client.sendPrepare(w.prepare)).type).toBe(IlpPacketType.Fulfill);
    const owed = hex(w.prepare.executionCondition);
    const before = rpc.total;
    const claims = await Promise.allSettled(
      Array.from({ length: 100 }, async () => {
        const c = await sign(3, randomChannel(), w.price);
        return hostile.client.sendClaim({ ...c, pays: [owed] });
      }),
    );
    const statuses = await Promise.allSettled(
      Array.from({ length: 40 }, () => hostile.client.requestStatus(randomChannel())),
    );
    const cost = rpc.total - before;
    const all = [...claims, ...statuses];
    // Nothing was accepted (none of these channels exists) ...
    expect(all.every((r) => r.status === 'rejected')).toBe(true);
    const reasons = all.map((r) => String((r as PromiseRejectedResult).reason?.message));
    // ... all but the burst were refused by the budget before touching the chain, with a clear BTP error ...
    const limited = reasons.filter((m) => /T05 RateLimitedError: rate-limited: /.test(m));
    const burst = DEFAULT_CLAIM_LIMITS.chainReads.capacity;
    expect(limited.length).toBeGreaterThanOrEqual(all.length - burst - 1);
    expect(limited[0]).toMatch(/channels not yet bound to you/);
    // ... so the node's RPC calls are bounded by the burst (one read per unknown channel), not by the flood.
    expect(cost).toBeGreaterThan(0);
    expect(cost).toBeLessThanOrEqual(burst + 1);
  });

  it('claims above the deposit on its own channel do not buy a chain read each', async () => {
    // A connector peer (configured trust, no channel credit) can owe more than its channel holds. A claim above the
    // cached deposit makes the node re-read the channel in case of a top-up: those re-reads take from the budget.
    const authToken = hex(randomBytes(16));
    node.connector.addPeer({
      id: 'trusted',
      relation: 'peer',
      authToken,
      settlementAddress: addr(0),
      creditLimit: 10n ** 15n,
    });
    const account = node.secrets.issue('trusted');
    const client = await BtpClient.connect({ url: node.connector.btpUrl, authToken });
    links.push(client);
    const { channelId } = await open(0, 5_000n);
    const secret = account.sharedSecret;
    const writes = [0, 1].map(() => paidWrite(makeEvent(), account.destination, secret));
    for (const w of writes) expect((await client.sendPrepare(w.prepare)).type).toBe(IlpPacketType.Fulfill);
    const owed = writes.map((w) => hex(w.prepare.executionCondition));
    const total = writes[0]!.price + writes[1]!.price;
    expect(total).toBeGreaterThan(5_000n);

    const before = rpc.total;
    const results = [];
    for (let i = 0; i < 30; i++) {
      const c = await sign(0, channelId, total);
      results.push(
        await client.sendClaim({ ...c, pays: owed }).then(
          () => 'accepted',
          (e: Error) => e.message,
        ),
      );
    }
    expect(results.every((m) => /CLAIM_OVER_DEPOSIT|rate-limited: /.test(m))).toBe(true);
    expect(
      results.filter((m) => /T05 RateLimitedError: rate-limited: .*above the deposit/.test(m)).length,
    ).toBeGreaterThan(20);
    // One read to bind the channel, then re-reads within the burst: not one per claim.
    expect(rpc.total - before).toBeLessThanOrEqual(DEFAULT_CLAIM_LIMITS.chainReads.capacity + 1);
    // A claim within the deposit still goes through.
    await client.sendClaim({ ...(await sign(0, channelId, writes[0]!.price)), pays: [owed[0]!] });
    expect(node.connector.balance('trusted').paidByPeer).toBe(writes[0]!.price);
  });

  it('an honest peer on the same node still pays with a claim and reads its status', async () => {
    const honest = await mayor('honest', 2);
    const { channelId } = await open(2, 100_000n);
    const secret = honest.sharedSecret;
    const owed: string[] = [];
    let amount = 0n;
    for (let i = 0; i < 3; i++) {
      const w = paidWrite(makeEvent(), honest.destination, secret);
      const reply = await honest.client.sendPrepare(w.prepare);
      expect(reply.type).toBe(IlpPacketType.Fulfill);
      owed.push(hex(w.prepare.executionCondition));
      amount += w.price;
    }
    await honest.client.sendClaim({ ...(await sign(2, channelId, amount)), pays: owed });
    expect(node.connector.balance('honest').paidByPeer).toBe(amount);
    const status = await honest.client.requestStatus(channelId);
    expect(status.cumulativeAmount).toBe(amount);

    // Its channel is bound now: a burst of status requests on it reads nothing from the chain, and only the
    // part beyond the per-peer budget is refused.
    const before = rpc.count('eth_call');
    const burst = await Promise.allSettled(
      Array.from({ length: DEFAULT_CLAIM_LIMITS.perPeer.capacity + 50 }, () =>
        honest.client.requestStatus(channelId),
      ),
    );
    const refused = burst.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length).toBeLessThanOrEqual(50 + 2); // the claim and status above came from the same budget
    for (const r of refused) expect(String(r.reason.message)).toMatch(/T05 RateLimitedError: rate-limited: /);
    expect(rpc.count('eth_call') - before).toBe(0);
  });
});
