import type { Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChainError,
  claimDomain,
  openChannel,
  readChannel,
  signClaim,
  startClose,
  submitClaim,
  topUpChannel,
  verifyClaim,
  withdraw,
} from '../../src/chain/index.js';
import { type Fixture, HOUR, M2M, startFixture, travel } from './setup.js';

let f: Fixture;
let senderKey: Hex;
beforeAll(async () => {
  f = await startFixture();
  senderKey = f.dev.anvil.accounts[1]!.privateKey;
});
afterAll(async () => {
  await f?.stop();
});

async function open(amount = 10n * M2M, challengeWindow = HOUR): Promise<Hex> {
  const r = await openChannel(f.sender, {
    channels: f.channels,
    token: f.token,
    receiver: f.receiver.wallet.account.address,
    amount,
    challengeWindow,
  });
  return r.channelId;
}

/** Asserts a ChainError with this Solidity error name and a message that says what to do. */
async function rejects(p: Promise<unknown>, code: string, advice: RegExp): Promise<ChainError> {
  const err = await p.then(
    () => {
      throw new Error(`expected ${code}, but the call succeeded`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ChainError);
  expect((err as ChainError).code).toBe(code);
  expect((err as ChainError).message).toMatch(advice);
  return err as ChainError;
}

const sign = (channelId: Hex, cumulativeAmount: bigint, signer: Hex = senderKey, domain = f.domain) =>
  signClaim({ signer, domain, claim: { channelId, cumulativeAmount } });

describe('claims that must not pay', () => {
  it('a claim signed by anyone but the sender', async () => {
    const id = await open();
    const forged = await sign(id, M2M, f.dev.anvil.accounts[3]!.privateKey);
    await rejects(
      submitClaim(f.receiver, { channels: f.channels, claim: forged }),
      'InvalidClaimSignature',
      /not signed by the channel's sender/,
    );
    // Off-chain verification agrees and names the real signer.
    const v = await verifyClaim({
      claim: forged,
      signature: forged.signature,
      domain: f.domain,
      expectedSigner: f.sender.wallet.account.address,
    });
    expect(v).toEqual({ valid: false, signer: f.dev.anvil.accounts[3]!.address });
  });

  it('a claim for another channel id', async () => {
    const a = await open();
    const b = await open();
    const forB = await sign(b, M2M);
    await rejects(
      submitClaim(f.receiver, { channels: f.channels, claim: { ...forB, channelId: a } }),
      'InvalidClaimSignature',
      /another channel/,
    );
  });

  it('a claim signed for another contract', async () => {
    const id = await open();
    const other = await sign(id, M2M, senderKey, claimDomain(f.dev.anvil.chainId, f.token));
    await rejects(
      submitClaim(f.receiver, { channels: f.channels, claim: other }),
      'InvalidClaimSignature',
      /contract/,
    );
  });

  it('a claim signed for another chain id', async () => {
    const id = await open();
    const other = await sign(id, M2M, senderKey, claimDomain(f.dev.anvil.chainId + 1, f.channels));
    await rejects(
      submitClaim(f.receiver, { channels: f.channels, claim: other }),
      'InvalidClaimSignature',
      /chain id/,
    );
    const good = await sign(id, M2M);
    const expectedSigner = f.sender.wallet.account.address;
    expect(
      (await verifyClaim({ claim: good, signature: good.signature, domain: f.domain, expectedSigner })).valid,
    ).toBe(true);
    expect(
      (await verifyClaim({ claim: other, signature: other.signature, domain: f.domain, expectedSigner }))
        .valid,
    ).toBe(false);
  });

  it('a malformed signature', async () => {
    const id = await open();
    const claim = { channelId: id, cumulativeAmount: M2M, signature: '0x1234' as Hex };
    await rejects(
      submitClaim(f.receiver, { channels: f.channels, claim }),
      'InvalidClaimSignature',
      /signed/,
    );
    const v = await verifyClaim({
      claim,
      signature: claim.signature,
      domain: f.domain,
      expectedSigner: f.sender.wallet.account.address,
    });
    expect(v).toMatchObject({ valid: false, signer: null });
  });

  it('a replayed older claim pays nothing', async () => {
    const id = await open();
    const old = await sign(id, 2n * M2M);
    const latest = await sign(id, 5n * M2M);
    expect((await submitClaim(f.receiver, { channels: f.channels, claim: latest })).paid).toBe(5n * M2M);
    const before = await f.balance(f.receiver.wallet.account.address);
    const replay = await submitClaim(f.receiver, { channels: f.channels, claim: old });
    expect(replay.paid).toBe(0n);
    expect(replay.totalClaimed).toBe(5n * M2M);
    const again = await submitClaim(f.receiver, { channels: f.channels, claim: latest });
    expect(again.paid).toBe(0n);
    expect(await f.balance(f.receiver.wallet.account.address)).toBe(before);
  });

  it('a claim above the deposit is capped, not reverted', async () => {
    const id = await open(3n * M2M);
    const over = await sign(id, 8n * M2M);
    const res = await submitClaim(f.receiver, { channels: f.channels, claim: over });
    expect(res.paid).toBe(3n * M2M);
    const state = await readChannel(f.sender.public, { channels: f.channels, channelId: id });
    expect(state.claimed).toBe(state.deposit);
    // A top-up lets the same over-promise pay the rest, still capped.
    await topUpChannel(f.sender, { channels: f.channels, token: f.token, channelId: id, amount: 10n * M2M });
    expect((await submitClaim(f.receiver, { channels: f.channels, claim: over })).paid).toBe(5n * M2M);
    // Closing after the cap still settles: the sender gets exactly what is left.
    await startClose(f.sender, { channels: f.channels, channelId: id });
    await travel(f, HOUR);
    const w = await withdraw(f.sender, { channels: f.channels, channelId: id });
    expect(w.refunded).toBe(5n * M2M);
    expect(w.paidToReceiver + w.refunded).toBe(13n * M2M);
  });
});

describe('closing rules', () => {
  it('withdraw before the window ends, without a close, and twice', async () => {
    const id = await open();
    await rejects(
      withdraw(f.sender, { channels: f.channels, channelId: id }),
      'CloseNotStarted',
      /call startClose first/,
    );
    await startClose(f.sender, { channels: f.channels, channelId: id });
    await travel(f, HOUR - 10n);
    await rejects(
      withdraw(f.sender, { channels: f.channels, channelId: id }),
      'ChallengeWindowActive',
      /withdraw after/,
    );
    await travel(f, 10n);
    await withdraw(f.sender, { channels: f.channels, channelId: id });
    await rejects(
      withdraw(f.sender, { channels: f.channels, channelId: id }),
      'ChannelAlreadySettled',
      /already settled/,
    );
    const late = await sign(id, M2M);
    await rejects(
      submitClaim(f.receiver, { channels: f.channels, claim: late }),
      'ChannelAlreadySettled',
      /nothing is left/,
    );
  });

  it('no top-up or second close once closing', async () => {
    const id = await open();
    await startClose(f.sender, { channels: f.channels, channelId: id });
    await rejects(
      topUpChannel(f.sender, { channels: f.channels, token: f.token, channelId: id, amount: M2M }),
      'ChannelClosing',
      /open a new channel/,
    );
    await rejects(startClose(f.sender, { channels: f.channels, channelId: id }), 'ChannelClosing', /closing/);
  });

  it('challenge window below the minimum or above the maximum', async () => {
    await rejects(open(M2M, HOUR - 1n), 'ChallengeWindowOutOfRange', /choose between 3600s and 2592000s/);
    await rejects(open(M2M, 0n), 'ChallengeWindowOutOfRange', /choose between/);
    await rejects(open(M2M, 31n * 24n * HOUR), 'ChallengeWindowOutOfRange', /choose between/);
  });
});

describe('actions by the wrong party', () => {
  it('only the sender tops up, closes and withdraws; only the receiver claims', async () => {
    const id = await open();
    const claim = await sign(id, M2M);
    await rejects(
      submitClaim(f.sender, { channels: f.channels, claim }),
      'NotChannelReceiver',
      /Use the receiver's wallet/,
    );
    await rejects(submitClaim(f.stranger, { channels: f.channels, claim }), 'NotChannelReceiver', /receiver/);
    await rejects(
      startClose(f.receiver, { channels: f.channels, channelId: id }),
      'NotChannelSender',
      /Use the sender's wallet/,
    );
    await rejects(
      topUpChannel(f.stranger, { channels: f.channels, token: f.token, channelId: id, amount: M2M }),
      'NotChannelSender',
      /sender/,
    );
    await startClose(f.sender, { channels: f.channels, channelId: id });
    await travel(f, HOUR);
    await rejects(
      withdraw(f.receiver, { channels: f.channels, channelId: id }),
      'NotChannelSender',
      /sender/,
    );
    await rejects(
      withdraw(f.stranger, { channels: f.channels, channelId: id }),
      'NotChannelSender',
      /sender/,
    );
  });

  it('bad receivers, zero amounts, unknown channels', async () => {
    const self = f.sender.wallet.account.address;
    const zero = '0x0000000000000000000000000000000000000000';
    for (const receiver of [self, zero] as const) {
      await rejects(
        openChannel(f.sender, {
          channels: f.channels,
          token: f.token,
          receiver,
          amount: M2M,
          challengeWindow: HOUR,
        }),
        'InvalidReceiver',
        /different from the sender/,
      );
    }
    await rejects(open(0n), 'ZeroAmount', /greater than zero/);
    const unknown = `0x${'ab'.repeat(32)}` as Hex;
    await rejects(
      startClose(f.sender, { channels: f.channels, channelId: unknown }),
      'UnknownChannel',
      /check the channel id/,
    );
    await rejects(
      readChannel(f.sender.public, { channels: f.channels, channelId: unknown }),
      'UnknownChannel',
      /check the channel id/,
    );
  });

  it('opening without enough tokens says to fund the wallet', async () => {
    const poor = f.clients(4);
    const balance = await f.balance(poor.wallet.account.address);
    await rejects(
      openChannel(poor, {
        channels: f.channels,
        token: f.token,
        receiver: f.receiver.wallet.account.address,
        amount: balance + 1n,
        challengeWindow: HOUR,
      }),
      'ERC20InsufficientBalance',
      /fund the wallet/,
    );
  });
});
