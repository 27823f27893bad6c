import { parseEventLogs } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  listChannels,
  openChannel,
  paymentChannelsAbi,
  readChannel,
  signClaim,
  startClose,
  submitClaim,
  topUpChannel,
  withdraw,
} from '../../src/chain/index.js';
import { type Fixture, HOUR, M2M, startFixture, travel } from './setup.js';

let f: Fixture;
beforeAll(async () => {
  f = await startFixture();
});
afterAll(async () => {
  await f?.stop();
});

describe('channel lifecycle on anvil', () => {
  it('open, top up, claim, start close, late claim, withdraw: every event seen, money conserved', async () => {
    const s = f.sender.wallet.account.address;
    const r = f.receiver.wallet.account.address;
    const before = { s: await f.balance(s), r: await f.balance(r), c: await f.balance(f.channels) };

    const opened = await openChannel(f.sender, {
      channels: f.channels,
      token: f.token,
      receiver: r,
      amount: 50n * M2M,
      challengeWindow: 2n * HOUR,
    });
    expect(opened.deposit).toBe(50n * M2M);
    expect(opened.approveReceipt).toBeDefined();
    const openedEv = parseEventLogs({
      abi: paymentChannelsAbi,
      logs: opened.receipt.logs,
      eventName: 'ChannelOpened',
    });
    expect(openedEv[0]!.args).toMatchObject({
      sender: s,
      receiver: r,
      token: f.token,
      deposit: 50n * M2M,
      nonce: 0n,
    });

    const id = opened.channelId;
    let state = await readChannel(f.sender.public, { channels: f.channels, channelId: id });
    expect(state).toMatchObject({
      sender: s,
      receiver: r,
      deposit: 50n * M2M,
      claimed: 0n,
      closing: false,
      settled: false,
    });

    const top = await topUpChannel(f.sender, {
      channels: f.channels,
      token: f.token,
      channelId: id,
      amount: 10n * M2M,
    });
    expect(top.deposit).toBe(60n * M2M);

    // Off-chain: three payments, only the latest claim matters.
    const claims = [];
    for (const cumulative of [1n * M2M, 3n * M2M, 7n * M2M]) {
      claims.push(
        await signClaim({
          signer: f.dev.anvil.accounts[1]!.privateKey,
          domain: f.domain,
          claim: { channelId: id, cumulativeAmount: cumulative },
        }),
      );
    }
    const c1 = await submitClaim(f.receiver, { channels: f.channels, claim: claims[1]! });
    expect(c1.paid).toBe(3n * M2M);
    expect(c1.totalClaimed).toBe(3n * M2M);

    const closing = await startClose(f.sender, { channels: f.channels, channelId: id });
    state = await readChannel(f.sender.public, { channels: f.channels, channelId: id });
    expect(state.closing).toBe(true);
    expect(state.closesAt).toBe(closing.closesAt);
    expect(state.closesAt - state.closeRequestedAt).toBe(2n * HOUR);

    // The receiver can still claim during the window (and after it, until settled).
    await travel(f, 2n * HOUR + 5n);
    const c2 = await submitClaim(f.receiver, { channels: f.channels, claim: claims[2]! });
    expect(c2.paid).toBe(4n * M2M);

    const w = await withdraw(f.sender, { channels: f.channels, channelId: id });
    expect(w.refunded).toBe(53n * M2M);
    expect(w.paidToReceiver).toBe(7n * M2M);
    const wEvents = parseEventLogs({ abi: paymentChannelsAbi, logs: w.receipt.logs }).map((l) => l.eventName);
    expect(wEvents).toEqual(['Withdrawn', 'ChannelSettled']);

    state = await readChannel(f.sender.public, { channels: f.channels, channelId: id });
    expect(state).toMatchObject({ settled: true, closing: false, claimed: 7n * M2M, deposit: 60n * M2M });
    // paid to receiver + refunded to sender = deposit
    expect(w.paidToReceiver + w.refunded).toBe(state.deposit);
    expect(await f.balance(r)).toBe(before.r + 7n * M2M);
    expect(await f.balance(s)).toBe(before.s - 7n * M2M);
    expect(await f.balance(f.channels)).toBe(before.c);

    // Every step left an event, in order.
    const all = await f.sender.public.getContractEvents({
      address: f.channels,
      abi: paymentChannelsAbi,
      fromBlock: 0n,
    });
    const forChannel = all
      .filter((l) => (l.args as { channelId?: string }).channelId === id)
      .map((l) => l.eventName);
    expect(forChannel).toEqual([
      'ChannelOpened',
      'ChannelToppedUp',
      'Claimed',
      'ClosureStarted',
      'Claimed',
      'Withdrawn',
      'ChannelSettled',
    ]);
  });

  it('cooperative close: the receiver claims with close and the sender gets the rest at once', async () => {
    const r = f.receiver.wallet.account.address;
    const s = f.sender.wallet.account.address;
    const { channelId } = await openChannel(f.sender, {
      channels: f.channels,
      token: f.token,
      receiver: r,
      amount: 5n * M2M,
      challengeWindow: HOUR,
    });
    const sBefore = await f.balance(s);
    const claim = await signClaim({
      signer: f.dev.anvil.accounts[1]!.privateKey,
      domain: f.domain,
      claim: { channelId, cumulativeAmount: 2n * M2M },
    });
    const res = await submitClaim(f.receiver, { channels: f.channels, claim, close: true });
    expect(res.paid).toBe(2n * M2M);
    expect(res.refundedToSender).toBe(3n * M2M);
    expect(await f.balance(s)).toBe(sBefore + 3n * M2M);
    const state = await readChannel(f.sender.public, { channels: f.channels, channelId });
    expect(state.settled).toBe(true);
  });

  it("rebuilds a wallet's channels from events, matching the on-chain state", async () => {
    const r = f.receiver.wallet.account.address;
    // One more channel, still open, with a claim, to mix states.
    const { channelId } = await openChannel(f.sender, {
      channels: f.channels,
      token: f.token,
      receiver: r,
      amount: 4n * M2M,
      challengeWindow: HOUR,
    });
    const claim = await signClaim({
      signer: f.dev.anvil.accounts[1]!.privateKey,
      domain: f.domain,
      claim: { channelId, cumulativeAmount: M2M },
    });
    await submitClaim(f.receiver, { channels: f.channels, claim });
    await topUpChannel(f.sender, { channels: f.channels, token: f.token, channelId, amount: M2M });

    const asSender = await listChannels(f.sender.public, {
      channels: f.channels,
      wallet: f.sender.wallet.account.address,
      fromBlock: f.dev.deployBlock,
    });
    const asReceiver = await listChannels(f.receiver.public, { channels: f.channels, wallet: r });
    expect(asSender).toHaveLength(3);
    expect(asSender.every((c) => c.role === 'sender')).toBe(true);
    expect(asReceiver.map((c) => c.channelId).sort()).toEqual(asSender.map((c) => c.channelId).sort());
    for (const rebuilt of asSender) {
      const { role: _role, ...fromEvents } = rebuilt;
      const onChain = await readChannel(f.sender.public, {
        channels: f.channels,
        channelId: rebuilt.channelId,
      });
      expect(fromEvents).toEqual(onChain);
    }
    const stranger = await listChannels(f.stranger.public, {
      channels: f.channels,
      wallet: f.stranger.wallet.account.address,
    });
    expect(stranger).toEqual([]);
  });
});
