// The crosstown node: one process running the ILP connector and the ILP-gated relay together.
// Wiring (see docs/node.md): the relay's write gate is the connector's local route `<address>.relay`;
// SPSP requests (kind 23194, #p = node pubkey) arriving on the relay are answered with a kind 23195 on it;
// SPSP over HTTP is mounted on the BTP port; the connector's closure watcher guards incoming channels.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Address } from 'viem';
import { startClaimSignerThread } from '../chain/claim-signer-thread.js';
import { createChainClients } from '../chain/index.js';
import {
  Connector,
  createSpspHttpHandler,
  createSpspResponder,
  type LocalHandler,
  openConnectorStore,
  toBtpUrl,
  toWebSocketUrl,
} from '../connector/index.js';
import { IlpError, IlpErrorCode } from '../ilp/errors.js';
import {
  buildPeerInfo,
  finalizeEvent,
  getPublicKey,
  KIND_PEER_INFO,
  KIND_SPSP_REQUEST,
  type SettlementInfo,
} from '../nostr/index.js';
import type { NostrEvent } from '../nostr/types.js';
import { loadFastVerifier } from '../nostr/verify-fast.js';
import { AccountSecretStore, type NostrRelay, type RelayInfo, startRelay } from '../relay/index.js';
import { type EventStore, openEventStore, openPrepaidStore, resolveStoreLocation } from '../store/index.js';
import { type ChainCheckResult, ChainGuard } from './chain-guard.js';
import { readChainState } from './chain-state.js';
import { clientAddressOf } from './client-address.js';
import type { NodeConfig } from './config.js';
import { NodeError } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { startPeerExpiry } from './peer-expiry.js';
import { RelayClient } from './relay-client.js';
import { storeErrorLogging } from './store-errors.js';

/** Path of RFC 0009 SPSP on the BTP port (a payment pointer `$host` resolves here). */
export const SPSP_PATH = '/.well-known/pay';

export interface StartNodeOptions {
  logger?: Logger;
  /** Longest stop() waits for in-flight relay writes (default 10 s). */
  drainTimeoutMs?: number;
  /** How often the chain is checked for a reset (chain id, genesis, contracts, channels), ms. Default 30000. */
  chainCheckIntervalMs?: number;
  /** How often the closure watcher polls, ms (default 1000). */
  watcherPollingMs?: number;
  /** How often unused SPSP peers are looked for, ms (default a quarter of their TTL, at most a minute). */
  peerSweepMs?: number;
}

export interface RunningNode {
  /** ws:// (wss:// with TLS) URL of the relay (NIP-01; NIP-11 over HTTP on the same port). */
  relayUrl: string;
  /** ws:// (wss:// with TLS) URL of the BTP server. */
  btpUrl: string;
  /** http:// URL of SPSP (RFC 0009) on the BTP port. */
  spspUrl: string;
  ilpAddress: string;
  /** The relay's own address: paid writes go to `<relayAddress>.<account>`. */
  relayAddress: string;
  /** The node's Nostr pubkey (hex): SPSP requests are addressed to it. */
  pubkey: string;
  settlementAddress: Address;
  /** The kind 10032 peer info published at start. */
  peerInfo: NostrEvent;
  connector: Connector;
  relay: NostrRelay;
  store: EventStore;
  /** Checks the chain now (see ChainGuard); payments are refused while it does not match. */
  checkChain(): Promise<ChainCheckResult>;
  /** Graceful shutdown: refuse new writes, finish in-flight ones, close the servers, close the store. */
  stop(): Promise<void>;
}

function httpUrl(wsUrl: string, path: string): string {
  return `${wsUrl.replace(/^ws/, 'http')}${path}`;
}

/** Runs `cleanups` last first, every one even if an earlier one throws; returns the first error. */
async function runCleanups(
  cleanups: (() => Promise<void> | void)[],
  onError: (error: unknown) => void,
): Promise<unknown> {
  let first: unknown;
  for (const fn of [...cleanups].reverse()) {
    try {
      await fn();
    } catch (error) {
      onError(error);
      first ??= error;
    }
  }
  return first;
}

export async function startNode(config: NodeConfig, options: StartNodeOptions = {}): Promise<RunningNode> {
  const log = options.logger ?? createLogger({ level: config.logLevel });
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    return await start(config, log, cleanups, options);
  } catch (err) {
    await runCleanups(cleanups, () => {});
    if (err instanceof NodeError) throw err;
    throw new NodeError('START_FAILED', `the node did not start: ${(err as Error).message}`, { cause: err });
  }
}

async function start(
  config: NodeConfig,
  log: Logger,
  cleanups: (() => Promise<void> | void)[],
  options: StartNodeOptions,
): Promise<RunningNode> {
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  const pubkey = getPublicKey(config.nostrSecretKey);
  const relayAddress = `${config.ilpAddress}.relay`;
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const eventStoreLocation = resolveStoreLocation(config.databaseUrl, {
    defaultPath: join(config.dataDir, 'relay.db'),
  });
  // Idle: at most one packet in the connector (a payer 1 in flight). Then a commit and its fsync cost less on this
  // thread than the two hand-offs to a writer thread and back; under load the writer threads group-commit.
  let connector: Connector | undefined;
  const idle = () => (connector?.packetsInFlight ?? 0) <= 1;
  // The commit and its fsync on a writer thread: the main thread keeps serving while a batch reaches the disk.
  const store = await openEventStore(config.databaseUrl, {
    defaultPath: join(config.dataDir, 'relay.db'),
    writerThread: true,
    commitInline: idle,
  });
  cleanups.push(() => store.close());
  // Balances, unpaid packets and accepted claims: durable before the connector acts on them.
  const connectorDb = join(config.dataDir, 'connector.db');
  const connectorStore = openConnectorStore({ path: connectorDb, commitInline: idle });
  const storeErrors = storeErrorLogging(log, {
    eventStore: eventStoreLocation.kind === 'postgres' ? eventStoreLocation.url : eventStoreLocation.path,
    connectorDb,
  });
  cleanups.push(() => connectorStore.close());
  // Claim signatures are checked on their own thread: a claim's scalar multiplications stay off the packet path.
  const stopClaimSigner = await startClaimSignerThread();
  cleanups.push(stopClaimSigner);
  const tls = config.tls ? { certPath: config.tls.certPath, keyPath: config.tls.keyPath } : undefined;
  const secrets = new AccountSecretStore(relayAddress);
  // STREAM top-ups and the accounts holding them: durable before the FULFILL, restored here.
  const prepaidStore = openPrepaidStore(join(config.dataDir, 'prepaid.db'));
  cleanups.push(() => prepaidStore.close());

  // NIP-11 is built at each request: payments_url is filled in once the connector (which serves SPSP) is up.
  const relayInfo: RelayInfo = {
    name: `crosstown ${config.name}`,
    description: `ILP-gated relay of crosstown node ${config.ilpAddress}: reading is free, writing is paid`,
    pubkey,
  };
  const clientAddress = clientAddressOf(config.trustedProxies ?? []);
  const relay = await startRelay({
    store,
    secrets,
    basePricePerByte: config.basePricePerByte,
    ilpAddress: relayAddress,
    info: relayInfo,
    prepaidStore,
    // The node's own peer info is written for free; everything else is paid.
    freeWrites: [{ pubkey, kinds: [KIND_PEER_INFO] }],
    onStoreError: storeErrors.relay,
    port: config.relayPort,
    host: config.host,
    ...(tls ? { tls } : {}),
    ...(config.verifyThreads ? { verifyThreads: config.verifyThreads } : {}),
    ...(config.relayPublicUrl ? { relayUrl: config.relayPublicUrl } : {}),
    clientAddress,
  });
  cleanups.push(() => relay.close());

  const clients = createChainClients({
    rpcUrl: config.chain.rpcUrl,
    chainId: config.chain.chainId,
    privateKey: config.walletKey,
  });
  const settlementAddress = clients.wallet.account.address;
  // The watcher resumes from the block saved by the chain guard (closes started while the node was down).
  let guard: ChainGuard | undefined;
  const lastScanned = readChainState(config.dataDir)?.lastScannedBlock;
  const resumeBlock = lastScanned === undefined ? undefined : BigInt(lastScanned) + 1n;
  connector = await Connector.start({
    address: config.ilpAddress,
    btp: { port: config.btpPort, host: config.host, ...(tls ? { tls } : {}) },
    store: connectorStore,
    onStoreError: storeErrors.connector,
    http: createSpspHttpHandler({ secrets, path: SPSP_PATH, clientAddress }),
    settlement: {
      clients,
      token: config.chain.token,
      channels: config.chain.channels,
      channelDeposit: config.channelDeposit,
      settleThreshold: config.settleThreshold,
      ...(config.onChainThreshold !== undefined ? { onChainThreshold: config.onChainThreshold } : {}),
      onError: (error, peerId) => log.error('settlement failed', { peer: peerId, error }),
      watcher: {
        ...(resumeBlock !== undefined && { fromBlock: resumeBlock }),
        ...(options.watcherPollingMs !== undefined && { pollingIntervalMs: options.watcherPollingMs }),
        onScanned: (block) => guard?.scanned(block),
        onAttempt: (a) =>
          (a.outcome === 'failed' ? log.warn : log.info)('closing channel: redemption attempt', {
            channel: a.channelId,
            attempt: a.attempt,
            outcome: a.outcome,
            reason: a.reason,
            closesAt: a.closesAt.toString(),
            secondsLeft: a.secondsLeft.toString(),
            ...(a.paid !== undefined && { paid: a.paid.toString() }),
            ...(a.retryInMs !== undefined && { retryInMs: a.retryInMs }),
          }),
      },
    },
  });
  cleanups.push(() => connector.close());
  // What clients elsewhere are told: the public URL when one is set (a proxy), else the listener's.
  const advertisedBtp = config.btpPublicUrl ? toWebSocketUrl(config.btpPublicUrl) : connector.btpUrl;
  relayInfo.paymentsUrl = httpUrl(advertisedBtp, SPSP_PATH);
  guard = new ChainGuard({
    client: clients.public,
    rpcUrl: config.chain.rpcUrl,
    chainId: config.chain.chainId,
    channels: config.chain.channels,
    token: config.chain.token,
    dataDir: config.dataDir,
    connector,
  });
  const checkChain = async (): Promise<ChainCheckResult> => {
    const r = await guard!.check();
    if (!r.ok) log.error('settlement chain mismatch: payments refused', { error: connector.paymentsRefused });
    else if (r.unreachable) log.warn('chain check could not reach the RPC', { error: r.unreachable });
    return r;
  };

  // Relay writes in flight: stop() lets them finish (and be stored) before closing anything.
  let stopping = false;
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const relayRoute: LocalHandler = async (prepare) => {
    if (stopping) {
      throw new IlpError(IlpErrorCode.T00_INTERNAL_ERROR, 'node is shutting down; retry in a moment', {
        triggeredBy: relayAddress,
      });
    }
    inFlight++;
    try {
      return await relay.handlePrepare(prepare);
    } finally {
      inFlight--;
      if (inFlight === 0) drained?.();
    }
  };
  connector.addLocalRoute(relayAddress, relayRoute, 'relay');

  for (const peer of config.peers) {
    connector.addPeer({
      id: peer.id,
      relation: 'peer',
      authToken: peer.authToken,
      ...(peer.creditLimit !== undefined ? { creditLimit: peer.creditLimit } : {}),
      ...(peer.settlementAddress ? { settlementAddress: peer.settlementAddress } : {}),
    });
    for (const prefix of peer.routes) connector.addRoute(prefix, peer.id);
  }
  // Every channel restored from the store is read now: a close started while the node was down is redeemed, and a
  // chain reset (channels gone, other genesis or contracts) stops payments before anyone is served on credit.
  await checkChain();
  const chainTimer = setInterval(() => void checkChain(), options.chainCheckIntervalMs ?? 30_000);
  chainTimer.unref();
  cleanups.push(() => clearInterval(chainTimer));

  for (const peer of config.peers.filter((p) => p.url)) {
    // Reconnects by itself once connected; a peer that is down at start is retried in the background.
    const dial = () =>
      connector
        .connectPeer({ id: peer.id, relation: 'peer', url: peer.url!, authToken: peer.authToken })
        .then(() => log.info('peer link up', { peer: peer.id, url: peer.url }))
        .catch((error: unknown) => {
          log.warn('peer link failed; retrying in 2 s', { peer: peer.id, url: peer.url, error });
          if (!stopping) setTimeout(dial, 2000).unref();
        });
    void dial();
  }

  const settlement: SettlementInfo = {
    chainId: config.chain.chainId,
    token: config.chain.token,
    channelContract: config.chain.channels,
    settlementAddress,
  };
  const respond = createSpspResponder({
    secretKey: config.nostrSecretKey,
    connector,
    secrets,
    basePricePerByte: config.basePricePerByte,
    settlement,
    btpUrl: toBtpUrl(advertisedBtp),
    creditLimit: config.creditLimit,
    settleThreshold: config.settleThreshold,
  });

  // Peers SPSP made for keys that never used them are forgotten (docs/node.md "Limits").
  const expiry = startPeerExpiry({
    connector,
    store: connectorStore,
    secrets,
    unusedTtlMs: (config.unusedPeerTtlSeconds ?? 86_400) * 1000,
    ...(config.maxUnusedPeers !== undefined && { maxUnused: config.maxUnusedPeers }),
    ...(options.peerSweepMs !== undefined && { sweepEveryMs: options.peerSweepMs }),
    onExpired: (peer, why) => log.info('unused peer expired', { peer, why }),
  });
  cleanups.push(() => expiry.stop());

  const peerInfo = finalizeEvent(
    {
      ...buildPeerInfo({
        ilpAddress: config.ilpAddress,
        btpUrl: toBtpUrl(advertisedBtp),
        settlement,
        basePricePerByte: config.basePricePerByte,
      }),
      created_at: await peerInfoCreatedAt(store, pubkey),
    },
    config.nostrSecretKey,
  );
  const onSpspRequest = (request: NostrEvent) => {
    try {
      const response = respond(request);
      // 23195 is ephemeral: delivered to the requester's subscription, never stored.
      relay.publish(response);
      log.info('spsp answered', { requester: request.pubkey, request: request.id });
    } catch (error) {
      log.warn('spsp request refused', { requester: request.pubkey, request: request.id, error });
    }
  };
  // SPSP over Nostr: requests addressed to us arrive through our relay like any client's. If that connection
  // drops (it should not: same process), the node reconnects; requests sent meanwhile are lost (ephemeral)
  // and the Mayor asks again.
  let client: RelayClient | undefined;
  const listen = async (): Promise<RelayClient> => {
    // Its own relay, in this process, over loopback: nothing to authenticate, so no certificate check.
    const c = await RelayClient.connect(relay.url, 5000, { rejectUnauthorized: false });
    await c.subscribe('spsp', [{ kinds: [KIND_SPSP_REQUEST], '#p': [pubkey] }], onSpspRequest);
    c.onClose(() => {
      if (stopping) return;
      log.warn('SPSP subscription on the node relay closed; reconnecting in 1 s', {});
      const retry = () => {
        if (stopping) return;
        listen()
          .then(() => log.info('SPSP subscription restored', {}))
          .catch((error: unknown) => {
            log.error('SPSP subscription failed; retrying in 1 s', { error });
            setTimeout(retry, 1000).unref();
          });
      };
      setTimeout(retry, 1000).unref();
    });
    client = c;
    return c;
  };
  const first = await listen();
  cleanups.push(() => client?.close());
  const ok = await first.publish(peerInfo);
  if (!ok.ok) throw new NodeError('START_FAILED', `the relay refused the node's peer info: ${ok.reason}`);

  const spspUrl = httpUrl(connector.btpUrl, SPSP_PATH);
  log.info('node started', {
    ilpAddress: config.ilpAddress,
    pubkey,
    settlementAddress,
    relayUrl: relay.url,
    btpUrl: connector.btpUrl,
    spspUrl,
    chainId: config.chain.chainId,
    rpcUrl: config.chain.rpcUrl,
    db: config.databaseUrl ? 'postgres' : join(config.dataDir, 'relay.db'),
    // `native libsecp256k1.so.1`, or `wasm` when the library is missing (apt-get install libsecp256k1-1).
    signatures: (await loadFastVerifier()).backend,
  });

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      stopping = true;
      clearInterval(chainTimer);
      log.info('stopping: refusing new writes, finishing in-flight ones', { inFlight });
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve;
          setTimeout(() => {
            log.warn('drain timed out; closing with writes in flight', { inFlight });
            resolve();
          }, drainTimeoutMs).unref();
        });
      }
      // Everything start() opened, last first (the connector before its store, the relay before its stores),
      // each step even when an earlier one failed: a stopped node holds no file, thread or timer.
      const failed = await runCleanups(cleanups, (error) => log.error('stop step failed', { error }));
      if (failed !== undefined) throw failed;
      log.info('stopped', {});
    })();
    return stopped;
  };

  return {
    relayUrl: relay.url,
    btpUrl: connector.btpUrl,
    spspUrl,
    ilpAddress: config.ilpAddress,
    relayAddress,
    pubkey,
    settlementAddress,
    peerInfo,
    connector,
    relay,
    store,
    checkChain,
    stop,
  };
}

/**
 * `created_at` for the peer info published at start: now, or one second after the stored one when the node restarts
 * within the same second (a replaceable event with the same timestamp would be refused as a duplicate).
 */
async function peerInfoCreatedAt(store: EventStore, pubkey: string): Promise<number> {
  const now = Math.floor(Date.now() / 1000);
  const [stored] = await store.query([{ kinds: [KIND_PEER_INFO], authors: [pubkey], limit: 1 }]);
  return stored && stored.created_at >= now ? stored.created_at + 1 : now;
}
