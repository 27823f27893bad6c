// Issue 14 item 1, the whole theft on a real devnet: a stranger (a funded Mayor of its own) pays the relay to publish
// its own kind 10032 peer info, deploys its own PaymentChannels contract and answers SPSP requests addressed to it
// with a settlement naming that contract and its own wallet. A victim attaching without a pinned node pubkey, or
// pinned to the stranger by mistake, must refuse with a clear error before any approve or open: the chain shows the
// victim's nonce and balance unchanged and nothing deposited in the stranger's contract.
import type { Address } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChainClients, deployPaymentChannels, tokenBalance } from '../../src/chain/index.js';
import { type Devnet, startDevnet } from '../../src/devnet/index.js';
import { type Attachment, attach, expectedSettlementFor, RelayPool } from '../../src/mayor/runtime/index.js';
import { buildPeerInfo, buildSpspResponse, finalizeEvent, parseSpspRequest } from '../../src/nostr/index.js';
import { encodeEventBytes } from '../../src/toon/index.js';
import { keyOf, M2M } from './runtime/helpers.js';

let devnet: Devnet;
let thiefAtt: Attachment;
let thiefPool: RelayPool;
let thiefContract: Address;
const answered: string[] = [];
const pools: RelayPool[] = [];

beforeAll(async () => {
  devnet = await startDevnet({ mayors: ['victim', 'thief'] });
  const thief = devnet.mayors.thief!;
  const sk = keyOf(thief);
  thiefPool = new RelayPool({ urls: [devnet.relayUrl], secretKey: sk, backoff: { minMs: 100, maxMs: 500 } });
  thiefPool.start();
  // The thief is an ordinary paying Mayor of the real node: that is how it gets to write its 10032.
  thiefAtt = await attach({
    pool: thiefPool,
    nostrSecretKey: sk,
    walletKey: thief.walletPrivateKey,
    rpcUrl: devnet.rpcUrl,
    nodePubkey: devnet.node.pubkey,
    maxBasePricePerByte: M2M,
    deposit: 10n * M2M,
    maxDeposit: 100n * M2M,
    onWarning: () => {},
  });
  const clients = createChainClients({
    rpcUrl: devnet.rpcUrl,
    chainId: devnet.chainId,
    privateKey: thief.walletPrivateKey,
  });
  thiefContract = (await deployPaymentChannels(clients)).address;
  const settlement = {
    chainId: devnet.chainId,
    token: devnet.token,
    channelContract: thiefContract,
    settlementAddress: thief.walletAddress,
  };
  // Dated a little ahead so that it is the newest 10032 on the relay.
  const peerInfo = finalizeEvent(
    {
      ...buildPeerInfo({
        ilpAddress: thiefAtt.spsp.ilpAddress,
        btpUrl: devnet.btpUrl,
        settlement,
        basePricePerByte: 1n,
      }),
      created_at: Math.floor(Date.now() / 1000) + 5,
    },
    sk,
  );
  const { reply } = await thiefAtt.writeToRelay(encodeEventBytes(peerInfo));
  expect(reply.type).toBe(13); // paid and stored
  // The fake SPSP answer: the real node's relay account of the thief, but the thief's contract and wallet.
  thiefPool.subscribe('spsp-in', [{ kinds: [23194], '#p': [thief.nostrPubkey] }], ({ event }) => {
    const { request } = parseSpspRequest(event, sk);
    answered.push(request.requestId);
    const answer = buildSpspResponse(sk, event, {
      destinationAccount: thiefAtt.spsp.destinationAccount,
      sharedSecret: thiefAtt.spsp.sharedSecret,
      basePricePerByte: 1n,
      settlement,
      ilpAddress: `${thiefAtt.spsp.ilpAddress}.victim`,
      btpUrl: devnet.btpUrl,
      btpToken: 'stolen',
    });
    void thiefPool.publish(answer).catch(() => {});
  });
}, 90_000);

afterAll(async () => {
  for (const p of pools) await p.close();
  await thiefAtt?.detach();
  await thiefPool?.close();
  await devnet?.stop();
});

async function victimChain() {
  const victim = devnet.mayors.victim!;
  const clients = createChainClients({
    rpcUrl: devnet.rpcUrl,
    chainId: devnet.chainId,
    privateKey: victim.walletPrivateKey,
  });
  return {
    nonce: await clients.public.getTransactionCount({ address: victim.walletAddress }),
    balance: await tokenBalance(clients.public, { token: devnet.token, owner: victim.walletAddress }),
    inThiefContract: await tokenBalance(clients.public, { token: devnet.token, owner: thiefContract }),
  };
}

function victimAttach(extra: Partial<Parameters<typeof attach>[0]>) {
  const victim = devnet.mayors.victim!;
  const pool = new RelayPool({ urls: [devnet.relayUrl], secretKey: keyOf(victim) });
  pools.push(pool);
  pool.start();
  return attach({
    pool,
    nostrSecretKey: keyOf(victim),
    walletKey: victim.walletPrivateKey,
    rpcUrl: devnet.rpcUrl,
    maxBasePricePerByte: M2M,
    deposit: 50n * M2M,
    maxDeposit: 100n * M2M,
    onWarning: () => {},
    ...extra,
  });
}

describe('node impersonation (issue 14 item 1)', () => {
  it('an unpinned Mayor on a plain ws:// relay does not take a paid 10032 as the node', async () => {
    const before = await victimChain();
    await expect(victimAttach({})).rejects.toMatchObject({
      code: 'NODE_UNKNOWN',
      message: expect.stringMatching(/not pinned.*node-pubkey.*anyone can pay to publish/s),
    });
    expect(answered).toHaveLength(0); // the thief was never even asked
    expect(await victimChain()).toEqual(before);
  }, 30_000);

  it('a Mayor pinned to the thief refuses its settlement terms, naming both contracts, and sends nothing', async () => {
    const before = await victimChain();
    const expected = expectedSettlementFor('devnet', {
      token: devnet.token,
      channelContract: devnet.channels,
    });
    const refused = victimAttach({
      nodePubkey: devnet.mayors.thief!.nostrPubkey,
      expectedSettlement: expected,
    });
    const err = await refused.then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(answered.length).toBeGreaterThan(0); // the fake answer did arrive
    // The chain first: without the check the victim approves and opens (nonce +2, 50 M2M in the thief's contract).
    expect(await victimChain()).toEqual(before);
    expect(before.inThiefContract).toBe(0n);
    expect(err?.code).toBe('SETTLEMENT_MISMATCH');
    expect(err?.message).toContain(thiefContract);
    expect(err?.message).toContain(devnet.channels);
  }, 30_000);

  it('on a public network an unknown channel contract is refused rather than taken from the answer', async () => {
    const before = await victimChain();
    // base-sepolia's table knows chain and token but not the operator's channel contract: the devnet's chain id
    // differs, which is refused first; with the devnet's values standing in, the missing contract is refused.
    const expected = {
      ...expectedSettlementFor('base-sepolia', { chainId: devnet.chainId, token: devnet.token }),
    };
    await expect(
      victimAttach({ nodePubkey: devnet.mayors.thief!.nostrPubkey, expectedSettlement: expected }),
    ).rejects.toMatchObject({
      code: 'SETTLEMENT_UNKNOWN',
      message: expect.stringContaining(`CROSSTOWN_CHANNELS; the node names ${thiefContract}`),
    });
    expect(await victimChain()).toEqual(before);
  }, 30_000);
});
