// Settlement end to end on a real anvil: SPSP over Nostr (responder called directly), a Mayor opens a channel,
// pays for 100 writes over BTP with claims bound to the fulfilled packets, the node redeems on-chain; the
// refusals of bad claims; the node paying a provider Mayor; the closure watcher.
import { randomBytes } from 'node:crypto';
import type { Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claimDomain,
  type DevChain,
  openChannel,
  signClaim,
  startClose,
  startDevChain,
} from '../../src/chain/index.js';
import {
  BtpClient,
  type ClaimMessage,
  ClaimReceiver,
  ClaimSender,
  createSpspResponder,
  type SpspResponder,
  UnpaidPackets,
} from '../../src/connector/index.js';
import { deriveFulfillment, IlpPacketType, type IlpReject } from '../../src/ilp/index.js';
import {
  buildSpspRequest,
  generateSecretKey,
  getPublicKey,
  parseSpspResponse,
  type SpspResponse,
} from '../../src/nostr/index.js';
import {
  anvilAccounts,
  makeEvent,
  type Node,
  PRICE,
  paidWrite,
  proveSettlement,
  startNode,
} from './helpers.js';

const M2M = 10n ** 18n;
let dev: DevChain;
let node: Node;
let respond: SpspResponder;
let domain: ReturnType<typeof claimDomain>;
const nodeSk = generateSecretKey();
const { clients, addr, balanceOf } = anvilAccounts(() => dev);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

beforeAll(async () => {
  dev = await startDevChain({ accounts: 7 });
  domain = claimDomain(dev.anvil.chainId, dev.network.channels);
  node = await startNode({
    settlement: {
      clients: clients(1),
      token: dev.network.token,
      channels: dev.network.channels,
      channelDeposit: M2M,
      settleThreshold: 0n,
    },
  });
  respond = createSpspResponder({
    secretKey: nodeSk,
    connector: node.connector,
    secrets: node.secrets,
    basePricePerByte: PRICE,
    settlement: {
      chainId: dev.anvil.chainId,
      token: dev.network.token,
      channelContract: dev.network.channels,
      settlementAddress: addr(1),
    },
    btpUrl: node.connector.btpUrl,
    creditLimit: 200_000n,
  });
});

afterAll(async () => {
  await node?.close();
  await dev?.stop();
});

/** A Mayor doing the Nostr SPSP handshake with the node, then connecting over BTP. */
async function mayor(
  account: number,
  onPrepare?: Parameters<typeof BtpClient.connect>[0]['onPrepare'],
  onClaim?: (m: ClaimMessage) => Promise<void>,
) {
  const sk = generateSecretKey();
  const req = buildSpspRequest(sk, getPublicKey(nodeSk), {
    requestId: `r${account}`,
    settlementAddress: addr(account),
    settlementProof: await proveSettlement(dev.anvil.accounts[account]!.privateKey, sk, getPublicKey(nodeSk)),
    supportedChains: [dev.anvil.chainId],
  });
  const { response } = parseSpspResponse(respond(req), sk, req.id);
  const peerId = response.ilpAddress.split('.').at(-1)!;
  const client = await BtpClient.connect({
    url: response.btpUrl,
    authToken: response.btpToken,
    ...(onPrepare ? { onPrepare } : {}),
    ...(onClaim ? { onClaim } : {}),
  });
  const secret = new Uint8Array(Buffer.from(response.sharedSecret, 'base64'));
  return { sk, response, peerId, client, secret, req };
}

describe('SPSP responder', () => {
  it('answers with a relay account, price, settlement, the Mayor address and a stable BTP token', async () => {
    const sk = generateSecretKey();
    const req = buildSpspRequest(sk, getPublicKey(nodeSk), {
      requestId: 'x',
      settlementAddress: addr(5),
      settlementProof: await proveSettlement(dev.anvil.accounts[5]!.privateKey, sk, getPublicKey(nodeSk)),
    });
    const first: SpspResponse = parseSpspResponse(respond(req), sk, req.id).response;
    expect(first.destinationAccount.startsWith('g.crosstown.node1.relay.')).toBe(true);
    expect(first.ilpAddress).toBe(`g.crosstown.node1.${getPublicKey(sk).slice(0, 16)}`);
    expect(first.basePricePerByte).toBe(PRICE);
    expect(first.settlement).toEqual({
      chainId: dev.anvil.chainId,
      token: dev.network.token,
      channelContract: dev.network.channels,
      settlementAddress: addr(1),
    });
    expect(node.secrets.secretFor(first.destinationAccount)).toEqual(
      new Uint8Array(Buffer.from(first.sharedSecret, 'base64')),
    );
    const again = buildSpspRequest(sk, getPublicKey(nodeSk), { requestId: 'y' });
    const second = parseSpspResponse(respond(again), sk, again.id).response;
    expect(second.btpToken).toBe(first.btpToken);
    expect(second.ilpAddress).toBe(first.ilpAddress);
    // A request for another chain is refused; one addressed to another key does not parse.
    expect(() =>
      respond(buildSpspRequest(sk, getPublicKey(nodeSk), { requestId: 'z', supportedChains: [1] })),
    ).toThrow(/settles on/);
    expect(() =>
      respond(buildSpspRequest(sk, getPublicKey(generateSecretKey()), { requestId: 'w' })),
    ).toThrow();
  });
});

describe('paid writes settled through a channel', () => {
  it('100 writes: the relay stores them, claims cover exactly the prices, an on-chain claim transfers exactly that', async () => {
    const m = await mayor(2);
    const payer = new ClaimSender({
      clients: clients(2),
      domain,
      token: dev.network.token,
      receiver: addr(1),
      deposit: M2M,
    });
    await payer.reserve(0n); // the node gives no credit before a channel: open it first
    let total = 0n;
    const events = Array.from({ length: 100 }, () => makeEvent());
    for (let i = 0; i < events.length; i++) {
      const w = paidWrite(events[i]!, m.response.destinationAccount, m.secret);
      const reply = await m.client.sendPrepare(w.prepare);
      expect(reply.type).toBe(IlpPacketType.Fulfill);
      payer.recordFulfilled(hex(w.prepare.executionCondition), w.price);
      total += w.price;
      // Settlement threshold: one claim per 10 writes.
      if (payer.unpaid.size >= 10) await payer.settle((msg) => m.client.sendClaim(msg));
    }
    expect(await node.store.count([{ ids: events.map((e) => e.id) }])).toBe(100);
    expect(node.connector.balance(m.peerId)).toMatchObject({
      owedByPeer: 0n,
      paidByPeer: total,
      inFlight: 0n,
    });
    const before = await balanceOf(addr(1));
    expect(await node.connector.redeem(m.peerId)).toBe(total);
    expect((await balanceOf(addr(1))) - before).toBe(total);
    expect(await node.connector.redeem(m.peerId)).toBe(0n); // nothing twice
    await m.client.close();
  });
});

describe('claim refusals', () => {
  let m: Awaited<ReturnType<typeof mayor>>;
  let channelId: Hex;
  let cumulative = 0n;
  let pays: string[] = [];
  let owed = 0n;

  beforeAll(async () => {
    m = await mayor(3);
    ({ channelId } = await openChannel(clients(3), {
      channels: dev.network.channels,
      token: dev.network.token,
      receiver: addr(1),
      amount: M2M,
      challengeWindow: 3600n,
    }));
    // Fulfill packets up to the credit limit (200000), then the next one is refused T04.
    for (;;) {
      const w = paidWrite(makeEvent(), m.response.destinationAccount, m.secret);
      const r = await m.client.sendPrepare(w.prepare);
      if (r.type === IlpPacketType.Reject) {
        expect((r as IlpReject).code).toBe('T04');
        break;
      }
      pays.push(hex(w.prepare.executionCondition));
      owed += w.price;
    }
  });

  const claim = async (amount: bigint, opts: { signer?: number; channel?: Hex; pays?: string[] } = {}) => {
    const c = await signClaim({
      signer: dev.anvil.accounts[opts.signer ?? 3]!.privateKey,
      domain,
      claim: { channelId: opts.channel ?? channelId, cumulativeAmount: amount },
    });
    return m.client.sendClaim({ ...c, pays: opts.pays ?? pays });
  };
  const unchanged = () =>
    expect(node.connector.balance(m.peerId)).toMatchObject({ owedByPeer: owed, paidByPeer: 0n });

  it('refuses a forged claim (signed by another key)', async () => {
    await expect(claim(cumulative + owed, { signer: 4 })).rejects.toThrow(/CLAIM_BAD_SIGNATURE/);
    unchanged();
  });

  it('refuses claims increasing by more or less than fulfilled', async () => {
    await expect(claim(cumulative + owed + 1n)).rejects.toThrow(/CLAIM_WRONG_INCREMENT/);
    await expect(claim(cumulative + owed - 1n)).rejects.toThrow(/CLAIM_WRONG_INCREMENT/);
    await expect(claim(cumulative + owed, { pays: pays.slice(1) })).rejects.toThrow(/CLAIM_WRONG_INCREMENT/);
    unchanged();
  });

  it('refuses packets that were never fulfilled or are listed twice', async () => {
    await expect(claim(cumulative + owed, { pays: [...pays, hex(randomBytes(32))] })).rejects.toThrow(
      /CLAIM_UNKNOWN_PACKET/,
    );
    await expect(claim(cumulative + owed, { pays: [...pays, pays[0]!] })).rejects.toThrow(
      /CLAIM_UNKNOWN_PACKET/,
    );
    unchanged();
  });

  it('refuses a claim over the deposit and a channel that is not from the peer to the node', async () => {
    const small = await openChannel(clients(3), {
      channels: dev.network.channels,
      token: dev.network.token,
      receiver: addr(1),
      amount: owed - 1n,
      challengeWindow: 3600n,
    });
    await expect(claim(owed, { channel: small.channelId })).rejects.toThrow(/CLAIM_OVER_DEPOSIT/);
    const strangers = await openChannel(clients(4), {
      channels: dev.network.channels,
      token: dev.network.token,
      receiver: addr(1),
      amount: M2M,
      challengeWindow: 3600n,
    });
    await expect(claim(owed, { channel: strangers.channelId })).rejects.toThrow(
      /CLAIM_WRONG_CHANNEL.*sender/,
    );
    await expect(
      m.client.sendClaim({ channelId, cumulativeAmount: 1n, signature: '0x12', pays }),
    ).rejects.toThrow();
    unchanged();
  });

  it('serves again (no T04) once a valid claim arrives', async () => {
    await claim(cumulative + owed);
    cumulative += owed;
    expect(node.connector.balance(m.peerId)).toMatchObject({ owedByPeer: 0n, paidByPeer: owed });
    const w = paidWrite(makeEvent(), m.response.destinationAccount, m.secret);
    expect((await m.client.sendPrepare(w.prepare)).type).toBe(IlpPacketType.Fulfill);
    pays = [hex(w.prepare.executionCondition)];
    owed = w.price;
    // The same claim replayed pays for nothing new.
    await expect(claim(cumulative)).rejects.toThrow(/CLAIM_WRONG_INCREMENT/);
  });

  it('the watcher redeems the best claim when the Mayor starts closing', async () => {
    await claim(cumulative + owed);
    cumulative += owed;
    const before = await balanceOf(addr(1));
    await startClose(clients(3), { channels: dev.network.channels, channelId });
    for (let i = 0; i < 200 && (await balanceOf(addr(1))) === before; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect((await balanceOf(addr(1))) - before).toBe(cumulative);
  });
});

describe('the node pays a provider Mayor', () => {
  it('opens a channel to the provider and signs claims for exactly what the provider fulfilled', async () => {
    const providerUnpaid = new UnpaidPackets();
    let receiver: ClaimReceiver | undefined;
    const secret = new Uint8Array(randomBytes(32));
    const provider = await mayor(
      5,
      async (p) => {
        // Record before answering: the node's claim can only follow the FULFILL.
        providerUnpaid.add(hex(p.executionCondition), p.amount);
        return {
          type: IlpPacketType.Fulfill,
          fulfillment: deriveFulfillment(secret, p.data),
          data: new Uint8Array(),
        };
      },
      async (msg) => {
        await receiver!.accept(msg, providerUnpaid);
      },
    );
    receiver = new ClaimReceiver({
      publicClient: clients(5).public,
      domain,
      token: dev.network.token,
      receiver: addr(5),
      sender: addr(1),
    });
    const payer = await mayor(6); // an identity of its own, with a channel of its own
    await openChannel(clients(6), {
      channels: dev.network.channels,
      token: dev.network.token,
      receiver: addr(1),
      amount: M2M,
      challengeWindow: 3600n,
    });
    const dest = `${provider.response.ilpAddress}.jobs`;
    let sent = 0n;
    for (let i = 0; i < 5; i++) {
      const w = paidWrite(makeEvent(), dest, secret, { amount: 1000n + BigInt(i) });
      expect((await payer.client.sendPrepare(w.prepare)).type).toBe(IlpPacketType.Fulfill);
      sent += w.prepare.amount;
    }
    // The node's side counts a claim as paid when the provider's BTP Response arrives, just after acceptance.
    const settled = () =>
      receiver!.paid >= sent && node.connector.balance(provider.peerId).paidToPeer >= sent;
    for (let i = 0; i < 200 && !settled(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(receiver.paid).toBe(sent);
    expect(providerUnpaid.total).toBe(0n);
    expect(node.connector.balance(provider.peerId)).toMatchObject({ owedToPeer: 0n, paidToPeer: sent });
    await provider.client.close();
    await payer.client.close();
  });
});
