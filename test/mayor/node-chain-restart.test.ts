// Issue 13 items 8 and 7 (Mayor side), on a real anvil, a real node (relay + connector, SQLite store) and a
// Mayor attached over Nostr SPSP and BTP:
// - the node restarts on the same data dir and ports: it forgets the relay account SPSP gave the Mayor, whose
//   next write meets F02 "no account for destination"; the Mayor redoes the handshake once and the write lands.
// - the chain is reset (anvil_reset: what a restarted devnet looks like; contracts redeployed at the same
//   addresses, the channel gone): the Mayor refuses to pay with an error that says what to do, attaching again
//   says so too, and `resetChannelState` forgets the dead channel and opens a new one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DevChain,
  deployPaymentChannels,
  deployToken,
  mintTokens,
  startDevChain,
} from '../../src/chain/index.js';
import { IlpPacketType } from '../../src/ilp/index.js';
import { type Attachment, attach, RelayPool } from '../../src/mayor/runtime/index.js';
import { openStateRepo, type StateRepo } from '../../src/mayor/state/index.js';
import type { NodeConfig } from '../../src/node/config.js';
import { createLogger, type RunningNode, startNode } from '../../src/node/index.js';
import { finalizeEvent, generateSecretKey } from '../../src/nostr/index.js';
import { encodeEventBytes } from '../../src/toon/index.js';
import { testNodeConfig } from '../support/node-config.js';

const M2M = 10n ** 18n;
let chain: DevChain;
let dir: string;
let config: NodeConfig;
let node: RunningNode;
let pool: RelayPool;
let state: StateRepo;
const mayorSk = generateSecretKey();
const warnings: string[] = [];
const attached: Attachment[] = [];

const quietNode = (c: NodeConfig) => startNode(c, { logger: createLogger({ write: () => {} }) });

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
  dir = mkdtempSync(join(tmpdir(), 'crosstown-restart-'));
  config = testNodeConfig(chain, join(dir, 'node'));
  node = await quietNode(config);
  // The restarted node must come back where the Mayor looks for it.
  config = {
    ...config,
    relayPort: Number(new URL(node.relayUrl).port),
    btpPort: Number(new URL(node.btpUrl).port),
  };
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

describe('node restart (item 8)', () => {
  it("the Mayor's next write after a node restart redoes SPSP once and lands", async () => {
    const att = await attachMayor();
    expect((await write(att)).reply.type).toBe(IlpPacketType.Fulfill);
    const before = att.spsp.sharedSecret;

    await node.stop();
    node = await quietNode(config);
    // Wait for the BTP session and the relay subscription to come back.
    for (let i = 0; i < 200 && !att.btp.connected; i++) await new Promise((r) => setTimeout(r, 50));
    await pool.waitConnected();

    const r = await write(att);
    expect(r.reply.type).toBe(IlpPacketType.Fulfill);
    expect(att.spsp.sharedSecret).not.toBe(before); // a new relay account
    expect(warnings.some((w) => /no account for destination.*redoing SPSP/.test(w))).toBe(true);
    // And it keeps working with the new account.
    expect((await write(att)).reply.type).toBe(IlpPacketType.Fulfill);
    await att.detach();
  });
});

describe('chain reset (item 7, Mayor side)', () => {
  it('refuses to pay, says what to do, and --reset-channel-state opens a new channel', async () => {
    const att = await attachMayor({ chainCheckMs: 100 });
    expect((await write(att)).reply.type).toBe(IlpPacketType.Fulfill);
    const oldChannel = att.channel().channelId;

    // anvil restarted empty; the devnet deploys the same contracts again, at the same addresses.
    await chain.deployer.public.request({ method: 'anvil_reset' as never, params: [] as never });
    const token = await deployToken(chain.deployer);
    const channels = await deployPaymentChannels(chain.deployer);
    expect([token.address, channels.address]).toEqual([chain.network.token, chain.network.channels]);
    for (const a of chain.anvil.accounts)
      await mintTokens(chain.deployer, { token: token.address, to: a.address, amount: 1000n * M2M });

    // Within the check interval the Mayor notices, and refuses to pay instead of writing into a dead channel.
    let refusal: Error | undefined;
    for (let i = 0; i < 100 && !refusal; i++) {
      refusal = await write(att).then(
        () => undefined,
        (e: Error) => e,
      );
      if (!refusal) await new Promise((r) => setTimeout(r, 50));
    }
    expect(refusal).toMatchObject({ code: 'CHAIN_RESET' });
    expect(refusal!.message).toContain(oldChannel);
    expect(refusal!.message).toMatch(/--reset-channel-state/);
    await att.detach();

    // Attaching again: a clear refusal, not "Channel 0x… does not exist" with no hint.
    await expect(attachMayor()).rejects.toMatchObject({
      code: 'CHAIN_RESET',
      message: expect.stringMatching(/chain was reset.*--reset-channel-state/s),
    });
    // With the flag: the dead channel is forgotten, a new one is opened and paying works.
    const fresh = await attachMayor({ resetChannelState: true });
    expect(fresh.channelSource).toBe('opened');
    // The new chain derives the new channel's id from the same inputs: the very same id, a fresh channel.
    expect(fresh.channel()).toMatchObject({ channelId: oldChannel, deposit: M2M, cumulative: 0n });
    expect((await write(fresh)).reply.type).toBe(IlpPacketType.Fulfill);
    await fresh.detach();
    // The next attach (no flag) continues the new channel: the dead one's record is only history now.
    const again = await attachMayor();
    expect(again.channelSource).toBe('state');
    expect(again.channel().channelId).toBe(fresh.channel().channelId);
    expect((await write(again)).reply.type).toBe(IlpPacketType.Fulfill);
    await again.detach();
  });
});
