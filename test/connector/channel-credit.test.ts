// ChannelCredit reads a bound channel's state from the chain (issue 17): a busy peer's packets must not wait for that
// read (it is refreshed in the background once half its allowed age is used), and credit is still never granted on a
// state older than maxAgeMs (a close on the chain is seen by then). Real anvil, real channel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevChain, openChannel, startClose, startDevChain } from '../../src/chain/index.js';
import { ChannelBindings } from '../../src/connector/channel-bindings.js';
import { ChannelCredit } from '../../src/connector/channel-credit.js';
import { anvilAccounts } from './helpers.js';

const M2M = 10n ** 18n;
let dev: DevChain;
const { clients, addr } = anvilAccounts(() => dev);

beforeAll(async () => {
  dev = await startDevChain({ accounts: 4 });
});
afterAll(async () => {
  await dev?.stop();
});

describe('channel credit', () => {
  it('answers from the cache while a background read refreshes it; never from a state older than maxAgeMs', async () => {
    const { channelId } = await openChannel(clients(1), {
      channels: dev.network.channels,
      token: dev.network.token,
      receiver: addr(2),
      amount: M2M,
      challengeWindow: 3600n,
    });
    const bindings = new ChannelBindings();
    bindings.bind(channelId, 'alice');
    // Counts the chain reads (the client is real; only its calls are counted).
    const publicClient = clients(2).public;
    let reads = 0;
    const counted = new Proxy(publicClient, {
      get(target, prop, receiver) {
        if (prop === 'readContract') reads++;
        return Reflect.get(target, prop, receiver);
      },
    });
    let clock = 0;
    const credit = new ChannelCredit({
      publicClient: counted,
      channels: dev.network.channels,
      token: dev.network.token,
      receiver: addr(2),
      bindings,
      acceptedOf: () => undefined,
      onBind: () => {},
      maxAgeMs: 2000,
      now: () => clock,
    });
    expect((await credit.of('alice', addr(1), 1n)).amount).toBe(M2M);
    const first = reads;
    expect(first).toBeGreaterThan(0);
    // Young state: no read at all.
    clock = 900;
    expect((await credit.of('alice', addr(1), 1n)).amount).toBe(M2M);
    expect(reads).toBe(first);
    // Past half its age: answered from the cache at once, a read starts behind it.
    await startClose(clients(1), { channels: dev.network.channels, channelId });
    clock = 1500;
    expect((await credit.of('alice', addr(1), 1n)).amount).toBe(M2M);
    expect(reads).toBeGreaterThan(first);
    // The background read lands (the close is seen) without any packet waiting for it.
    for (let i = 0; i < 100 && (await credit.of('alice', addr(1), 1n)).amount !== 0n; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect((await credit.of('alice', addr(1), 1n)).amount).toBe(0n);

    // A state older than maxAgeMs is never used: the packet waits for a fresh read, which sees the close.
    const second = await openChannel(clients(3), {
      channels: dev.network.channels,
      token: dev.network.token,
      receiver: addr(2),
      amount: M2M,
      challengeWindow: 3600n,
    });
    const bindings2 = new ChannelBindings();
    bindings2.bind(second.channelId, 'bob');
    let clock2 = 0;
    const strict = new ChannelCredit({
      publicClient,
      channels: dev.network.channels,
      token: dev.network.token,
      receiver: addr(2),
      bindings: bindings2,
      acceptedOf: () => undefined,
      onBind: () => {},
      maxAgeMs: 2000,
      now: () => clock2,
    });
    expect((await strict.of('bob', addr(3), 1n)).amount).toBe(M2M);
    await startClose(clients(3), { channels: dev.network.channels, channelId: second.channelId });
    clock2 = 2001;
    const after = await strict.of('bob', addr(3), 1n);
    expect(after.amount).toBe(0n);
    expect(after.why).toMatch(/closing/);
  });

  it("a claim accepted on one of two bound channels while the other's state is read is counted", async () => {
    // The credit is the largest unclaimed deposit among the peer's channels. It used to read a channel's accepted
    // claim before waiting for the next channel's state: a claim accepted meanwhile left the first channel's
    // unclaimed deposit overstated by the claim, and the peer owed that much more than the channel covers.
    const open = (amount: bigint) =>
      openChannel(clients(1), {
        channels: dev.network.channels,
        token: dev.network.token,
        receiver: addr(2),
        amount,
        challengeWindow: 3600n,
      });
    const a = await open(M2M);
    const b = await open(M2M / 2n);
    const bindings = new ChannelBindings();
    bindings.bind(a.channelId, 'carol');
    const accepted = new Map<string, bigint>();
    // The reads are real; the test holds them back while `hold` is set.
    let hold: Promise<void> | undefined;
    const held = new Proxy(clients(2).public, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'readContract') return value;
        return async (...args: unknown[]) => {
          if (hold) await hold;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const credit = new ChannelCredit({
      publicClient: held,
      channels: dev.network.channels,
      token: dev.network.token,
      receiver: addr(2),
      bindings,
      acceptedOf: (id) => accepted.get(id.toLowerCase()),
      onBind: () => {},
      maxAgeMs: 60_000,
    });
    expect((await credit.of('carol', addr(1), 1n)).amount).toBe(M2M); // a's state is cached
    bindings.bind(b.channelId, 'carol');
    let release = () => {};
    hold = new Promise<void>((r) => {
      release = r;
    });
    const asked = credit.of('carol', addr(1), 1n); // a from the cache, then waits for b's read
    await new Promise((r) => setTimeout(r, 50));
    accepted.set(a.channelId.toLowerCase(), (4n * M2M) / 10n); // a claim of 0.4 M2M accepted on a meanwhile
    hold = undefined;
    release();
    expect((await asked).amount).toBe((6n * M2M) / 10n); // a: 1 - 0.4 = 0.6, above b's 0.5
  });
});
