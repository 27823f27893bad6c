import { type Hex, parseEventLogs } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClaimWatcher,
  openChannel,
  paymentChannelsAbi,
  readChannel,
  type SignedClaim,
  type SubmitClaimResult,
  signClaim,
  startClose,
  submitClaim,
  watchClosures,
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

describe('dispute: the sender closes on a stale state', () => {
  it('the watcher claims the latest claim inside the window; the sender only gets the rest', async () => {
    const s = f.sender.wallet.account.address;
    const r = f.receiver.wallet.account.address;
    const senderKey = f.dev.anvil.accounts[1]!.privateKey;
    const { channelId } = await openChannel(f.sender, {
      channels: f.channels,
      token: f.token,
      receiver: r,
      amount: 20n * M2M,
      challengeWindow: 6n * HOUR,
    });
    // On-chain the receiver redeemed 2 M2M early; off-chain it has since been promised 9 M2M.
    const early = await signClaim({
      signer: senderKey,
      domain: f.domain,
      claim: { channelId, cumulativeAmount: 2n * M2M },
    });
    await submitClaim(f.receiver, { channels: f.channels, claim: early });
    const best = new Map<Hex, SignedClaim>();
    for (const amount of [4n, 7n, 9n]) {
      best.set(
        channelId,
        await signClaim({
          signer: senderKey,
          domain: f.domain,
          claim: { channelId, cumulativeAmount: amount * M2M },
        }),
      );
    }

    const claimed: { id: Hex; result: SubmitClaimResult }[] = [];
    const errors: unknown[] = [];
    const watcher: ClaimWatcher = watchClosures({
      clients: f.receiver,
      channels: f.channels,
      bestClaim: (id) => best.get(id),
      onClaimed: (id, result) => claimed.push({ id, result }),
      onError: (e) => errors.push(e),
    });
    await watcher.ready;
    try {
      const sBefore = await f.balance(s);
      const { closesAt } = await startClose(f.sender, { channels: f.channels, channelId });

      // The sender tries to leave at once: the window is still running.
      await expect(withdraw(f.sender, { channels: f.channels, channelId })).rejects.toMatchObject({
        code: 'ChallengeWindowActive',
      });

      // The watcher reacts to ClosureStarted without any help from the test.
      const deadline = Date.now() + 10_000;
      while (claimed.length === 0 && errors.length === 0 && Date.now() < deadline)
        await new Promise((res) => setTimeout(res, 20));
      expect(errors).toEqual([]);
      expect(claimed).toHaveLength(1);
      expect(claimed[0]!.id).toBe(channelId);
      expect(claimed[0]!.result.paid).toBe(7n * M2M);
      const claimBlock = await f.sender.public.getBlock({
        blockNumber: claimed[0]!.result.receipt.blockNumber,
      });
      expect(claimBlock.timestamp).toBeLessThan(closesAt); // inside the window

      await travel(f, 6n * HOUR);
      const w = await withdraw(f.sender, { channels: f.channels, channelId });
      expect(w.refunded).toBe(11n * M2M);
      expect(w.paidToReceiver).toBe(9n * M2M);
      expect(await f.balance(s)).toBe(sBefore + 11n * M2M);
      const state = await readChannel(f.sender.public, { channels: f.channels, channelId });
      expect(state).toMatchObject({ settled: true, claimed: 9n * M2M, deposit: 20n * M2M });
      const names = parseEventLogs({ abi: paymentChannelsAbi, logs: w.receipt.logs }).map((l) => l.eventName);
      expect(names).toEqual(['Withdrawn', 'ChannelSettled']);
    } finally {
      watcher.stop();
    }
  });

  it('on restart the watcher catches closures it missed (fromBlock scan) and skips ones with nothing to gain', async () => {
    const r = f.receiver.wallet.account.address;
    const senderKey = f.dev.anvil.accounts[1]!.privateKey;
    const open = async () =>
      (
        await openChannel(f.sender, {
          channels: f.channels,
          token: f.token,
          receiver: r,
          amount: 5n * M2M,
          challengeWindow: HOUR,
        })
      ).channelId;
    const missed = await open();
    const nothingNew = await open();
    const fromBlock = await f.sender.public.getBlockNumber();
    const best = new Map<Hex, SignedClaim>();
    best.set(
      missed,
      await signClaim({
        signer: senderKey,
        domain: f.domain,
        claim: { channelId: missed, cumulativeAmount: 3n * M2M },
      }),
    );
    const already = await signClaim({
      signer: senderKey,
      domain: f.domain,
      claim: { channelId: nothingNew, cumulativeAmount: M2M },
    });
    await submitClaim(f.receiver, { channels: f.channels, claim: already });
    best.set(nothingNew, already);
    // Both closes happen while no watcher runs.
    await startClose(f.sender, { channels: f.channels, channelId: missed });
    await startClose(f.sender, { channels: f.channels, channelId: nothingNew });

    const claimed: Hex[] = [];
    const watcher = watchClosures({
      clients: f.receiver,
      channels: f.channels,
      bestClaim: (id) => best.get(id),
      fromBlock,
      close: true,
      onClaimed: (id) => claimed.push(id),
    });
    await watcher.idle();
    watcher.stop();
    expect(claimed).toEqual([missed]);
    expect(await readChannel(f.sender.public, { channels: f.channels, channelId: missed })).toMatchObject({
      settled: true,
      claimed: 3n * M2M,
    });
    expect(await readChannel(f.sender.public, { channels: f.channels, channelId: nothingNew })).toMatchObject(
      {
        settled: false,
        closing: true,
        claimed: M2M,
      },
    );
  });
});
