// Issue 14's limits, across peers: chain reads that peers cause share one budget. SPSP makes a peer for any fresh
// key, and each peer without a bound channel made the node scan the chain for one (at most every 2 s per peer) on
// its packets' path; 2,000 connected Sybil peers could spend a public RPC endpoint's quota and with it the node's
// own settlement. A counting JSON-RPC proxy in front of a real anvil shows that Sybil peers now cost a bounded
// number of reads, that the refused packets say why, and that a peer whose channel is bound keeps paying.
import { randomBytes } from 'node:crypto';
import { type Address, getAddress } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevChain, openChannel, startDevChain } from '../../src/chain/index.js';
import { BtpClient } from '../../src/connector/index.js';
import { IlpPacketType, type IlpReject } from '../../src/ilp/index.js';
import { type RpcCounter, startRpcCounter } from '../support/rpc-counter.js';
import { addMayor, anvilAccounts, makeEvent, type Node, paidWrite, startNodeReadingVia } from './helpers.js';

const BURST = 3;
let dev: DevChain;
let rpc: RpcCounter;
let node: Node;
const { clients, addr } = anvilAccounts(() => dev);
const links: BtpClient[] = [];

beforeAll(async () => {
  dev = await startDevChain({ accounts: 4 });
  rpc = await startRpcCounter(dev.anvil.rpcUrl);
  // The node's reads go through the counter; the payers use anvil directly.
  node = await startNodeReadingVia(dev, rpc.url, {
    claimLimits: { allPeersChainReads: { capacity: BURST, perSecond: 0.001 } },
  });
});

afterAll(async () => {
  for (const l of links) await l.close();
  await node?.close();
  await rpc?.close();
  await dev?.stop();
});

async function mayor(id: string, settlementAddress: Address) {
  const m = addMayor(node, id, { settlementAddress, creditLimit: 10n ** 15n });
  const client = await BtpClient.connect({ url: node.connector.btpUrl, authToken: m.authToken });
  links.push(client);
  return { ...m, client };
}

describe('chain reads all peers cause share one budget', () => {
  it('Sybil peers without channels cost a bounded number of chain scans; a bound peer keeps paying', async () => {
    // An honest Mayor opens its channel and is bound by its first write, before the flood.
    const honest = await mayor('honest', addr(2));
    await openChannel(clients(2), {
      channels: dev.network.channels,
      token: dev.network.token,
      receiver: addr(1),
      amount: 10n ** 16n,
      challengeWindow: 3600n,
    });
    const first = paidWrite(makeEvent(), honest.destination, honest.sharedSecret);
    expect((await honest.client.sendPrepare(first.prepare)).type).toBe(IlpPacketType.Fulfill);

    // The honest Mayor's scan took one read from the budget; the flood gets what is left.
    const left = BURST - 1;
    const before = rpc.total;
    const logsBefore = rpc.count('eth_getLogs');
    const sybils = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        mayor(`sybil${i}`, getAddress(`0x${randomBytes(20).toString('hex')}`)),
      ),
    );
    const replies = await Promise.all(
      sybils.map((s) => s.client.sendPrepare(paidWrite(makeEvent(), s.destination, s.sharedSecret).prepare)),
    );
    // None has a channel: every write is refused T04, nothing credited ...
    expect(replies.map((r) => r.type)).toEqual(replies.map(() => IlpPacketType.Reject));
    const messages = replies.map((r) => (r as IlpReject).message);
    expect(replies.every((r) => (r as IlpReject).code === 'T04')).toBe(true);
    // ... what is left of the burst paid for a scan each (two log queries for a wallet with no channel); the
    // others were refused before any read, and say why. Without the shared budget all 12 would have scanned.
    const busy = messages.filter((m) => /chain-read limit for all peers/.test(m));
    expect(busy.length).toBe(12 - left);
    expect(messages.filter((m) => /open one/.test(m)).length).toBe(left);
    expect(rpc.count('eth_getLogs') - logsBefore).toBe(2 * left);
    expect(rpc.total - before).toBe(2 * left);

    // The honest Mayor's channel is bound and cached: its writes need no read from the empty budget.
    const again = paidWrite(makeEvent(), honest.destination, honest.sharedSecret);
    expect((await honest.client.sendPrepare(again.prepare)).type).toBe(IlpPacketType.Fulfill);
  });
});
