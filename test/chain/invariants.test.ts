// Randomized model test: many short random operation sequences against one real anvil, with
// evm_snapshot/evm_revert between sequences. After every step the chain must agree with a simple model,
// claimed <= deposit must hold, and no token may appear or vanish.
import type { Address, Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChainError,
  m2MTokenAbi,
  openChannel,
  readChannel,
  signClaim,
  startClose,
  submitClaim,
  topUpChannel,
  withdraw,
} from '../../src/chain/index.js';
import { type Fixture, HOUR, startFixture } from './setup.js';

const SEED = 0xc0ffee;
const SEQUENCES = 200;
const UNIT = 10n ** 15n; // amounts are small multiples of 0.001 M2M

/** mulberry32: tiny deterministic PRNG so a failure replays exactly. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!,
  };
}

interface ModelChannel {
  id: Hex;
  sender: number;
  receiver: number;
  deposit: bigint;
  claimed: bigint;
  window: bigint;
  closesAt: bigint; // 0n while open
  settled: boolean;
}

let f: Fixture;
const ACCOUNTS = [0, 1, 2, 3, 4, 5];
let addr: Address[];
let keys: Hex[];

beforeAll(async () => {
  f = await startFixture();
  addr = f.dev.anvil.accounts.map((a) => a.address);
  keys = f.dev.anvil.accounts.map((a) => a.privateKey);
});
afterAll(async () => {
  await f?.stop();
});

/** Runs `p`; returns the ChainError code if it reverted, undefined if it succeeded. */
async function outcome<T>(p: Promise<T>): Promise<{ code?: string; value?: T }> {
  try {
    return { value: await p };
  } catch (e) {
    if (e instanceof ChainError) return { code: e.code };
    throw e;
  }
}

describe('randomized channel operations', () => {
  it(`${SEQUENCES} seeded sequences keep claimed <= deposit and conserve tokens after every step`, async () => {
    const rnd = prng(SEED);
    const pub = f.sender.public;
    const balances = async () =>
      Promise.all([...addr, f.channels].map((owner) => f.balance(owner as Address)));
    const totalSupply = await pub.readContract({
      address: f.token,
      abi: m2MTokenAbi,
      functionName: 'totalSupply',
    });
    const stats = { ops: 0, reverts: 0, paid: 0n, settled: 0 };

    for (let seq = 0; seq < SEQUENCES; seq++) {
      const snapshot = await f.test.snapshot();
      const startBalances = await balances();
      const expected = startBalances.slice(0, addr.length);
      const channels: ModelChannel[] = [];
      const length = rnd.int(3, 8);

      for (let step = 0; step < length; step++) {
        const where = `seed ${SEED}, sequence ${seq}, step ${step}`;
        const op =
          channels.length === 0
            ? 'open'
            : rnd.pick(['open', 'topUp', 'claim', 'claim', 'close', 'travel', 'withdraw'] as const);
        const ch = channels.length > 0 ? rnd.pick(channels) : undefined;
        let want: string | undefined; // expected revert code
        let result: { code?: string };
        stats.ops++;

        if (op === 'open' || !ch) {
          const sender = rnd.int(1, 3);
          const receiver = rnd.pick(ACCOUNTS.filter((i) => i !== sender && i !== 0));
          const amount = BigInt(rnd.int(1, 20)) * UNIT;
          const window = rnd.chance(0.1) ? HOUR - 1n : rnd.pick([HOUR, 2n * HOUR]);
          if (window < HOUR) want = 'ChallengeWindowOutOfRange';
          const r = await outcome(
            openChannel(f.clients(sender), {
              channels: f.channels,
              token: f.token,
              receiver: addr[receiver]!,
              amount,
              challengeWindow: window,
            }),
          );
          result = r;
          if (!r.code && r.value) {
            channels.push({
              id: r.value.channelId,
              sender,
              receiver,
              deposit: amount,
              claimed: 0n,
              window,
              closesAt: 0n,
              settled: false,
            });
            expected[sender]! -= amount;
          }
        } else if (op === 'topUp') {
          const caller = rnd.chance(0.85)
            ? ch.sender
            : rnd.pick(ACCOUNTS.filter((i) => i !== ch.sender && i !== 0));
          const amount = BigInt(rnd.int(1, 10)) * UNIT;
          if (caller !== ch.sender) want = 'NotChannelSender';
          else if (ch.settled) want = 'ChannelAlreadySettled';
          else if (ch.closesAt !== 0n) want = 'ChannelClosing';
          result = await outcome(
            topUpChannel(f.clients(caller), {
              channels: f.channels,
              token: f.token,
              channelId: ch.id,
              amount,
            }),
          );
          if (!want && !result.code) {
            ch.deposit += amount;
            expected[caller]! -= amount;
          }
        } else if (op === 'claim') {
          const caller = rnd.chance(0.9) ? ch.receiver : ch.sender;
          const signer = rnd.chance(0.9) ? ch.sender : ch.receiver;
          // Anywhere from stale (below claimed) to over-promise (above deposit).
          const cumulative = (BigInt(rnd.int(0, 150)) * (ch.deposit + UNIT)) / 100n;
          const close = rnd.chance(0.2);
          if (caller !== ch.receiver) want = 'NotChannelReceiver';
          else if (ch.settled) want = 'ChannelAlreadySettled';
          else if (signer !== ch.sender) want = 'InvalidClaimSignature';
          const claim = await signClaim({
            signer: keys[signer]!,
            domain: f.domain,
            claim: { channelId: ch.id, cumulativeAmount: cumulative },
          });
          const r = await outcome(submitClaim(f.clients(caller), { channels: f.channels, claim, close }));
          result = r;
          if (!want && !r.code && r.value) {
            const capped = cumulative < ch.deposit ? cumulative : ch.deposit;
            const paid = capped > ch.claimed ? capped - ch.claimed : 0n;
            expect(r.value.paid, where).toBe(paid);
            ch.claimed += paid;
            expected[ch.receiver]! += paid;
            stats.paid += paid;
            if (close) {
              ch.settled = true;
              expected[ch.sender]! += ch.deposit - ch.claimed;
              expect(r.value.refundedToSender, where).toBe(ch.deposit - ch.claimed);
              stats.settled++;
            }
          }
        } else if (op === 'close') {
          const caller = rnd.chance(0.85) ? ch.sender : ch.receiver;
          if (caller !== ch.sender) want = 'NotChannelSender';
          else if (ch.settled) want = 'ChannelAlreadySettled';
          else if (ch.closesAt !== 0n) want = 'ChannelClosing';
          const r = await outcome(startClose(f.clients(caller), { channels: f.channels, channelId: ch.id }));
          result = r;
          if (!want && r.value) {
            expect(r.value.closesAt - ch.window, where).toBeGreaterThan(0n);
            ch.closesAt = r.value.closesAt;
          }
        } else if (op === 'travel') {
          const seconds = rnd.chance(0.5) ? 60 : Number(ch.window) + 60;
          await f.test.increaseTime({ seconds });
          await f.test.mine({ blocks: 1 });
          result = {};
        } else {
          const caller = rnd.chance(0.9) ? ch.sender : ch.receiver;
          const now = (await pub.getBlock({ blockTag: 'latest' })).timestamp;
          let ambiguous = false;
          if (caller !== ch.sender) want = 'NotChannelSender';
          else if (ch.settled) want = 'ChannelAlreadySettled';
          else if (ch.closesAt === 0n) want = 'CloseNotStarted';
          else if (now + 30n < ch.closesAt) want = 'ChallengeWindowActive';
          else if (now < ch.closesAt) ambiguous = true; // the next block's time may land either side
          const r = await outcome(withdraw(f.clients(caller), { channels: f.channels, channelId: ch.id }));
          result = r;
          if (ambiguous && r.code === 'ChallengeWindowActive') want = r.code;
          if (!want && r.value) {
            expect(r.value.refunded, where).toBe(ch.deposit - ch.claimed);
            ch.settled = true;
            expected[ch.sender]! += ch.deposit - ch.claimed;
            stats.settled++;
          }
        }
        if (result.code) stats.reverts++;
        expect(result.code, `${where}: ${op}`).toBe(want);

        // Invariants after every step.
        const now = await balances();
        const sum = now.reduce((a, b) => a + b, 0n);
        expect(sum, `${where}: tokens created or destroyed`).toBe(totalSupply);
        expect(now.slice(0, addr.length), `${where}: account balances`).toEqual(expected);
        let locked = 0n;
        for (const m of channels) {
          const s = await readChannel(pub, { channels: f.channels, channelId: m.id });
          expect(s.claimed <= s.deposit, `${where}: claimed > deposit`).toBe(true);
          expect(
            { deposit: s.deposit, claimed: s.claimed, settled: s.settled, closesAt: s.closesAt },
            where,
          ).toEqual({
            deposit: m.deposit,
            claimed: m.claimed,
            settled: m.settled,
            closesAt: m.closesAt,
          });
          if (!s.settled) locked += s.deposit - s.claimed;
        }
        // The contract holds exactly what open channels still owe (paid + refunded = deposit for settled ones).
        expect(now[addr.length]! - startBalances[addr.length]!, `${where}: contract balance`).toBe(locked);
      }
      await f.test.revert({ id: snapshot });
    }
    // The sequences must actually exercise payments, settlements and rejections.
    expect(stats.paid).toBeGreaterThan(0n);
    expect(stats.settled).toBeGreaterThan(20);
    expect(stats.reverts).toBeGreaterThan(50);
    console.log(
      `invariants: ${SEQUENCES} sequences, ${stats.ops} operations, ${stats.reverts} expected reverts, ${stats.settled} settlements`,
    );
  }, 180_000);
});
