// The receiver's acceptance rule (checkIncomingClaim) against a channel read from a real anvil.
import type { Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChannelState,
  checkIncomingClaim,
  claimDomain,
  openChannel,
  readChannel,
  type SignedClaim,
  signClaim,
  startClose,
} from '../../src/chain/index.js';
import { type Fixture, HOUR, M2M, startFixture } from './setup.js';

let f: Fixture;
let channel: ChannelState;
let senderKey: Hex;
beforeAll(async () => {
  f = await startFixture();
  senderKey = f.dev.anvil.accounts[1]!.privateKey;
  const { channelId } = await openChannel(f.sender, {
    channels: f.channels,
    token: f.token,
    receiver: f.receiver.wallet.account.address,
    amount: 10n * M2M,
    challengeWindow: HOUR,
  });
  channel = await readChannel(f.receiver.public, { channels: f.channels, channelId });
});
afterAll(async () => {
  await f?.stop();
});

const sign = (
  cumulativeAmount: bigint,
  opts: { key?: Hex; domain?: ReturnType<typeof claimDomain>; id?: Hex } = {},
) =>
  signClaim({
    signer: opts.key ?? senderKey,
    domain: opts.domain ?? f.domain,
    claim: { channelId: opts.id ?? channel.channelId, cumulativeAmount },
  });

const check = (claim: SignedClaim, previousCumulative: bigint, expectedIncrease: bigint, ch = channel) =>
  checkIncomingClaim({ claim, channel: ch, domain: f.domain, previousCumulative, expectedIncrease });

describe('checkIncomingClaim', () => {
  it('accepts a claim that raises the total by exactly what was fulfilled', async () => {
    await expect(check(await sign(875n), 0n, 875n)).resolves.toBeUndefined();
    await expect(check(await sign(10n * M2M), 10n * M2M - 5n, 5n)).resolves.toBeUndefined();
  });

  it('rejects, with a code per rule', async () => {
    const cases: [Promise<void>, string][] = [
      [
        check(await sign(875n, { key: f.dev.anvil.accounts[3]!.privateKey }), 0n, 875n),
        'CLAIM_BAD_SIGNATURE',
      ],
      [check(await sign(875n, { domain: claimDomain(1, f.channels) }), 0n, 875n), 'CLAIM_BAD_SIGNATURE'],
      [
        check(await sign(875n, { domain: claimDomain(f.dev.anvil.chainId, f.token) }), 0n, 875n),
        'CLAIM_BAD_SIGNATURE',
      ],
      [check(await sign(875n, { id: `0x${'11'.repeat(32)}` }), 0n, 875n), 'CLAIM_WRONG_CHANNEL'],
      [check(await sign(874n), 0n, 875n), 'CLAIM_WRONG_INCREMENT'],
      [check(await sign(876n), 0n, 875n), 'CLAIM_WRONG_INCREMENT'],
      [check(await sign(500n), 600n, 875n), 'CLAIM_WRONG_INCREMENT'],
      [check(await sign(10n * M2M + 1n), 10n * M2M, 1n), 'CLAIM_OVER_DEPOSIT'],
    ];
    for (const [p, code] of cases) await expect(p).rejects.toMatchObject({ code });
  });

  it('refuses new claims once the sender started closing', async () => {
    const { channelId } = await openChannel(f.sender, {
      channels: f.channels,
      token: f.token,
      receiver: f.receiver.wallet.account.address,
      amount: M2M,
      challengeWindow: HOUR,
    });
    await startClose(f.sender, { channels: f.channels, channelId });
    const closing = await readChannel(f.receiver.public, { channels: f.channels, channelId });
    await expect(check(await sign(5n, { id: channelId }), 0n, 5n, closing)).rejects.toMatchObject({
      code: 'CLAIM_CHANNEL_CLOSING',
    });
  });
});
