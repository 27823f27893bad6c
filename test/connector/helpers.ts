// Shared fixture: a real relay (in-memory SQLite) behind a real connector on loopback, and helpers to
// build paid writes (TOON-encoded signed events in PREPAREs).
import { randomBytes } from 'node:crypto';
import { privateKeyToAccount } from 'viem/accounts';
import WebSocket from 'ws';
import { type ChainClients, createChainClients, type DevChain, tokenBalance } from '../../src/chain/index.js';
import { Connector, type ConnectorOptions } from '../../src/connector/index.js';
import { conditionOf, deriveFulfillment, IlpPacketType, type IlpPrepare } from '../../src/ilp/index.js';
import {
  finalizeEvent,
  generateSecretKey,
  getPublicKey,
  settlementProofMessage,
} from '../../src/nostr/index.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { AccountSecretStore, type NostrRelay, startRelay } from '../../src/relay/index.js';
import { SqliteEventStore } from '../../src/store/index.js';
import { encodeEventBytes } from '../../src/toon/index.js';

export const NODE = 'g.crosstown.node1';
export const RELAY = `${NODE}.relay`;
export const PRICE = 10n;

export interface Node {
  connector: Connector;
  relay: NostrRelay;
  store: SqliteEventStore;
  secrets: AccountSecretStore;
  close(): Promise<void>;
}

export async function startNode(options: Partial<ConnectorOptions> = {}, address = NODE): Promise<Node> {
  const store = new SqliteEventStore({ path: ':memory:' });
  const secrets = new AccountSecretStore(`${address}.relay`);
  const relay = await startRelay({ store, secrets, basePricePerByte: PRICE, ilpAddress: `${address}.relay` });
  const connector = await Connector.start({ address, ...options });
  connector.addLocalRoute(`${address}.relay`, (p) => relay.handlePrepare(p), 'relay');
  return {
    connector,
    relay,
    store,
    secrets,
    async close() {
      await connector.close();
      await relay.close();
      await store.close();
    },
  };
}

/** Adds a child Mayor with a fresh token and relay account; returns what SPSP would have told it. */
export function addMayor(
  node: Node,
  id: string,
  extra: { creditLimit?: bigint; settlementAddress?: `0x${string}` } = {},
) {
  const authToken = randomBytes(16).toString('hex');
  node.connector.addPeer({ id, relation: 'child', authToken, ...extra });
  const account = node.secrets.issue(id);
  return { authToken, destination: account.destination, sharedSecret: account.sharedSecret };
}

const sk = generateSecretKey();
let counter = 0;

export function makeEvent(content = `job ${counter}`): NostrEvent {
  counter++;
  return finalizeEvent(
    { kind: 5065, created_at: 1_700_000_000 + counter, tags: [['t', 'ci-cd-linux']], content },
    sk,
  );
}

export function paidWrite(
  event: NostrEvent,
  destination: string,
  sharedSecret: Uint8Array,
  opts: { amount?: bigint; expiresInMs?: number } = {},
): { prepare: IlpPrepare; price: bigint; fulfillment: Uint8Array } {
  const data = encodeEventBytes(event);
  const fulfillment = deriveFulfillment(sharedSecret, data);
  const price = BigInt(data.length) * PRICE;
  return {
    prepare: {
      type: IlpPacketType.Prepare,
      amount: opts.amount ?? price,
      expiresAt: new Date(Date.now() + (opts.expiresInMs ?? 10_000)),
      executionCondition: conditionOf(fulfillment),
      destination,
      data,
    },
    price,
    fulfillment,
  };
}

/** Opens a raw WebSocket and resolves with it once open. */
export async function rawSocket(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

/** Resolves with the close code and reason. */
export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

/** The next binary frame on the socket. */
export function nextFrame(ws: WebSocket): Promise<Uint8Array> {
  return new Promise((resolve) => ws.once('message', (data: Buffer) => resolve(new Uint8Array(data))));
}

/** Clients, addresses and M2M balances of a devnet chain's anvil accounts (clients cached per account). */
export function anvilAccounts(chain: () => DevChain) {
  const wallets: ChainClients[] = [];
  const clients = (i: number): ChainClients => {
    const dev = chain();
    wallets[i] ??= createChainClients({
      rpcUrl: dev.anvil.rpcUrl,
      chainId: dev.anvil.chainId,
      privateKey: dev.anvil.accounts[i]!.privateKey,
    });
    return wallets[i]!;
  };
  const addr = (i: number) => chain().anvil.accounts[i]!.address as `0x${string}`;
  const balanceOf = (who: `0x${string}`) =>
    tokenBalance(clients(0).public, { token: chain().network.token, owner: who });
  return { clients, addr, balanceOf };
}

/** What an SPSP requester signs with its settlement key to prove it controls the address it declares. */
export function proveSettlement(
  privateKey: `0x${string}`,
  requesterSecretKey: Uint8Array,
  nodePubkey: string,
): Promise<`0x${string}`> {
  const account = privateKeyToAccount(privateKey);
  return account.signMessage({
    message: settlementProofMessage({
      settlementAddress: account.address,
      requesterPubkey: getPublicKey(requesterSecretKey),
      nodePubkey,
    }),
  });
}

/**
 * A node with settlement on `dev` whose chain reads go through `rpcUrl` (e.g. a counting proxy in front of anvil),
 * the node's wallet being anvil account 1; no closure watcher.
 */
export function startNodeReadingVia(
  dev: DevChain,
  rpcUrl: string,
  options: Partial<ConnectorOptions> = {},
): Promise<Node> {
  return startNode({
    settlement: {
      clients: createChainClients({
        rpcUrl,
        chainId: dev.anvil.chainId,
        privateKey: dev.anvil.accounts[1]!.privateKey,
      }),
      token: dev.network.token,
      channels: dev.network.channels,
      channelDeposit: 10n ** 18n,
      watch: false,
    },
    ...options,
  });
}
