// Issue 13 item 7 (Mayor side), the reset the channel check alone cannot see, on a real anvil, a real node and a
// Mayor attached over Nostr SPSP and BTP: anvil restarted empty (anvil_reset), the contracts deployed again at the
// same addresses, and a channel opened again from the same wallet to the node gets the very same id (the id is
// derived from chain id, contract, sender, receiver and nonce). The channel "exists", so before this check the
// Mayor went on paying into it with the old chain's cumulative (signing away what the old chain's claims had
// used); now the genesis hash in <state dir>/chain-state.json gives the reset away: CHAIN_RESET, while attached
// and when attaching again, with the `--reset-channel-state` hint; the flag forgets the old records.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChainClients, openChannel } from '../../src/chain/index.js';
import { IlpPacketType } from '../../src/ilp/index.js';
import { type MayorOnNode, startMayorOnNode } from '../support/mayor-on-node.js';

const M2M = 10n ** 18n;
let h: MayorOnNode;

beforeAll(async () => {
  h = await startMayorOnNode('crosstown-genesis-');
});

afterAll(async () => {
  await h?.close();
});

describe('chain reset with a channel of the same id (item 7, Mayor side)', () => {
  it('is detected by the genesis hash: refuses to pay, refuses to attach, says what to do', async () => {
    const att = await h.attachMayor({ chainCheckMs: 100 });
    expect((await h.write(att)).reply.type).toBe(IlpPacketType.Fulfill);
    const old = att.channel();
    expect(old.cumulative).toBeGreaterThan(0n);
    const fingerprintPath = join(h.dir, 'mayor', 'chain-state.json');
    expect(existsSync(fingerprintPath)).toBe(true);
    const oldGenesis = (JSON.parse(readFileSync(fingerprintPath, 'utf8')) as { genesisHash: string })
      .genesisHash;

    // anvil restarted empty (a second later: another genesis block), the same contracts at the same addresses,
    // and the same wallet opens a channel to the node again: the very same channel id, a fresh channel.
    await new Promise((r) => setTimeout(r, 1100));
    const redeployed = await h.resetChain();
    expect([redeployed.token, redeployed.channels]).toEqual([
      h.chain.network.token,
      h.chain.network.channels,
    ]);
    const mayorWallet = createChainClients({
      rpcUrl: h.chain.anvil.rpcUrl,
      chainId: h.chain.anvil.chainId,
      privateKey: h.chain.anvil.accounts[2]!.privateKey,
    });
    const again = await openChannel(mayorWallet, {
      channels: redeployed.channels,
      token: redeployed.token,
      receiver: old.receiver,
      amount: M2M,
      challengeWindow: 3600n,
    });
    expect(again.channelId).toBe(old.channelId);
    const genesis = await mayorWallet.public.getBlock({ blockNumber: 0n });
    expect(genesis.hash).not.toBe(oldGenesis);

    // Several check intervals later the channel exists again, but the Mayor still refuses to pay.
    await new Promise((r) => setTimeout(r, 500));
    const refusal = await h.write(att).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(refusal).toMatchObject({ code: 'CHAIN_RESET' });
    expect(refusal!.message).toContain(oldGenesis);
    expect(refusal!.message).toMatch(/--reset-channel-state/);
    await att.detach();

    // Attaching again: refused too (before: the old record was continued on the new channel, its cumulative with it).
    await expect(h.attachMayor()).rejects.toMatchObject({
      code: 'CHAIN_RESET',
      message: expect.stringMatching(/genesis block.*chain was reset|chain was reset.*genesis block/s),
    });
    // With the flag: the old records are forgotten and the new chain's fingerprint saved.
    const fresh = await h.attachMayor({ resetChannelState: true });
    // The old record is forgotten: the channel is found on the new chain (its cumulative is then what the node,
    // not reset in this test, says).
    expect(fresh.channelSource).toBe('chain');
    expect(h.warnings.some((w) => /went with the old chain/.test(w))).toBe(true);
    const saved = JSON.parse(readFileSync(fingerprintPath, 'utf8')) as { genesisHash: string };
    expect(saved.genesisHash).toBe(genesis.hash);
    await fresh.detach();
  });
});
