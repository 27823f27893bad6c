// Mayor-side helpers for tests against a running node: SPSP over Nostr through the node's real relay,
// paid writes over BTP, free reads over WebSocket, NIP-11, and process checks.
import type { Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import WebSocket from 'ws';
import { createChainClients, openChannel } from '../../src/chain/index.js';
import { conditionOf, deriveFulfillment, IlpPacketType, type IlpPrepare } from '../../src/ilp/index.js';
import {
  buildSpspRequest,
  finalizeEvent,
  getPublicKey,
  parseSpspResponse,
  type SpspResponse,
  settlementProofMessage,
} from '../../src/nostr/index.js';
import type { Filter, NostrEvent } from '../../src/nostr/types.js';
import { encodeEventBytes } from '../../src/toon/index.js';

/** `ca`: PEM of a custom CA, for wss:// relays with a test certificate. */
export async function openSocket(url: string, ca?: string): Promise<WebSocket> {
  const ws = new WebSocket(url, ca ? { ca } : {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

/** Stored events matching `filter`, read free over a real WebSocket (REQ until EOSE). */
export async function readEvents(relayUrl: string, filter: Filter, ca?: string): Promise<NostrEvent[]> {
  const ws = await openSocket(relayUrl, ca);
  const events: NostrEvent[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no EOSE within 10 s')), 10_000);
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as unknown[];
      if (msg[0] === 'EVENT' && msg[1] === 'q') events.push(msg[2] as NostrEvent);
      if (msg[0] === 'EOSE') {
        clearTimeout(timer);
        resolve();
      }
    });
    ws.send(JSON.stringify(['REQ', 'q', filter]));
  });
  ws.close();
  return events;
}

/** Publishes over WebSocket and returns the relay's OK. */
export async function publishOverSocket(relayUrl: string, event: NostrEvent): Promise<[boolean, string]> {
  const ws = await openSocket(relayUrl);
  const ok = await new Promise<[boolean, string]>((resolve) => {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as unknown[];
      if (msg[0] === 'OK' && msg[1] === event.id) resolve([msg[2] as boolean, msg[3] as string]);
    });
    ws.send(JSON.stringify(['EVENT', event]));
  });
  ws.close();
  return ok;
}

/**
 * SPSP over Nostr as a Mayor does it: subscribe to 23195 addressed to us on the node's relay, publish a 23194
 * addressed to the node, wait for the answer over the same real WebSocket, decrypt it.
 */
export async function spspOverNostr(
  relayUrl: string,
  nodePubkey: string,
  mayorSk: Uint8Array,
  request: {
    settlementAddress?: `0x${string}`;
    settlementProof?: `0x${string}`;
    supportedChains?: number[];
    /** Declare this wallet's address as the settlement address, with the proof signed by it. */
    walletKey?: Hex;
  },
  ca?: string,
): Promise<SpspResponse> {
  const ws = await openSocket(relayUrl, ca);
  const me = getPublicKey(mayorSk);
  const { walletKey, ...fields } = request;
  if (walletKey) {
    const account = privateKeyToAccount(walletKey);
    fields.settlementAddress = account.address;
    fields.settlementProof = await account.signMessage({
      message: settlementProofMessage({
        settlementAddress: account.address,
        requesterPubkey: me,
        nodePubkey,
      }),
    });
  }
  const req = buildSpspRequest(mayorSk, nodePubkey, { requestId: `req-${Date.now()}`, ...fields });
  const answer = new Promise<NostrEvent>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no kind 23195 answer within 10 s')), 10_000);
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as unknown[];
      if (msg[0] === 'EOSE' && msg[1] === 'spsp') ws.send(JSON.stringify(['EVENT', req]));
      if (msg[0] === 'OK' && msg[2] !== true) reject(new Error(`relay refused the 23194: ${String(msg[3])}`));
      if (msg[0] === 'EVENT' && msg[1] === 'spsp') {
        clearTimeout(timer);
        resolve(msg[2] as NostrEvent);
      }
    });
  });
  ws.send(JSON.stringify(['REQ', 'spsp', { kinds: [23195], '#p': [me] }]));
  const event = await answer;
  ws.close();
  return parseSpspResponse(event, mayorSk, req.id).response;
}

let counter = 0;

/** A kind 5065 job request signed by `sk`. */
export function jobEvent(sk: Uint8Array, content = `build ${counter++}`): NostrEvent {
  return finalizeEvent(
    {
      kind: 5065,
      created_at: Math.floor(Date.now() / 1000),
      tags: [['t', 'ci-cd-linux']],
      content,
    },
    sk,
  );
}

/** A PREPARE paying for `event` at `pricePerByte`, with the condition derived from the SPSP secret. */
export function paidWrite(
  event: NostrEvent,
  spsp: SpspResponse,
  pricePerByte: bigint,
): { prepare: IlpPrepare; price: bigint } {
  const data = encodeEventBytes(event);
  const secret = new Uint8Array(Buffer.from(spsp.sharedSecret, 'base64'));
  const price = BigInt(data.length) * pricePerByte;
  return {
    prepare: {
      type: IlpPacketType.Prepare,
      amount: price,
      expiresAt: new Date(Date.now() + 20_000),
      executionCondition: conditionOf(deriveFulfillment(secret, data)),
      destination: spsp.destinationAccount,
      data,
    },
    price,
  };
}

export async function nip11(relayUrl: string): Promise<Record<string, unknown>> {
  const res = await fetch(relayUrl.replace(/^ws/, 'http'), { headers: { accept: 'application/nostr+json' } });
  return (await res.json()) as Record<string, unknown>;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until `pid` is gone (false if it is still alive after `ms`). */
export async function gone(pid: number, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (isAlive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return !isAlive(pid);
}

/** Whether something accepts TCP connections at this ws:// or http:// URL. */
export async function listening(url: string): Promise<boolean> {
  try {
    await fetch(url.replace(/^ws/, 'http'), { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

/** Opens a channel from `walletKey` to the node SPSP named: the node gives a Mayor no credit without one. */
export async function openPayerChannel(
  spsp: SpspResponse,
  rpcUrl: string,
  walletKey: Hex,
  deposit = 10n ** 18n,
) {
  const clients = createChainClients({ rpcUrl, chainId: spsp.settlement.chainId, privateKey: walletKey });
  return openChannel(clients, {
    channels: spsp.settlement.channelContract,
    token: spsp.settlement.token,
    receiver: spsp.settlement.settlementAddress,
    amount: deposit,
    challengeWindow: 3600n,
  });
}
