// One wallet, many writers: a provider Mayor's closure watcher redeems claims while the same wallet opens or tops
// up its own channel. Sends that overlap must each get their own nonce (none refused, none replacing another).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execute } from '../../src/chain/actions/execute.js';
import { m2MTokenAbi } from '../../src/chain/generated/M2MToken.js';
import { createChainClients } from '../../src/chain/index.js';
import { type Fixture, startFixture } from './setup.js';

let f: Fixture;
beforeAll(async () => {
  f = await startFixture();
}, 60_000);
afterAll(async () => {
  await f?.stop();
});

describe('one wallet, overlapping sends', () => {
  it('gives each of 6 overlapping transactions its own nonce, across two client sets of the same key', async () => {
    const key = f.dev.anvil.accounts[1]!.privateKey;
    const rpcUrl = f.dev.anvil.rpcUrl;
    const chainId = f.dev.anvil.chainId;
    // Two client sets of one key, as the provider's watcher and its own attach hold.
    const a = createChainClients({ rpcUrl, chainId, privateKey: key });
    const b = createChainClients({ rpcUrl, chainId, privateKey: key });
    const to = f.dev.anvil.accounts[4]!.address;
    const before = await f.balance(to);
    const sends = [a, b, a, b, a, b].map((c, i) =>
      execute(
        c,
        { address: f.token, abi: m2MTokenAbi, functionName: 'transfer', args: [to, BigInt(i + 1)] },
        'transfer',
      ),
    );
    const results = await Promise.allSettled(sends);
    const refused = results.filter((r) => r.status === 'rejected').map((r) => String(r.reason).slice(0, 200));
    expect(refused).toEqual([]);
    expect((await f.balance(to)) - before).toBe(21n);
  }, 60_000);
});
