// Issue 14 item 5 on the provider's side: the earnings' redeem() must not stop at the first claim it cannot redeem.
// Real anvil: the node (account 1) pays the provider (account 2) through channel A, whose claim the provider's ledger
// keeps; the chain is then reset (anvil snapshot reverted: A is gone, as after a restarted devnet) and the node pays
// through a new channel B. redeem() still redeems B, and names A in its error.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openChannel } from '../../src/chain/actions/openChannel.js';
import { readChannel } from '../../src/chain/actions/readChannel.js';
import { signClaim } from '../../src/chain/actions/signClaim.js';
import type { Attachment } from '../../src/mayor/runtime/attach.js';
import { EarningsLedger } from '../../src/mayor/runtime/earnings-ledger.js';
import { startProviderEarnings } from '../../src/mayor/runtime/provider-earnings.js';
import { type Fixture, HOUR, M2M, startFixture } from '../chain/setup.js';

let f: Fixture;
let home: string;

beforeAll(async () => {
  f = await startFixture();
  home = mkdtempSync(join(tmpdir(), 'crosstown-earnings-redeem-'));
}, 60_000);

afterAll(async () => {
  await f?.stop();
  rmSync(home, { recursive: true, force: true });
});

const node = () => f.sender;
const provider = () => f.receiver;

/** The node opens a channel to the provider and signs a claim of `amount` on it; the provider's ledger keeps it. */
async function paidThrough(amount: bigint): Promise<Hex> {
  const { channelId } = await openChannel(node(), {
    channels: f.channels,
    token: f.token,
    receiver: provider().wallet.account.address,
    amount: 10n * M2M,
    challengeWindow: HOUR,
  });
  const claim = await signClaim({
    signer: f.dev.anvil.accounts[1]!.privateKey,
    domain: f.domain,
    claim: { channelId, cumulativeAmount: amount },
  });
  const ledger = EarningsLedger.open(home);
  ledger.accepted(claim, []);
  ledger.close();
  return channelId;
}

describe('provider earnings redeem() (issue 14 item 5)', () => {
  it('redeems channel B when the claim of channel A, first in the ledger, cannot be redeemed', async () => {
    const snapshot = await f.test.snapshot();
    const a = await paidThrough(3n * M2M);
    await f.test.revert({ id: snapshot }); // the chain reset: A no longer exists
    // The new chain has its own history (another channel of the node first), so B gets another id than A had.
    await openChannel(node(), {
      channels: f.channels,
      token: f.token,
      receiver: f.stranger.wallet.account.address,
      amount: M2M,
      challengeWindow: HOUR,
    });
    const b = await paidThrough(2n * M2M);
    expect(b).not.toBe(a);

    const att = {
      clients: provider(),
      walletAddress: provider().wallet.account.address,
      spsp: {
        settlement: {
          chainId: f.dev.anvil.chainId,
          token: f.token,
          channelContract: f.channels,
          settlementAddress: node().wallet.account.address,
        },
      },
    } as unknown as Attachment; // only what startProviderEarnings reads: the real chain clients and settlement terms
    const earnings = await startProviderEarnings({ home, att, onError: () => {}, pollingIntervalMs: 60_000 });
    try {
      const outcome = await earnings.redeem().then(
        (r) => ({ ok: true as const, r }),
        (e: unknown) => ({ ok: false as const, e: e as Error & { code?: string } }),
      );
      const onChain = await readChannel(provider().public, { channels: f.channels, channelId: b });
      expect(onChain.claimed).toBe(2n * M2M);
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) {
        expect(outcome.e.code).toBe('REDEEM_INCOMPLETE');
        expect(outcome.e.message).toContain(a);
        expect(outcome.e.message).toMatch(/redeemed 2000000000000000000 on 1 channel/);
      }
      // Nothing twice: B is redeemed, A still cannot be.
      const again = await earnings.redeem().catch((e: Error) => e);
      expect(again).toBeInstanceOf(Error);
      expect((await readChannel(provider().public, { channels: f.channels, channelId: b })).claimed).toBe(
        2n * M2M,
      );
    } finally {
      earnings.stop();
    }
  }, 60_000);
});
