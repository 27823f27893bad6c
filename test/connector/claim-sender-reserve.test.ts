// The payer's reserve before a PREPARE (issue 17): it must not wait behind a claim's round trip when the channel
// already covers everything, and must still top up, counting a claim in flight, when it does not. Real anvil;
// the payee's answer to the claim is a promise the test releases (no node needed to hold a claim in flight).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDomain, type DevChain, readChannel, startDevChain } from '../../src/chain/index.js';
import { type ClaimMessage, ClaimSender } from '../../src/connector/index.js';
import { anvilAccounts } from './helpers.js';

const M2M = 10n ** 18n;
let dev: DevChain;
const { clients, addr } = anvilAccounts(() => dev);

beforeAll(async () => {
  dev = await startDevChain({ accounts: 3 });
});
afterAll(async () => {
  await dev?.stop();
});

const tick = () => new Promise<void>((r) => setTimeout(r, 20));

describe('ClaimSender.reserve with a claim in flight', () => {
  it('resolves at once when covered, and tops up (after the claim) when the claim in flight makes it fall short', async () => {
    const sender = new ClaimSender({
      clients: clients(1),
      domain: claimDomain(dev.anvil.chainId, dev.network.channels),
      token: dev.network.token,
      receiver: addr(2),
      deposit: M2M,
    });
    await sender.reserve(0n); // opens the channel with 1 M2M
    expect(sender.channelDeposit).toBe(M2M);

    sender.recordFulfilled('aa'.repeat(32), (6n * M2M) / 10n);
    let release!: () => void;
    const sent: ClaimMessage[] = [];
    const settling = sender.settle(async (msg) => {
      sent.push(msg);
      await new Promise<void>((r) => {
        release = r;
      });
    });
    await tick(); // the claim for 0.6 M2M is signed and waiting for the payee's answer
    expect(sent).toHaveLength(1);
    // What was fulfilled does not dip while the claim is in flight (a Mayor's channel view reads it; the demo's
    // books once read 0.6 short here, with the packets neither unpaid nor signed yet).
    expect(sender.unpaid.total + sender.cumulative).toBe(0n);
    expect(sender.fulfilled).toBe((6n * M2M) / 10n);

    // 0.6 in flight + 0.3 more fits in 1 M2M: no wait for the payee's answer.
    let covered = false;
    void sender.reserve((3n * M2M) / 10n).then(() => {
      covered = true;
    });
    await tick();
    expect(covered).toBe(true);

    // 0.6 in flight + 0.5 does not fit: it waits for the claim, then tops up.
    let toppedUp = false;
    const short = sender.reserve((5n * M2M) / 10n).then(() => {
      toppedUp = true;
    });
    await tick();
    expect(toppedUp).toBe(false);
    release();
    expect(await settling).toBe((6n * M2M) / 10n);
    expect(sender.fulfilled).toBe((6n * M2M) / 10n);
    await short;
    expect(sender.channelDeposit).toBe(2n * M2M);
    const onChain = await readChannel(clients(1).public, {
      channels: dev.network.channels,
      channelId: sender.channel!,
    });
    expect(onChain.deposit).toBe(2n * M2M);
  });

  it('a failed claim puts its amount back: still counted once, not twice', async () => {
    const sender = new ClaimSender({
      clients: clients(1),
      domain: claimDomain(dev.anvil.chainId, dev.network.channels),
      token: dev.network.token,
      receiver: addr(2),
      deposit: M2M,
    });
    await sender.reserve(0n);
    sender.recordFulfilled('bb'.repeat(32), (6n * M2M) / 10n);
    await expect(
      sender.settle(async () => {
        throw new Error('payee gone');
      }),
    ).rejects.toThrow('payee gone');
    expect(sender.unpaid.total).toBe((6n * M2M) / 10n);
    let covered = false;
    await sender.reserve((4n * M2M) / 10n).then(() => {
      covered = true;
    });
    expect(covered).toBe(true);
    expect(sender.channelDeposit).toBe(M2M); // 0.6 owed + 0.4 = 1 M2M: covered, no top-up
  });
});
