// startDevnet() end to end on real parts: anvil, the node's relay and connector on loopback, SQLite.
// A Mayor-side client does SPSP over Nostr through the node's relay, opens a channel, pays for writes over
// BTP with claims, and reads them back free. Then stop() must leave no process and no listener behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDomain, createChainClients, readChannel, tokenBalance } from '../../src/chain/index.js';
import { BtpClient, type ClaimMessage, ClaimSender } from '../../src/connector/index.js';
import { type Devnet, startDevnet } from '../../src/devnet/index.js';
import { conditionOf, deriveFulfillment, IlpPacketType } from '../../src/ilp/index.js';
import { KIND_PEER_INFO, parsePeerInfo, type SpspResponse } from '../../src/nostr/index.js';
import {
  gone,
  isAlive,
  jobEvent,
  listening,
  nip11,
  openPayerChannel,
  paidWrite,
  publishOverSocket,
  readEvents,
  spspOverNostr,
} from './helpers.js';

const hexKey = (h: string) => new Uint8Array(Buffer.from(h.replace(/^0x/, ''), 'hex'));
let net: Devnet;

beforeAll(async () => {
  net = await startDevnet();
});

afterAll(async () => {
  await net?.stop();
});

describe('startDevnet', () => {
  it('returns every endpoint and funded Mayors alpha and beta', async () => {
    expect(net.network).toBe('devnet');
    expect(net.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(net.relayUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(net.btpUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(net.spspUrl).toBe(`${net.btpUrl.replace('ws', 'http')}/.well-known/pay`);
    expect(net.node.ilpAddress).toBe('g.crosstown.node1');
    expect(Object.keys(net.mayors)).toEqual(['alpha', 'beta']);
    const alpha = net.mayors.alpha!;
    const clients = createChainClients({
      rpcUrl: net.rpcUrl,
      chainId: net.chainId,
      privateKey: alpha.walletPrivateKey,
    });
    expect(clients.wallet.account.address).toBe(alpha.walletAddress);
    expect(await clients.public.getBalance({ address: alpha.walletAddress })).toBeGreaterThan(10n ** 18n);
    for (const who of [alpha.walletAddress, net.mayors.beta!.walletAddress, net.node.settlementAddress]) {
      expect(await tokenBalance(clients.public, { token: net.token, owner: who })).toBe(1000n * 10n ** 18n);
    }
    expect(alpha.nostrPubkey).not.toBe(net.mayors.beta!.nostrPubkey);
    // The relay's NIP-11 names its price and ILP address.
    const info = await nip11(net.relayUrl);
    expect(info.basePricePerByte).toBe(net.node.basePricePerByte);
    expect(info.ilpAddress).toBe(net.node.relayAddress);
    expect(info.pubkey).toBe(net.node.pubkey);
  });

  it("has the node's kind 10032 peer info on its relay from the start", async () => {
    const events = await readEvents(net.relayUrl, { kinds: [KIND_PEER_INFO], authors: [net.node.pubkey] });
    expect(events).toHaveLength(1);
    const info = parsePeerInfo(events[0]!);
    expect(info.ilpAddress).toBe(net.node.ilpAddress);
    expect(info.btpUrl).toBe(`btp+${net.btpUrl}`); // advertised in the form interledgerjs plugins take
    expect(info.basePricePerByte).toBe(BigInt(net.node.basePricePerByte));
    expect(info.settlement).toEqual({
      chainId: net.chainId,
      token: net.token,
      channelContract: net.channels,
      settlementAddress: net.node.settlementAddress,
    });
  });

  it('Mayor alpha: SPSP over Nostr on the relay, a channel, paid writes with claims, free reads', async () => {
    const alpha = net.mayors.alpha!;
    const sk = hexKey(alpha.nostrSecretKey);
    const spsp: SpspResponse = await spspOverNostr(net.relayUrl, net.node.pubkey, sk, {
      walletKey: alpha.walletPrivateKey,
      supportedChains: [net.chainId],
    });
    expect(spsp.destinationAccount.startsWith(`${net.node.relayAddress}.`)).toBe(true);
    expect(spsp.ilpAddress).toBe(`${net.node.ilpAddress}.${alpha.nostrPubkey.slice(0, 16)}`);
    expect(spsp.btpUrl).toBe(`btp+${net.btpUrl}`);
    expect(spsp.basePricePerByte).toBe(BigInt(net.node.basePricePerByte));
    expect(spsp.settlement.settlementAddress).toBe(net.node.settlementAddress);

    const clients = createChainClients({
      rpcUrl: net.rpcUrl,
      chainId: net.chainId,
      privateKey: alpha.walletPrivateKey,
    });
    const payer = new ClaimSender({
      clients,
      domain: claimDomain(net.chainId, net.channels),
      token: net.token,
      receiver: spsp.settlement.settlementAddress,
      deposit: 10n ** 18n,
    });
    const client = await BtpClient.connect({ url: spsp.btpUrl, authToken: spsp.btpToken });
    const peerId = spsp.ilpAddress.split('.').at(-1)!;
    await payer.reserve(0n); // no credit before a channel: open it first
    const events = Array.from({ length: 5 }, () => jobEvent(sk));
    let total = 0n;
    try {
      for (const event of events) {
        const w = paidWrite(event, spsp, spsp.basePricePerByte);
        const reply = await client.sendPrepare(w.prepare);
        expect(reply.type).toBe(IlpPacketType.Fulfill);
        payer.recordFulfilled(Buffer.from(w.prepare.executionCondition).toString('hex'), w.price);
        total += w.price;
        // Claim after every write.
        await payer.settle((msg) => client.sendClaim(msg));
      }
      expect(net.runningNode!.connector.balance(peerId)).toMatchObject({ owedByPeer: 0n, paidByPeer: total });
      const channel = payer.channel;
      expect(channel).toBeDefined();
      const state = await readChannel(clients.public, { channels: net.channels, channelId: channel! });
      expect(state.sender).toBe(alpha.walletAddress);
      expect(state.receiver).toBe(net.node.settlementAddress);
      // Underpaying is refused with F04 and nothing is stored.
      const cheap = jobEvent(sk, 'underpaid');
      const under = paidWrite(cheap, spsp, spsp.basePricePerByte);
      const refused = await client.sendPrepare({ ...under.prepare, amount: under.price - 1n });
      expect(refused).toMatchObject({ type: IlpPacketType.Reject, code: 'F04' });
      // Reads are free: every paid event is there, the underpaid one is not.
      const stored = await readEvents(net.relayUrl, { ids: [...events.map((e) => e.id), cheap.id] });
      expect(stored.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
      // A plain EVENT over the WebSocket is not a free write.
      const [ok, reason] = await publishOverSocket(net.relayUrl, jobEvent(sk, 'free?'));
      expect(ok).toBe(false);
      expect(reason).toMatch(/^restricted: payment required/);
    } finally {
      await client.close();
    }
  });

  it('alpha pays beta through the node; the node opens a channel to beta and signs a claim for it', async () => {
    const [alpha, beta] = [net.mayors.alpha!, net.mayors.beta!];
    const alphaSpsp = await spspOverNostr(net.relayUrl, net.node.pubkey, hexKey(alpha.nostrSecretKey), {
      walletKey: alpha.walletPrivateKey,
    });
    await openPayerChannel(alphaSpsp, net.rpcUrl, alpha.walletPrivateKey);
    const betaSpsp = await spspOverNostr(net.relayUrl, net.node.pubkey, hexKey(beta.nostrSecretKey), {
      walletKey: beta.walletPrivateKey,
      supportedChains: [net.chainId],
    });
    // The payment's secret is agreed between alpha and beta (their own SPSP in real use); the node only
    // checks that beta's fulfillment matches the condition.
    const secret = new Uint8Array(32).fill(7);
    const data = new TextEncoder().encode('job 42: 1 build');
    const amount = 12_345n;
    const claims: ClaimMessage[] = [];
    let claimArrived!: () => void;
    const gotClaim = new Promise<void>((resolve) => {
      claimArrived = resolve;
    });
    const payee = await BtpClient.connect({
      url: betaSpsp.btpUrl,
      authToken: betaSpsp.btpToken,
      onPrepare: async (p) => ({
        type: IlpPacketType.Fulfill,
        fulfillment: deriveFulfillment(secret, p.data),
        data: new Uint8Array(0),
      }),
      onClaim: async (msg) => {
        claims.push(msg);
        claimArrived();
      },
    });
    const payer = await BtpClient.connect({ url: alphaSpsp.btpUrl, authToken: alphaSpsp.btpToken });
    try {
      const reply = await payer.sendPrepare({
        type: IlpPacketType.Prepare,
        amount,
        expiresAt: new Date(Date.now() + 20_000),
        executionCondition: conditionOf(deriveFulfillment(secret, data)),
        destination: betaSpsp.ilpAddress,
        data,
      });
      expect(reply.type).toBe(IlpPacketType.Fulfill);
      await gotClaim;
      expect(claims).toHaveLength(1);
      expect(BigInt(claims[0]!.cumulativeAmount)).toBe(amount);
      const clients = createChainClients({
        rpcUrl: net.rpcUrl,
        chainId: net.chainId,
        privateKey: beta.walletPrivateKey,
      });
      const channel = await readChannel(clients.public, {
        channels: net.channels,
        channelId: claims[0]!.channelId,
      });
      expect(channel.sender).toBe(net.node.settlementAddress);
      expect(channel.receiver).toBe(beta.walletAddress);
      expect(channel.deposit).toBe(10n * 10n ** 18n);
    } finally {
      await payer.close();
      await payee.close();
    }
  });

  it('answers RFC 0009 SPSP over HTTP with a relay account', async () => {
    const res = await fetch(net.spspUrl, { headers: { accept: 'application/spsp4+json' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { destination_account: string; shared_secret: string };
    expect(body.destination_account.startsWith(`${net.node.relayAddress}.`)).toBe(true);
    expect(Buffer.from(body.shared_secret, 'base64')).toHaveLength(32);
  });

  it('stop() leaves no process and no listener behind', async () => {
    expect(isAlive(net.anvilPid)).toBe(true);
    await net.stop();
    expect(await gone(net.anvilPid)).toBe(true);
    expect(await listening(net.relayUrl)).toBe(false);
    expect(await listening(net.btpUrl)).toBe(false);
    expect(await listening(net.rpcUrl)).toBe(false);
    await net.stop(); // twice is fine
  });
});
