// Issue 13 item 7 (Mayor side), the reset the channel check alone cannot see, on a real anvil, a real node and a
// Mayor attached over Nostr SPSP and BTP: anvil restarted empty (anvil_reset), the contracts deployed again at the
// same addresses, and a channel opened again from the same wallet to the node gets the very same id (the id is
// derived from chain id, contract, sender, receiver and nonce). The channel "exists", so before this check the
// Mayor went on paying into it with the old chain's cumulative (signing away what the old chain's claims had
// used); now the genesis hash in <state dir>/chain-state.json gives the reset away: CHAIN_RESET, while attached
// and when attaching again, with the `--reset-channel-state` hint; the flag forgets the old records.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createChainClients,
  type DevChain,
  deployPaymentChannels,
  deployToken,
  mintTokens,
  openChannel,
  startDevChain,
} from '../../src/chain/index.js';
import { IlpPacketType } from '../../src/ilp/index.js';
import { type Attachment, attach, RelayPool } from '../../src/mayor/runtime/index.js';
import { openStateRepo, type StateRepo } from '../../src/mayor/state/index.js';
import { createLogger, type RunningNode, startNode } from '../../src/node/index.js';
import { finalizeEvent, generateSecretKey } from '../../src/nostr/index.js';
import { encodeEventBytes } from '../../src/toon/index.js';
import { testNodeConfig } from '../support/node-config.js';

const M2M = 10n ** 18n;
let chain: DevChain;
let dir: string;
let node: RunningNode;
let pool: RelayPool;
let state: StateRepo;
const mayorSk = generateSecretKey();
const warnings: string[] = [];
const attached: Attachment[] = [];

const attachMayor = async (extra: Partial<Parameters<typeof attach>[0]> = {}) => {
  const att = await attach({
    pool,
    nostrSecretKey: mayorSk,
    walletKey: chain.anvil.accounts[2]!.privateKey,
    rpcUrl: chain.anvil.rpcUrl,
    nodePubkey: node.pubkey,
    maxBasePricePerByte: M2M,
    deposit: M2M,
    maxDeposit: 10n * M2M,
    state,
    reconnectDelayMs: 50,
    retryDelayMs: 50,
    onWarning: (m) => warnings.push(m),
    ...extra,
  });
  attached.push(att);
  return att;
};

let n = 0;
const write = (att: Attachment) =>
  att.writeToRelay(
    encodeEventBytes(
      finalizeEvent({ kind: 1, tags: [], content: `note ${n++}`, created_at: 1_700_000_000 + n }, mayorSk),
    ),
  );

beforeAll(async () => {
  chain = await startDevChain({ accounts: 3 });
  dir = mkdtempSync(join(tmpdir(), 'crosstown-genesis-'));
  node = await startNode(testNodeConfig(chain, join(dir, 'node')), {
    logger: createLogger({ write: () => {} }),
  });
  pool = new RelayPool({ urls: [node.relayUrl], secretKey: mayorSk, backoff: { minMs: 50, maxMs: 200 } });
  pool.start();
  state = await openStateRepo({ dir: join(dir, 'mayor') });
});

afterAll(async () => {
  for (const a of attached) await a.detach().catch(() => {});
  await pool?.close();
  await state?.close();
  await node?.stop();
  await chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('chain reset with a channel of the same id (item 7, Mayor side)', () => {
  it('is detected by the genesis hash: refuses to pay, refuses to attach, says what to do', async () => {
    const att = await attachMayor({ chainCheckMs: 100 });
    expect((await write(att)).reply.type).toBe(IlpPacketType.Fulfill);
    const old = att.channel();
    expect(old.cumulative).toBeGreaterThan(0n);
    const fingerprintPath = join(dir, 'mayor', 'chain-state.json');
    expect(existsSync(fingerprintPath)).toBe(true);
    const oldGenesis = (JSON.parse(readFileSync(fingerprintPath, 'utf8')) as { genesisHash: string })
      .genesisHash;

    // anvil restarted empty (a second later: another genesis block), the same contracts at the same addresses,
    // and the same wallet opens a channel to the node again: the very same channel id, a fresh channel.
    await new Promise((r) => setTimeout(r, 1100));
    await chain.deployer.public.request({ method: 'anvil_reset' as never, params: [] as never });
    const token = await deployToken(chain.deployer);
    const channels = await deployPaymentChannels(chain.deployer);
    expect([token.address, channels.address]).toEqual([chain.network.token, chain.network.channels]);
    for (const a of chain.anvil.accounts)
      await mintTokens(chain.deployer, { token: token.address, to: a.address, amount: 1000n * M2M });
    const mayorWallet = createChainClients({
      rpcUrl: chain.anvil.rpcUrl,
      chainId: chain.anvil.chainId,
      privateKey: chain.anvil.accounts[2]!.privateKey,
    });
    const again = await openChannel(mayorWallet, {
      channels: channels.address,
      token: token.address,
      receiver: old.receiver,
      amount: M2M,
      challengeWindow: 3600n,
    });
    expect(again.channelId).toBe(old.channelId);
    const genesis = await mayorWallet.public.getBlock({ blockNumber: 0n });
    expect(genesis.hash).not.toBe(oldGenesis);

    // Several check intervals later the channel exists again, but the Mayor still refuses to pay.
    await new Promise((r) => setTimeout(r, 500));
    const refusal = await write(att).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(refusal).toMatchObject({ code: 'CHAIN_RESET' });
    expect(refusal!.message).toContain(oldGenesis);
    expect(refusal!.message).toMatch(/--reset-channel-state/);
    await att.detach();

    // Attaching again: refused too (before: the old record was continued on the new channel, its cumulative with it).
    await expect(attachMayor()).rejects.toMatchObject({
      code: 'CHAIN_RESET',
      message: expect.stringMatching(/genesis block.*chain was reset|chain was reset.*genesis block/s),
    });
    // With the flag: the old records are forgotten and the new chain's fingerprint saved.
    const fresh = await attachMayor({ resetChannelState: true });
    // The old record is forgotten: the channel is found on the new chain (its cumulative is then what the node,
    // not reset in this test, says).
    expect(fresh.channelSource).toBe('chain');
    expect(warnings.some((w) => /went with the old chain/.test(w))).toBe(true);
    const saved = JSON.parse(readFileSync(fingerprintPath, 'utf8')) as { genesisHash: string };
    expect(saved.genesisHash).toBe(genesis.hash);
    await fresh.detach();
  });
});
