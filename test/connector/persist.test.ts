// Settlement surviving restarts, on a real anvil, real BTP over loopback and real SQLite files:
// - the node (its Connector, with its store file closed and reopened) restarts between two claims of a paying
//   Mayor: the next claim is accepted, nothing owed is lost, the node redeems exactly the sum of the prices;
// - the Mayor crashes between the node's acceptance of a claim and its own commit: a fresh ClaimSender resyncs
//   through the payment-channel-status request and continues with exact totals;
// - a resync does not take a packet fulfilled while the status was in flight for one a lost claim paid;
// - a provider that refuses the node's claim for a moment is paid by the node's retry, with nothing else happening;
// - a peer asking about a channel that is not its own is refused and learns nothing.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claimDomain,
  type DevChain,
  openChannel,
  readChannel,
  signClaim,
  startClose,
  startDevChain,
} from '../../src/chain/index.js';
import {
  BtpClient,
  type BtpClientOptions,
  type ChannelStatus,
  type ClaimMessage,
  ClaimReceiver,
  ClaimSender,
  Connector,
  type ConnectorStore,
  openConnectorStore,
  UnpaidPackets,
} from '../../src/connector/index.js';
import { deriveFulfillment, IlpPacketType } from '../../src/ilp/index.js';
import { AccountSecretStore, type NostrRelay, startRelay } from '../../src/relay/index.js';
import { SqliteEventStore } from '../../src/store/index.js';
import { anvilAccounts, makeEvent, NODE, PRICE, paidWrite, RELAY } from './helpers.js';

const M2M = 10n ** 18n;
let dev: DevChain;
let domain: ReturnType<typeof claimDomain>;
let relay: NostrRelay;
let events: SqliteEventStore;
const secrets = new AccountSecretStore(RELAY);
const dir = mkdtempSync(join(tmpdir(), 'crosstown-persist-'));
const dbPath = join(dir, 'connector.db');
const { clients, addr, balanceOf } = anvilAccounts(() => dev);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The node's connector with its store file, on a fixed port so Mayors reconnect by themselves. */
interface RunningNode {
  connector: Connector;
  store: ConnectorStore;
  stop(): Promise<void>;
}
let port = 0;
async function startNode(): Promise<RunningNode> {
  const store = openConnectorStore({ path: dbPath });
  const connector = await Connector.start({
    address: NODE,
    btp: { port },
    store,
    settlement: {
      clients: clients(1),
      token: dev.network.token,
      channels: dev.network.channels,
      channelDeposit: M2M,
    },
  });
  port = connector.port;
  connector.addLocalRoute(RELAY, (p) => relay.handlePrepare(p), 'relay');
  return {
    connector,
    store,
    async stop() {
      await connector.close();
      store.close();
    },
  };
}

let node: RunningNode;

beforeAll(async () => {
  dev = await startDevChain({ accounts: 13 });
  domain = claimDomain(dev.anvil.chainId, dev.network.channels);
  events = new SqliteEventStore({ path: ':memory:' });
  relay = await startRelay({ store: events, secrets, basePricePerByte: PRICE, ilpAddress: RELAY });
  node = await startNode();
});

afterAll(async () => {
  await node?.stop();
  await relay?.close();
  await events?.close();
  await dev?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A Mayor as the node's child (what SPSP would set up), connected over BTP, reconnecting on its own. */
async function mayor(
  account: number,
  handlers: Pick<BtpClientOptions, 'onPrepare' | 'onClaim' | 'onStatus'> = {},
) {
  const id = `mayor${account}`;
  const authToken = randomBytes(16).toString('hex');
  node.connector.addPeer({
    id,
    relation: 'child',
    authToken,
    settlementAddress: addr(account),
    creditLimit: 10n ** 9n,
  });
  const relayAccount = secrets.issue(id);
  const link = { connects: 0 };
  const client = await BtpClient.connect({
    url: node.connector.btpUrl,
    authToken,
    reconnectDelayMs: 50,
    onConnect: () => link.connects++,
    ...handlers,
  });
  /** Waits until the client authenticated again after a node restart. */
  const reconnected = (since: number) => until(() => link.connects > since && client.connected, 'reconnect');
  const newSender = (from?: { channelId: Hex; deposit: bigint; cumulative: bigint }) =>
    new ClaimSender({
      clients: clients(account),
      domain,
      token: dev.network.token,
      receiver: addr(1),
      deposit: M2M,
      ...(from && { channelId: from.channelId, channelDeposit: from.deposit, cumulative: from.cumulative }),
    });
  /** One paid write; returns its condition and price. */
  const write = async (sender: ClaimSender) => {
    const w = paidWrite(makeEvent(), relayAccount.destination, relayAccount.sharedSecret);
    await sender.reserve(w.price); // no credit beyond the channel: open or top up first
    const reply = await client.sendPrepare(w.prepare);
    expect(reply.type).toBe(IlpPacketType.Fulfill);
    sender.recordFulfilled(hex(w.prepare.executionCondition), w.price);
    if (reply.type !== IlpPacketType.Fulfill) throw new Error('unreachable');
    return {
      condition: hex(w.prepare.executionCondition),
      price: w.price,
      fulfillment: hex(reply.fulfillment),
    };
  };
  return {
    id,
    relayAccount,
    client,
    link,
    reconnected,
    newSender,
    write,
    send: (m: Parameters<BtpClient['sendClaim']>[0]) => client.sendClaim(m),
  };
}

/**
 * A provider Mayor the node pays: fulfills every packet for `secret`, keeps what it is owed, and takes the node's
 * claims through a real ClaimReceiver (`refuseClaim` may turn one down first, e.g. a full disk).
 */
async function providerMayor(account: number, refuseClaim: () => boolean = () => false) {
  const unpaid = new UnpaidPackets();
  const secret = new Uint8Array(randomBytes(32));
  const receiver = new ClaimReceiver({
    publicClient: clients(account).public,
    domain,
    token: dev.network.token,
    receiver: addr(account),
    sender: addr(1),
  });
  const m = await mayor(account, {
    onPrepare: async (p) => {
      unpaid.add(hex(p.executionCondition), p.amount);
      return {
        type: IlpPacketType.Fulfill,
        fulfillment: deriveFulfillment(secret, p.data),
        data: new Uint8Array(),
      };
    },
    onClaim: async (msg) => {
      if (refuseClaim()) throw new Error('ENOSPC: no space left on device');
      await receiver.accept(msg, unpaid);
    },
    onStatus: (channelId) => receiver.status(channelId, unpaid),
  });
  return { ...m, unpaid, secret, receiver };
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('node restart between two claims', () => {
  it('keeps unpaid packets, accepted claims and the child peer; the next claim is accepted; redeems exactly the prices', async () => {
    const m = await mayor(2);
    const payer = m.newSender();
    const N = 30;
    const k = 4;
    let total = 0n;
    let unpaidAtRestart = 0n;
    for (let i = 1; i <= N; i++) {
      const { condition, price, fulfillment } = await m.write(payer);
      total += price;
      if (i === 1) {
        // Durable before the FULFILL came back: another connection to the file already sees the packet, with the
        // fulfillment that proves it went through (what a payer that lost its FULFILL may ask for).
        const reader = openConnectorStore({ path: dbPath });
        expect(reader.unpaid(m.id, 'in')).toEqual([{ condition, amount: price, fulfillment }]);
        reader.close();
      }
      if (i % k === 0) expect(await payer.settle(m.send)).toBeGreaterThan(0n);
      if (i === 14) {
        // Between two claims: 12 packets paid by 3 claims, 2 fulfilled and unpaid.
        unpaidAtRestart = node.connector.balance(m.id).owedByPeer;
        expect(unpaidAtRestart).toBeGreaterThan(0n);
        const connects = m.link.connects;
        await node.stop();
        expect(existsSync(dbPath)).toBe(true);
        node = await startNode();
        // The child peer came back from the store: its old token authenticates again.
        expect(node.connector.peer(m.id)?.settlementAddress).toBe(addr(2));
        expect(node.connector.peer(m.id)?.creditLimit).toBe(10n ** 9n);
        await m.reconnected(connects);
        expect(node.connector.balance(m.id)).toMatchObject({
          owedByPeer: unpaidAtRestart,
          paidByPeer: payer.cumulative,
        });
      }
      if (i === 16) {
        // The first claim after the restart continued from the persisted cumulative, not the on-chain 0.
        expect(node.connector.balance(m.id)).toMatchObject({ owedByPeer: 0n, paidByPeer: payer.cumulative });
      }
    }
    expect(await payer.settle(m.send)).toBeGreaterThan(0n); // the remainder (30 = 7 * 4 + 2)
    expect(payer.cumulative).toBe(total);
    expect(node.connector.balance(m.id)).toMatchObject({ owedByPeer: 0n, paidByPeer: total, inFlight: 0n });

    // Restart again with everything paid but nothing redeemed: the restored best claim is redeemed, exactly once.
    const connects = m.link.connects;
    await node.stop();
    node = await startNode();
    await m.reconnected(connects);
    const before = await balanceOf(addr(1));
    expect(await node.connector.redeem(m.id)).toBe(total);
    expect((await balanceOf(addr(1))) - before).toBe(total);
    expect(await node.connector.redeem(m.id)).toBe(0n);
    const onChain = await readChannel(clients(0).public, {
      channels: dev.network.channels,
      channelId: payer.channel!,
    });
    expect(onChain.claimed).toBe(total);
  });

  it('after a restart the closure watcher redeems the persisted claim through the wallet queue', async () => {
    const m = await mayor(5);
    const payer = m.newSender();
    let total = 0n;
    for (let i = 0; i < 3; i++) total += (await m.write(payer)).price;
    await payer.settle(m.send);
    await node.stop();
    node = await startNode(); // the claim now lives only in the store
    const before = await balanceOf(addr(1));
    await startClose(clients(5), { channels: dev.network.channels, channelId: payer.channel! });
    const read = () =>
      readChannel(clients(0).public, { channels: dev.network.channels, channelId: payer.channel! });
    const end = Date.now() + 15_000;
    while ((await read()).claimed < total && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    expect((await read()).claimed).toBe(total);
    expect((await balanceOf(addr(1))) - before).toBe(total);
  }, 30_000);
});

describe('node restart while it pays a provider', () => {
  it('continues its channel to the provider from the persisted cumulative (the provider accepts, nothing reopened)', async () => {
    // The provider Mayor does not restart: its receiver would refuse a claim that started again from 0.
    const provider = await providerMayor(7);
    const { receiver, secret } = provider;
    const payer = await mayor(0); // a requester; its own debt to the node is not the point here
    await payer.newSender().reserve(0n); // it needs a channel for credit
    let sent = 0n;
    const pay = async (amount: bigint) => {
      const w = paidWrite(makeEvent(), `${NODE}.${provider.id}.jobs`, secret, { amount });
      expect((await payer.client.sendPrepare(w.prepare)).type).toBe(IlpPacketType.Fulfill);
      sent += amount;
      // The provider counts the claim before its BTP answer reaches the node, which persists it only then.
      await until(
        () => receiver.paid === sent && node.connector.balance(provider.id).paidToPeer === sent,
        'the node to pay the provider and record it',
      );
    };
    await pay(1000n);
    await pay(2000n);
    const channelBefore = receiver.list()[0]!.channelId;
    const connects = [provider.link.connects, payer.link.connects] as const;
    await node.stop();
    node = await startNode();
    await provider.reconnected(connects[0]);
    await payer.reconnected(connects[1]);
    expect(node.connector.balance(provider.id)).toMatchObject({ paidToPeer: 3000n, owedToPeer: 0n });
    await pay(4000n);
    expect(receiver.list().map((c) => c.channelId)).toEqual([channelBefore]);
    expect(receiver.bestClaim(channelBefore)?.cumulativeAmount).toBe(7000n);
    expect(provider.unpaid.total).toBe(0n);
  });
});

describe('a provider that refuses the claim paying it (its disk was full for a moment)', () => {
  it('is paid by the node trying again later, with no further payment or reconnect', async () => {
    let refusals = 0;
    const provider = await providerMayor(9, () => refusals++ < 2);
    const { receiver, secret } = provider;
    const payer = await mayor(10);
    await payer.newSender().reserve(0n);
    const w = paidWrite(makeEvent(), `${NODE}.${provider.id}.jobs`, secret, { amount: 5000n });
    expect((await payer.client.sendPrepare(w.prepare)).type).toBe(IlpPacketType.Fulfill);
    // The first claim and the first retry are refused; the second retry (1 s + 2 s later) is accepted.
    await until(() => receiver.paid === 5000n, 'the node to pay the provider after two refusals', 8000);
    expect(refusals).toBe(3);
    // The provider counts the claim before its BTP answer reaches the node, which records it only then.
    await until(() => node.connector.balance(provider.id).paidToPeer === 5000n, 'the node to record it');
    expect(node.connector.balance(provider.id)).toMatchObject({ paidToPeer: 5000n, owedToPeer: 0n });
    expect(provider.unpaid.total).toBe(0n);
  });
});

describe('Mayor crash between the node accepting a claim and the Mayor committing it', () => {
  it('a fresh ClaimSender resyncs through payment-channel-status, pays what it forgot, and totals are exact', async () => {
    const m = await mayor(3);
    const first = m.newSender();
    let total = 0n;
    for (let i = 0; i < 4; i++) total += (await m.write(first)).price;
    await first.settle(m.send);
    // What the Mayor managed to commit before the crash: the channel and the cumulative of its FIRST claim.
    const committed = {
      channelId: first.channel!,
      deposit: first.channelDeposit,
      cumulative: first.cumulative,
    };
    for (let i = 0; i < 3; i++) total += (await m.write(first)).price;
    await first.settle(m.send); // accepted by the node, then the Mayor dies before committing it
    let forgotten = 0n;
    for (let i = 0; i < 2; i++) forgotten += (await m.write(first)).price; // fulfilled, never claimed
    total += forgotten;

    const second = m.newSender(committed); // fresh memory, stale cumulative
    const fresh = await m.write(second);
    total += fresh.price;
    // Without resync the node refuses: the claim does not continue from what it accepted.
    await expect(second.settle(m.send)).rejects.toThrow(/CLAIM_WRONG_INCREMENT/);

    // The node's figures are checked: a cumulative it cannot back with our signature is refused.
    const status = await m.client.requestStatus(committed.channelId);
    expect(status.cumulativeAmount).toBe(first.cumulative);
    expect(status.owed.map((p) => p.amount).reduce((a, b) => a + b, 0n)).toBe(forgotten + fresh.price);
    const forged = await signClaim({
      signer: dev.anvil.accounts[4]!.privateKey,
      domain,
      claim: { channelId: committed.channelId, cumulativeAmount: status.cumulativeAmount + 1n },
    });
    const lies: ChannelStatus[] = [
      { ...status, cumulativeAmount: forged.cumulativeAmount, signature: forged.signature },
      { ...status, cumulativeAmount: 5n, signature: null },
    ];
    for (const lie of lies) {
      await expect(second.resync(async () => lie, m.send)).rejects.toMatchObject({
        code: 'RESYNC_BAD_STATUS',
      });
    }
    // More owed than the caller accepts to pay blindly: refused, nothing changed.
    await expect(
      second.resync((id) => m.client.requestStatus(id), m.send, { maxOwed: 1n }),
    ).rejects.toMatchObject({ code: 'RESYNC_OWED_TOO_HIGH' });
    expect(second.cumulative).toBe(committed.cumulative);

    const r = await second.resync((id) => m.client.requestStatus(id), m.send, { maxOwed: 10n ** 9n });
    expect(r).toEqual({
      cumulative: status.cumulativeAmount,
      recovered: forgotten,
      paid: forgotten + fresh.price,
    });
    expect(second.cumulative).toBe(total);
    expect(node.connector.balance(m.id)).toMatchObject({ owedByPeer: 0n, paidByPeer: total });

    // And it goes on normally.
    for (let i = 0; i < 3; i++) total += (await m.write(second)).price;
    await second.settle(m.send);
    expect(second.cumulative).toBe(total);
    const before = await balanceOf(addr(1));
    expect(await node.connector.redeem(m.id)).toBe(total);
    expect((await balanceOf(addr(1))) - before).toBe(total);
  });
});

describe('a packet fulfilled while the status request is in flight', () => {
  it('is paid by the resync, not taken for one a lost claim paid (the status predates it)', async () => {
    const m = await mayor(8);
    const sender = m.newSender();
    let total = 0n;
    for (let i = 0; i < 2; i++) total += (await m.write(sender)).price;
    await sender.settle(m.send);
    total += (await m.write(sender)).price; // owed when the resync starts, listed by the node
    let late = 0n;
    const r = await sender.resync(
      async (id) => {
        const status = await m.client.requestStatus(id);
        // Fulfilled after the node answered: the payer knows of it, the status cannot.
        late = (await m.write(sender)).price;
        return status;
      },
      m.send,
      { maxOwed: 0n },
    );
    total += late;
    expect(r.recovered).toBe(0n);
    expect(sender.cumulative).toBe(total);
    expect(sender.unpaid.total).toBe(0n);
    expect(node.connector.balance(m.id)).toMatchObject({ owedByPeer: 0n, paidByPeer: total });
  });
});

describe('a payee that keeps a claim it answered with an error, then shows it in its status', () => {
  it('is not paid again for the packets that claim paid: its cumulative may rise only by what it stopped listing', async () => {
    const m = await mayor(11);
    const sender = m.newSender();
    const w = await m.write(sender);
    const before = sender.cumulative;
    // The payee takes the claim (it now holds our signature) but answers with an error: the packet is owed again.
    let kept: ClaimMessage | undefined;
    await expect(
      sender.settle(async (msg) => {
        kept = msg;
        throw new Error('disk full');
      }),
    ).rejects.toThrow(/disk full/);
    expect(sender.cumulative).toBe(before);
    expect(sender.unpaid.total).toBe(w.price);
    // Its status: that claim, with our signature, and the packet it paid still listed as owed. Believed, it would
    // pay the packet a second time on every reconnect (the node resyncs each time a provider connects).
    const lie: ChannelStatus = {
      channelId: sender.channel!,
      cumulativeAmount: kept!.cumulativeAmount,
      signature: kept!.signature,
      owed: [{ condition: w.condition, amount: w.price }],
    };
    const sent: ClaimMessage[] = [];
    const payee = async (msg: ClaimMessage) => {
      sent.push(msg);
    };
    await expect(sender.resync(async () => lie, payee, { maxOwed: 0n })).rejects.toMatchObject({
      code: 'RESYNC_BAD_STATUS',
    });
    expect(sent).toEqual([]);
    expect(sender.cumulative).toBe(before);
    // The honest status of the same moment (the packet no longer listed) is taken: nothing more to pay.
    const r = await sender.resync(async () => ({ ...lie, owed: [] }), payee, { maxOwed: 0n });
    expect(r).toEqual({ cumulative: before + w.price, recovered: 0n, paid: 0n });
    expect(sent).toEqual([]);
    expect(sender.unpaid.total).toBe(0n);
  });
});

describe('a payer that records what it sends (the Mayor, payer-log.ts) resyncing with maxOwed 0', () => {
  it('pays a listed packet it sent and never learned the fate of, and refuses one it never sent', async () => {
    const m = await mayor(12);
    const first = m.newSender();
    const known = await m.write(first);
    await first.reserve(known.price);
    // A write whose FULFILL never reached us (a crash between the PREPARE and its answer): the node lists it.
    const w = paidWrite(makeEvent(), m.relayAccount.destination, m.relayAccount.sharedSecret);
    expect((await m.client.sendPrepare(w.prepare)).type).toBe(IlpPacketType.Fulfill);
    const lost = { condition: hex(w.prepare.executionCondition), amount: w.price };

    const sender = m.newSender({ channelId: first.channel!, deposit: first.channelDeposit, cumulative: 0n });
    sender.recordFulfilled(known.condition, known.price);
    const ask = (id: Hex) => m.client.requestStatus(id);
    for (const expected of [[], [{ ...lost, amount: lost.amount + 1n }]]) {
      await expect(
        sender.resync(ask, m.send, { maxOwed: 0n, maxUnexplained: 0n, expected }),
      ).rejects.toMatchObject({ code: 'RESYNC_OWED_TOO_HIGH' });
    }
    const r = await sender.resync(ask, m.send, { maxOwed: 0n, maxUnexplained: 0n, expected: [lost] });
    expect(r).toEqual({ cumulative: 0n, recovered: lost.amount, paid: known.price + lost.amount });
    expect(node.connector.balance(m.id)).toMatchObject({
      owedByPeer: 0n,
      paidByPeer: known.price + lost.amount,
    });
  });
});

describe('payment-channel-status of a channel that is not your own', () => {
  it('is refused with the same message whatever the channel, and reveals nothing', async () => {
    const owner = await mayor(4);
    const payer = owner.newSender();
    for (let i = 0; i < 2; i++) await owner.write(payer);
    await payer.settle(owner.send);
    const owed = await owner.write(payer); // the owner owes one packet
    const own = await owner.client.requestStatus(payer.channel!);
    expect(own.owed).toEqual([
      { condition: owed.condition, amount: owed.price, fulfillment: owed.fulfillment },
    ]);

    // Another Mayor asks about the owner's channel, about a channel from itself to someone else, and about
    // a channel that does not exist.
    const other = await mayor(6);
    const elsewhere = await openChannel(clients(6), {
      channels: dev.network.channels,
      token: dev.network.token,
      receiver: addr(3),
      amount: 1000n,
      challengeWindow: 3600n,
    });
    const messages: string[] = [];
    for (const channelId of [payer.channel!, elsewhere.channelId, `0x${'ab'.repeat(32)}` as Hex]) {
      const err = await other.client.requestStatus(channelId).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).toMatch(/STATUS_REFUSED/);
      messages.push(err!.message.replace(channelId, '<id>'));
      // Nothing of the owner's: no condition, amount or address.
      expect(err!.message).not.toContain(owed.condition);
      expect(err!.message.toLowerCase()).not.toContain(addr(4).toLowerCase());
      expect(err!.message).not.toContain(String(payer.cumulative));
    }
    expect(new Set(messages).size).toBe(1);
  });
});
