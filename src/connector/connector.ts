// The ILP connector: BTP peers (server side and outgoing links), the packet pipeline, routing, and
// settlement through payment channels. See docs/connector.md.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Address, Hex } from 'viem';
import { submitClaim } from '../chain/actions/submitClaim.js';
import { claimDomain } from '../chain/claims.js';
import type { ChainClients } from '../chain/clients.js';
import type { SignedClaim } from '../chain/types.js';
import { type ClaimWatcher, type RedeemAttempt, watchClosures } from '../chain/watcher.js';
import { isValidIlpAddress } from '../ilp/address.js';
import { IlpError, IlpErrorCode } from '../ilp/errors.js';
import type { IlpPrepare, IlpReply } from '../ilp/types.js';
import type { WarnLogger } from '../transport/plaintext.js';
import type { ClientTlsOptions, ServerTlsOptions } from '../transport/tls.js';
import { mark, tracing } from '../transport/trace.js';
import { PeerAccount } from './accounts.js';
import { BtpClient, REPLACED_RETRY_MS } from './btp-client.js';
import { BTP_CLOSE, BtpServer } from './btp-server.js';
import type { BtpSessionHandlers } from './btp-session.js';
import { ChannelBindings } from './channel-bindings.js';
import { ChannelCredit, type Credit } from './channel-credit.js';
import { ClaimBudgets, type ClaimLimits } from './claim-limits.js';
import type { ClaimMessage } from './claim-message.js';
import { ClaimReceiver } from './claim-receiver.js';
import { ClaimSender } from './claim-sender.js';
import { ConnectorError } from './errors.js';
import { balance } from './middleware/balance.js';
import { expiry } from './middleware/expiry.js';
import { forward } from './middleware/forward.js';
import { ildcp } from './middleware/ildcp.js';
import { maxPacketAmount } from './middleware/max-packet.js';
import { rateLimit } from './middleware/rate-limit.js';
import { route } from './middleware/route.js';
import { settle } from './middleware/settle.js';
import { validate } from './middleware/validate.js';
import { verifyFulfillment } from './middleware/verify-fulfillment.js';
import { owedAmong } from './owed-message.js';
import { compose, type PacketContext } from './pipeline.js';
import { RoutingTable } from './routing.js';
import { SettleRetry, type SettleRetryOptions } from './settle-retry.js';
import type { ChannelStatus } from './status-message.js';
import type { ConnectorStore, UnpaidPacket } from './store.js';
import type { LocalHandler, PacketSender, PeerBalance, PeerConfig } from './types.js';
import { UnpaidPackets } from './unpaid.js';

export interface ConnectorSettlementOptions {
  /** The node's wallet: receiver of incoming channels, sender of outgoing ones, submitter of claims. */
  clients: ChainClients;
  token: Address;
  /** PaymentChannels contract. */
  channels: Address;
  /** Sign a claim to a peer once we owe it at least this much (default 0n: after every FULFILL). */
  settleThreshold?: bigint;
  /**
   * How long after the FULFILL that calls for it a claim to a peer goes (default 25 ms); the FULFILLs of that time
   * are paid by the same claim. 0: on the next turn.
   */
  claimDelayMs?: number;
  /** Redeem a peer's best claim on-chain once it exceeds what was redeemed by this much. Undefined: only on close or `redeem()`. */
  onChainThreshold?: bigint;
  /** Deposit of channels the node opens to peers it owes (and of each top-up). */
  channelDeposit: bigint;
  challengeWindow?: bigint;
  /** Watch incoming channels for closes and claim before the window ends (default true). */
  watch?: boolean;
  /** The closure watcher's settings (see watchClosures): resume point, polling, confirmations, and its log hooks. */
  watcher?: {
    /** First block to scan: the last `onScanned` block + 1 persisted by the caller (closes started while down). */
    fromBlock?: bigint;
    pollingIntervalMs?: number;
    confirmations?: number;
    retry?: { initialMs?: number; maxMs?: number };
    onScanned?: (block: bigint) => void;
    onAttempt?: (attempt: RedeemAttempt) => void;
  };
  /** Longest a cached channel state is trusted before crediting a claim (ClaimReceiver maxStateAgeMs, default 5 s). */
  maxStateAgeMs?: number;
  /** Errors of background settlement (claims to peers, on-chain redemption). */
  onError?: (error: unknown, peerId: string | undefined) => void;
  /** When a background claim to a peer fails, how soon it is tried again (see SettleRetry; default 1 s doubling to 60 s). */
  settleRetry?: SettleRetryOptions;
}

/** What redeemReport() did: each channel redeemed and each that failed (with its error), and the total paid. */
export interface RedeemReport {
  paid: bigint;
  redeemed: { peerId: string; channelId: Hex; paid: bigint }[];
  failed: { peerId: string; channelId: Hex | undefined; error: unknown }[];
}

export interface ConnectorOptions {
  /** The node's ILP address, e.g. g.crosstown.node1; children are `<address>.<peer id>`. */
  address: string;
  /** The BTP listener; with `tls` it serves `wss://` (and the `http` handler over https). */
  btp?: { port?: number; host?: string; authTimeoutMs?: number; tls?: ServerTlsOptions };
  /** Certificate checks for outgoing `wss://` links (connectPeer), unless a peer gives its own `tls`. */
  clientTls?: ClientTlsOptions;
  /** Receives the warning about plain ws:// links to non-loopback hosts. Default: console. */
  logger?: WarnLogger;
  /**
   * Told when the store fails to record a fulfilled packet (disk full): the FULFILL still goes back (the write is
   * committed further in) and the amount is owed in memory only until a claim pays it. The node logs it as an error.
   */
  onStoreError?: (error: unknown, packet: { peerId: string; condition: string; amount: bigint }) => void;
  /** The asset of every packet, told to children asking ILDCP (default M2M, scale 18: base units of the token). */
  asset?: { code: string; scale: number };
  /** Taken off the expiry at each hop (default 1000 ms). */
  expiryMarginMs?: number;
  /** Longest we hold a packet for a next hop (default 30 s). */
  maxHoldTimeMs?: number;
  /** Default largest packet amount per peer (F08 above). */
  maxPacketAmount?: bigint;
  /** Largest PREPARE data forwarded (default 32767). */
  maxDataBytes?: number;
  /** Default packets per second per peer; undefined for none. */
  rateLimitPerSecond?: number;
  /** Budgets of each peer's claims and status requests over BTP (default DEFAULT_CLAIM_LIMITS). */
  claimLimits?: Partial<ClaimLimits>;
  settlement?: ConnectorSettlementOptions;
  /**
   * Where settlement state survives restarts (openConnectorStore({ path }) in the node's data dir): unpaid packets
   * both ways, accepted claims, the channels we pay peers through, child peers (their tokens keep working). Child
   * peers saved there are added back on start. Default: memory only. The caller closes it after close().
   */
  store?: ConnectorStore;
  /** An HTTP handler on the BTP port (e.g. SPSP over HTTP); return true when it answered. */
  http?: (req: IncomingMessage, res: ServerResponse) => boolean;
  now?: () => number;
}

/** Longest close() waits for packets still in the pipeline (e.g. a FULFILL waiting for its group commit). */
const CLOSE_DRAIN_MS = 5000;
/** claimDelayMs's default: one claim interval of a Mayor (attach.ts). */
const DEFAULT_CLAIM_DELAY_MS = 25;

export class Connector {
  readonly address: string;
  private readonly accounts = new Map<string, PeerAccount>();
  private readonly tokens = new Map<string, string>();
  private readonly links = new Map<string, BtpClient>();
  readonly routes = new RoutingTable();
  private readonly pipeline: (ctx: PacketContext) => Promise<IlpReply>;
  private readonly now: () => number;
  private server!: BtpServer;
  private watcher: ClaimWatcher | undefined;
  /** PREPAREs between handlePrepare's start and its reply: close() lets them answer first. */
  private packetsInPipeline = 0;
  private pipelineDrained: (() => void) | undefined;
  /** Which peer each incoming channel pays for: one channel, one peer. */
  private readonly bindings = new ChannelBindings();
  private readonly claimBudgets: ClaimBudgets;
  private readonly credit: ChannelCredit | undefined;
  /** Set while the chain does not match the node's state (chain reset): claims and PREPAREs are refused. */
  private refusal: string | undefined;
  /** One queue for on-chain submissions: they come from one account and must not race for a nonce. */
  private chainQueue: Promise<unknown> = Promise.resolve();
  /** Tries failed background claims to a peer again while we still owe it. */
  private readonly settleRetry: SettleRetry;
  /** Claims to peers waiting for their delay (claimDelayMs), per peer. */
  private readonly claimTimers = new Map<string, NodeJS.Timeout>();

  private constructor(private readonly options: ConnectorOptions) {
    if (!isValidIlpAddress(options.address)) {
      throw new ConnectorError(
        'BAD_CONFIG',
        `connector address '${options.address}' is not a valid ILP address`,
      );
    }
    this.address = options.address;
    this.now = options.now ?? Date.now;
    this.claimBudgets = new ClaimBudgets(options.claimLimits, this.now);
    const s = options.settlement;
    this.settleRetry = new SettleRetry(
      {
        due: (peerId) => this.isConnected(peerId) && (this.accounts.get(peerId)?.outgoing.total ?? 0n) > 0n,
        // Through the peer's status when it can tell us (a lost answer may have paid some of it), else a claim.
        attempt: (peerId) => this.resyncWith(peerId) ?? this.settleWith(peerId),
        onError: (err, peerId) => s?.onError?.(err, peerId),
      },
      s?.settleRetry,
    );
    if (s) {
      this.credit = new ChannelCredit({
        publicClient: s.clients.public,
        channels: s.channels,
        token: s.token,
        receiver: s.clients.wallet.account.address,
        bindings: this.bindings,
        acceptedOf: (id) => (this.bestClaim(id) ?? this.options.store?.acceptedClaim(id))?.cumulativeAmount,
        onBind: (peerId, channelId) => this.rememberBinding(peerId, channelId),
        takeRead: () => this.claimBudgets.takeSharedRead(),
        readsBusy: () => this.claimBudgets.sharedReadsBusy(),
        now: this.now,
      });
    }
    const account = (id: string) => this.accounts.get(id);
    this.pipeline = compose([
      validate({ address: this.address, maxDataBytes: options.maxDataBytes ?? 32767 }),
      expiry({
        marginMs: options.expiryMarginMs ?? 1000,
        maxHoldMs: options.maxHoldTimeMs ?? 30_000,
        now: this.now,
      }),
      maxPacketAmount((id) => account(id)?.config.maxPacketAmount ?? options.maxPacketAmount),
      rateLimit({
        perSecondFor: (id) => account(id)?.config.rateLimitPerSecond ?? options.rateLimitPerSecond,
        now: this.now,
      }),
      ildcp({
        address: this.address,
        asset: options.asset ?? { code: 'M2M', scale: 18 },
        accountOf: account,
      }),
      balance(
        account,
        (a, need) => this.channelCredit(a, need),
        (error, packet) => options.onStoreError?.(error, packet),
      ),
      route(this.routes),
      settle((peerId, condition, amount, fulfillment) => this.owe(peerId, condition, amount, fulfillment)),
      verifyFulfillment(this.address),
      forward({ senderFor: (id) => this.senderFor(id), now: this.now }),
    ]);
  }

  /** Creates the connector and starts its BTP server (and the closure watcher when settlement is set). */
  static async start(options: ConnectorOptions): Promise<Connector> {
    const c = new Connector(options);
    for (const peer of options.store?.peers() ?? []) c.addPeer(peer);
    c.server = await BtpServer.start({
      ...options.btp,
      address: c.address,
      authenticate: (token) => c.tokens.get(token),
      handlersFor: (peerId) => c.handlersFor(peerId),
      // A peer we pay may have accepted a claim whose answer we never got (link dropped, either side
      // restarted): ask it before the next claim, or that claim is refused for good.
      onSession: (peerId) => c.resyncOutgoing(peerId),
      ...(options.http ? { http: options.http } : {}),
    });
    const s = options.settlement;
    if (s && s.watch !== false) {
      const w = s.watcher ?? {};
      c.watcher = watchClosures({
        clients: s.clients,
        channels: s.channels,
        bestClaim: (id) => c.bestClaim(id) ?? options.store?.acceptedClaim(id),
        // Through the wallet queue: redemptions, opens and top-ups come from one account and must not race.
        submit: (claim, close) =>
          c.chainLock(() => submitClaim(s.clients, { channels: s.channels, claim, close })),
        knownChannels: () => c.knownChannels(),
        onClosing: (id, closesAt) => c.forEachReceiver((r) => r.markClosing(id, closesAt)),
        onClaimed: (id, r) => c.forEachReceiver((rc) => rc.markClaimed(id, r.totalClaimed)),
        onError: (err, id) => s.onError?.(err, id === undefined ? undefined : c.peerOfChannel(id)),
        ...(w.fromBlock !== undefined && { fromBlock: w.fromBlock }),
        ...(w.pollingIntervalMs !== undefined && { pollingIntervalMs: w.pollingIntervalMs }),
        ...(w.confirmations !== undefined && { confirmations: w.confirmations }),
        ...(w.retry && { retry: w.retry }),
        ...(w.onScanned && { onScanned: w.onScanned }),
        ...(w.onAttempt && { onAttempt: w.onAttempt }),
      });
    }
    return c;
  }

  /** ws:// (or wss:// with TLS) URL peers connect to. */
  get btpUrl(): string {
    return this.server.url;
  }

  get port(): number {
    return this.server.port;
  }

  /** Our settlement address (undefined without settlement). */
  get settlementAddress(): Address | undefined {
    return this.options.settlement?.clients.wallet.account.address;
  }

  /** Adds a peer; a child gets the route `<address>.<id>`. Its token lets it connect over BTP. */
  addPeer(config: PeerConfig): void {
    if (this.accounts.has(config.id))
      throw new ConnectorError('PEER_EXISTS', `peer ${config.id} already exists`);
    if (!/^[a-zA-Z0-9_~-]+$/.test(config.id)) {
      throw new ConnectorError(
        'BAD_CONFIG',
        `peer id '${config.id}' must be one ILP address segment: letters, digits, _ ~ -`,
      );
    }
    const account = this.newAccount(config);
    this.accounts.set(config.id, account);
    const store = this.options.store;
    for (const ch of [
      ...(config.channels ?? []),
      ...(store?.acceptedClaims(config.id) ?? []).map((c) => c.channelId),
    ])
      if (this.bindings.owner(ch) === undefined) this.bindings.bind(ch, config.id);
    if (config.relation === 'child') store?.savePeer(config);
    // Claims accepted or signed before a restart count in the balance (and the watcher) from the start.
    if (store && this.options.settlement && config.settlementAddress) {
      if (store.acceptedClaims(config.id).length) this.receiverOf(account);
      if (store.outgoing(config.id)) this.senderOf(account);
    }
    if (config.authToken !== undefined) this.tokens.set(config.authToken, config.id);
    if (config.relation === 'child')
      this.routes.set(`${this.address}.${config.id}`, { kind: 'peer', peerId: config.id });
  }

  /** Changes a peer's settings (e.g. the settlement address learnt from SPSP); the id stays. */
  updatePeer(id: string, changes: Partial<Omit<PeerConfig, 'id' | 'relation'>>): void {
    const account = this.account(id);
    if (changes.authToken !== undefined) {
      if (account.config.authToken !== undefined) this.tokens.delete(account.config.authToken);
      this.tokens.set(changes.authToken, id);
    }
    account.config = { ...account.config, ...changes };
    if (account.config.relation === 'child') this.options.store?.savePeer(account.config);
  }

  peer(id: string): PeerConfig | undefined {
    return this.accounts.get(id)?.config;
  }

  removePeer(id: string): void {
    const account = this.accounts.get(id);
    if (!account) return;
    if (account.config.authToken !== undefined) this.tokens.delete(account.config.authToken);
    this.routes.deletePeer(id);
    this.accounts.delete(id);
    // Its money state stays in the store: adding the peer again brings back what it owes and is owed.
    this.options.store?.deletePeer(id);
    this.server.disconnect(id, 'peer removed');
    void this.links.get(id)?.close();
    this.links.delete(id);
  }

  /** Whether the peer has a live BTP session (it connected to us, or our link to it is open). */
  isConnected(peerId: string): boolean {
    return this.server.session(peerId) !== undefined || this.links.has(peerId);
  }

  /** Drops a peer's BTP connection with a reason (its account stays; it may reconnect). */
  disconnect(peerId: string, reason: string): void {
    this.server.disconnect(peerId, reason);
  }

  /** A static route: packets for `prefix` (and below) go to peer `peerId`. */
  addRoute(prefix: string, peerId: string): void {
    this.account(peerId);
    this.routes.set(prefix, { kind: 'peer', peerId });
  }

  /** An in-process receiver for `prefix`, e.g. the relay's write gate at `<address>.relay`. */
  addLocalRoute(prefix: string, handle: LocalHandler, name = prefix): void {
    this.routes.set(prefix, { kind: 'local', name, handle });
  }

  /** Opens an outgoing BTP link to another connector (the peer must know our token). */
  async connectPeer(
    config: PeerConfig & { url: string; authToken: string; tls?: ClientTlsOptions },
    reconnectDelayMs = 1000,
  ): Promise<void> {
    const { url, tls, ...peer } = config;
    const clientTls = tls ?? this.options.clientTls;
    if (!this.accounts.has(peer.id)) this.addPeer({ ...peer, authToken: undefined } as PeerConfig);
    const client = await BtpClient.connect({
      url,
      authToken: config.authToken,
      address: this.address,
      reconnectDelayMs,
      ...(clientTls && { tls: clientTls }),
      ...(this.options.logger && { logger: this.options.logger }),
      ...this.handlersFor(peer.id),
      onDisconnect: (code) => {
        if (code === BTP_CLOSE.replaced)
          (this.options.logger ?? console).warn(
            `link to peer ${peer.id} (${url}) replaced by another connection with our token (is this node running twice?): reconnecting in ${REPLACED_RETRY_MS / 1000} s; stop one of the two`,
          );
      },
    });
    this.links.set(peer.id, client);
  }

  /** Runs a PREPARE from `fromPeer` through the pipeline. Never throws. */
  async handlePrepare(prepare: IlpPrepare, fromPeer: string): Promise<IlpReply> {
    const ctx: PacketContext = { incoming: prepare, fromPeer, receivedAt: this.now(), outgoing: prepare };
    if (this.refusal !== undefined) {
      // No service on credit while the chain cannot settle it (chain reset): say why and what to do.
      return new IlpError(IlpErrorCode.T00_INTERNAL_ERROR, `payments refused: ${this.refusal}`, {
        triggeredBy: this.address,
      }).toReject(this.address);
    }
    this.packetsInPipeline++;
    if (tracing) mark(`connector: prepare from ${fromPeer} ${prepare.amount}`);
    try {
      return await this.pipeline(ctx);
    } catch (err) {
      const e =
        err instanceof IlpError
          ? err
          : new IlpError(IlpErrorCode.T00_INTERNAL_ERROR, `connector error: ${(err as Error).message}`);
      return e.toReject(this.address);
    } finally {
      if (tracing) mark(`connector: reply to ${fromPeer}`);
      this.packetsInPipeline--;
      // On the next turn: the session writes this reply in a continuation that must run before close() goes on.
      if (this.packetsInPipeline === 0 && this.pipelineDrained) {
        setImmediate(() => {
          if (this.packetsInPipeline === 0) this.pipelineDrained?.();
        });
      }
    }
  }

  /** PREPAREs in the pipeline now (received, not yet answered): 1 while a payer sends one at a time. */
  get packetsInFlight(): number {
    return this.packetsInPipeline;
  }

  balance(peerId: string): PeerBalance {
    return this.account(peerId).balance();
  }

  /**
   * Accepts a peer's claim (DESIGN §3): it must pay exactly the listed fulfilled packets, on a channel from the
   * peer's settlement address to ours in our token. Throws (changing nothing) otherwise. Returns the amount paid.
   */
  async acceptClaim(peerId: string, msg: ClaimMessage): Promise<bigint> {
    const account = this.account(peerId);
    if (this.refusal !== undefined)
      throw new ConnectorError('CHAIN_MISMATCH', `claim refused: ${this.refusal}`);
    const receiver = this.receiverOf(account);
    const paid = await this.boundTo(peerId, msg.channelId, receiver, () =>
      receiver.accept(msg, account.incoming),
    );
    const threshold = this.options.settlement?.onChainThreshold;
    if (threshold !== undefined) {
      const ch = receiver.list().find((c) => c.channelId.toLowerCase() === msg.channelId.toLowerCase());
      if (ch?.best && ch.best.cumulativeAmount - ch.state.claimed >= threshold) {
        this.redeem(peerId).catch((err: unknown) => this.options.settlement?.onError?.(err, peerId));
      }
    }
    return paid;
  }

  /**
   * Submits the best claim of each of the peer's channels (all peers when omitted) on-chain. Returns the total paid
   * out. Every channel is tried even when another fails; if any failed it then throws REDEEM_INCOMPLETE naming each
   * failed channel (its `report` holds what was paid): see redeemReport() for the report without the throw.
   */
  async redeem(peerId?: string): Promise<bigint> {
    const report = await this.redeemReport(peerId);
    if (report.failed.length) {
      const err = new ConnectorError(
        'REDEEM_INCOMPLETE',
        `redeemed ${report.paid} on ${report.redeemed.length} channel(s), but ${report.failed.length} failed: ${report.failed
          .map((f) => `${f.channelId} (peer ${f.peerId}): ${(f.error as Error).message ?? String(f.error)}`)
          .join('; ')}`,
      );
      throw Object.assign(err, { report });
    }
    return report.paid;
  }

  /** Like redeem(), but never stops at a failing claim and never throws for one: returns what happened per channel. */
  redeemReport(peerId?: string): Promise<RedeemReport> {
    return this.chainLock(async () => {
      const s = this.settlement();
      const report: RedeemReport = { paid: 0n, redeemed: [], failed: [] };
      const accounts = peerId === undefined ? [...this.accounts.values()] : [this.account(peerId)];
      for (const account of accounts) {
        const id = account.config.id;
        try {
          // Claims accepted before a restart: bind their channels so they are redeemed too.
          if (account.config.settlementAddress && this.options.store?.acceptedClaims(id).length)
            await this.receiverOf(account).bindRestored();
        } catch (error) {
          report.failed.push({ peerId: id, channelId: undefined, error });
          s.onError?.(error, id);
        }
        for (const ch of account.receiver?.list() ?? []) {
          if (!ch.best || ch.best.cumulativeAmount <= ch.state.claimed || ch.state.settled) continue;
          try {
            const r = await submitClaim(s.clients, { channels: s.channels, claim: ch.best });
            account.receiver?.markClaimed(ch.channelId, r.totalClaimed);
            report.paid += r.paid;
            report.redeemed.push({ peerId: id, channelId: ch.channelId, paid: r.paid });
          } catch (error) {
            // One bad claim (a settled channel, an RPC failure) must not keep the other channels unpaid.
            report.failed.push({ peerId: id, channelId: ch.channelId, error });
            s.onError?.(error, id);
          }
        }
      }
      return report;
    });
  }

  /**
   * What `peerId` may learn about its channel `channelId` (the `payment-channel-status` request): our last accepted
   * cumulative, its signature, and the peer's unpaid packets. Throws STATUS_REFUSED for a channel not from the peer.
   */
  channelStatus(peerId: string, channelId: Hex): Promise<ChannelStatus> {
    const account = this.account(peerId);
    if (!this.options.settlement || !account.config.settlementAddress) {
      return Promise.reject(
        new ConnectorError(
          'STATUS_REFUSED',
          `no settlement with peer ${peerId}: do the SPSP handshake with a settlementAddress first`,
        ),
      );
    }
    const receiver = this.receiverOf(account);
    return this.boundTo(peerId, channelId, receiver, () =>
      receiver.status(channelId, account.incoming),
    ).catch((err: unknown) => {
      if (err instanceof ConnectorError && err.code === 'CLAIM_WRONG_CHANNEL')
        throw new ConnectorError(
          'STATUS_REFUSED',
          `channel ${channelId} is not a channel from your settlement address to this node`,
        );
      throw err;
    });
  }

  /**
   * Runs `use` (a claim or status on `channelId`) with the channel bound to `peerId`: refused when another peer
   * owns it; a new binding is kept only when the receiver proved the channel is from the peer's address to us.
   */
  private async boundTo<T>(
    peerId: string,
    channelId: Hex,
    receiver: ClaimReceiver,
    use: () => Promise<T>,
  ): Promise<T> {
    const fresh = this.bindings.bind(channelId, peerId);
    const proven = () => receiver.list().some((c) => c.channelId.toLowerCase() === channelId.toLowerCase());
    try {
      const result = await use();
      if (fresh) this.rememberBinding(peerId, channelId);
      return result;
    } catch (err) {
      if (fresh && proven()) this.rememberBinding(peerId, channelId);
      else if (fresh) this.bindings.release(channelId, peerId);
      throw err;
    }
  }

  /** Persists a binding in the peer's config (child peers are saved in the store). */
  private rememberBinding(peerId: string, channelId: Hex): void {
    const config = this.accounts.get(peerId)?.config;
    if (!config || config.channels?.some((c) => c.toLowerCase() === channelId.toLowerCase())) return;
    this.updatePeer(peerId, { channels: [...(config.channels ?? []), channelId] });
  }

  /** A child's channel-backed credit when settlement is on; undefined for connector peers (configured trust). */
  private channelCredit(account: PeerAccount, need: bigint): Promise<Credit> | undefined {
    if (!this.credit || account.config.relation !== 'child') return undefined;
    return this.credit.of(account.config.id, account.config.settlementAddress, need);
  }

  /**
   * Stops (with `reason`) or resumes (undefined) all payments: while set, claims are refused with CHAIN_MISMATCH and
   * PREPAREs with T00 "payments refused: <reason>". The node sets it when the chain does not match its state.
   */
  refusePayments(reason: string | undefined): void {
    this.refusal = reason;
  }

  /** Why payments are refused, or undefined. */
  get paymentsRefused(): string | undefined {
    return this.refusal;
  }

  /** The closure watcher (undefined without settlement or with `watch: false`). */
  get closureWatcher(): ClaimWatcher | undefined {
    return this.watcher;
  }

  /**
   * Every incoming channel the node holds or held a claim on (bound, restored, or saved in the store), and every
   * channel bound to a peer (it may owe on credit before its first claim): the chain guard checks they all exist.
   */
  knownChannels(): Hex[] {
    const ids = new Map<string, Hex>();
    for (const a of this.accounts.values()) {
      for (const id of a.receiver?.channelIds() ?? []) ids.set(id.toLowerCase(), id);
      for (const id of a.config.channels ?? []) ids.set(id.toLowerCase(), id);
      for (const c of this.options.store?.acceptedClaims(a.config.id) ?? [])
        ids.set(c.channelId.toLowerCase(), c.channelId);
    }
    return [...ids.values()];
  }

  /** A channel read closing elsewhere (e.g. a periodic check): refuse claims on it and put it in the watcher's loop. */
  channelClosing(channelId: Hex, closesAt: bigint): void {
    this.forEachReceiver((r) => r.markClosing(channelId, closesAt));
    this.watcher?.track(channelId, closesAt);
  }

  private forEachReceiver(fn: (r: ClaimReceiver) => void): void {
    for (const a of this.accounts.values()) if (a.receiver) fn(a.receiver);
  }

  private peerOfChannel(channelId: Hex): string | undefined {
    const key = channelId.toLowerCase();
    for (const a of this.accounts.values())
      if (a.receiver?.channelIds().some((id) => id.toLowerCase() === key)) return a.config.id;
    return undefined;
  }

  /** Serializes the node wallet's on-chain writes (redemptions, opening and topping up channels). */
  private chainLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chainQueue.then(fn);
    this.chainQueue = run.catch(() => undefined);
    return run;
  }

  /** Signs and sends a claim for everything we owe the peer now. Returns the amount paid (0n if nothing owed). */
  settleWith(peerId: string): Promise<bigint> {
    const account = this.account(peerId);
    const sender = this.senderOf(account);
    return sender.settle(async (msg) => {
      const link = this.server.session(peerId) ?? this.links.get(peerId);
      if (!link)
        throw new ConnectorError('BTP_CLOSED', `peer ${peerId} is not connected; cannot send a claim`);
      await link.sendClaim(msg);
    });
  }

  /** Continues our channel to `peerId` from what it says it accepted (checked: our own signature), then pays. */
  private resyncOutgoing(peerId: string): void {
    this.resyncWith(peerId)?.then(
      () => this.settleRetry.succeeded(peerId),
      (err: unknown) => this.settleRetry.failed(peerId, err),
    );
  }

  /** The resync of our channel to a peer connected to us; undefined when there is none to resync. */
  private resyncWith(peerId: string): Promise<unknown> | undefined {
    const account = this.accounts.get(peerId);
    const sender = account?.sender;
    if (!account || !sender?.channel || !this.options.settlement || !this.server.session(peerId))
      return undefined;
    return sender.resync(
      (id) => {
        const session = this.server.session(peerId);
        if (!session) throw new ConnectorError('BTP_CLOSED', `peer ${peerId} is not connected`);
        return session.requestStatus(id);
      },
      async (msg) => {
        const session = this.server.session(peerId);
        if (!session) throw new ConnectorError('BTP_CLOSED', `peer ${peerId} is not connected`);
        await session.sendClaim(msg);
      },
      // We only resync to pay what we owe: the peer may not add packets we have no record of.
      { maxOwed: 0n },
    );
  }

  async close(): Promise<void> {
    // Packets already fulfilled further in may still wait for their durable record (group commit) before their
    // FULFILL goes back: let them answer before the sessions close (bounded: a forwarded packet can hang).
    if (this.packetsInPipeline > 0) {
      await new Promise<void>((resolve) => {
        this.pipelineDrained = resolve;
        setTimeout(resolve, CLOSE_DRAIN_MS).unref();
      });
    }
    this.watcher?.stop();
    // Claims still waiting for their delay go now, while the links are up (as they went on the next turn before).
    for (const peerId of [...this.claimTimers.keys()]) this.claimNow(peerId);
    this.settleRetry.stop();
    for (const link of this.links.values()) await link.close();
    this.links.clear();
    await this.server.close();
    await this.chainQueue;
  }

  private handlersFor(peerId: string): BtpSessionHandlers {
    return {
      onPrepare: (prepare) => this.handlePrepare(prepare, peerId),
      onClaim: async (msg) => {
        this.claimBudgets.admit(peerId, msg.channelId, this.isBound(msg.channelId), 'claim');
        await this.acceptClaim(peerId, msg);
      },
      onStatus: async (channelId) => {
        this.claimBudgets.admit(peerId, channelId, this.isBound(channelId), 'status request');
        return this.channelStatus(peerId, channelId);
      },
      onOwed: async (conditions) => {
        this.claimBudgets.admitOwedQuery(peerId);
        return owedAmong(conditions, this.owedTo(peerId));
      },
    };
  }

  /** The packets `peerId` fulfilled for us and we have not paid: unpaid, then in a claim in flight. */
  private owedTo(peerId: string): UnpaidPacket[] {
    const account = this.accounts.get(peerId);
    if (!account) return [];
    return account.sender ? account.sender.owed() : account.outgoing.entries();
  }

  /** Bound to a peer (ours: no read to prove it; another's: refused before any read). */
  private isBound(channelId: Hex): boolean {
    return this.bindings.owner(channelId) !== undefined;
  }

  private senderFor(peerId: string): PacketSender | undefined {
    const session = this.server.session(peerId);
    if (session) return session;
    const link = this.links.get(peerId);
    return link?.connected ? link : undefined;
  }

  private async owe(peerId: string, condition: string, amount: bigint, fulfillment: string): Promise<void> {
    const account = this.accounts.get(peerId);
    if (!account) return;
    await account.outgoing.add(condition, amount, fulfillment);
    const s = this.options.settlement;
    if (!s || !account.config.settlementAddress) return;
    const threshold = account.config.settleThreshold ?? s.settleThreshold ?? 0n;
    if (account.outgoing.total >= threshold && account.outgoing.total > 0n && !this.claimTimers.has(peerId)) {
      // Not at once: the FULFILL this packet answers (same commit) is written back first, and the claim's signing,
      // the peer's check and both sides' records do not land on the payer's next step (for a provider paid for a
      // sealed result's key: the requester's routing of that result; issue 17). One claim covers what the FULFILLs
      // of the delay added; the peer already gave us the credit they use.
      this.claimTimers.set(
        peerId,
        setTimeout(() => this.claimNow(peerId), s.claimDelayMs ?? DEFAULT_CLAIM_DELAY_MS),
      );
    }
  }

  /** Sends the claim a timer was waiting to send. */
  private claimNow(peerId: string): void {
    const timer = this.claimTimers.get(peerId);
    if (!timer) return;
    clearTimeout(timer);
    this.claimTimers.delete(peerId);
    this.settleWith(peerId).then(
      () => this.settleRetry.succeeded(peerId),
      (err: unknown) => this.settleRetry.failed(peerId, err),
    );
  }

  /** A peer account whose ledgers write through to the store (durable before the FULFILL goes back). */
  private newAccount(config: PeerConfig): PeerAccount {
    const store = this.options.store;
    if (!store) return new PeerAccount(config);
    const id = config.id;
    return new PeerAccount(config, {
      incoming: new UnpaidPackets(
        (condition, amount, fulfillment) => store.addUnpaid(id, 'in', { condition, amount, fulfillment }),
        store.unpaid(id, 'in'),
      ),
      outgoing: new UnpaidPackets(
        (condition, amount, fulfillment) => store.addUnpaid(id, 'out', { condition, amount, fulfillment }),
        store.unpaid(id, 'out'),
      ),
    });
  }

  private bestClaim(channelId: Hex): SignedClaim | undefined {
    for (const a of this.accounts.values()) {
      const best = a.receiver?.bestClaim(channelId);
      if (best) return best;
    }
    return undefined;
  }

  private settlement(): ConnectorSettlementOptions {
    const s = this.options.settlement;
    if (!s) throw new ConnectorError('CLAIM_NO_SETTLEMENT', 'this connector has no settlement configured');
    return s;
  }

  private receiverOf(account: PeerAccount): ClaimReceiver {
    if (account.receiver) return account.receiver;
    const s = this.settlement();
    const sender = account.config.settlementAddress;
    if (!sender) {
      throw new ConnectorError(
        'CLAIM_NO_SETTLEMENT',
        `peer ${account.config.id} has no settlement address; do the SPSP handshake with settlementAddress first`,
      );
    }
    account.receiver = new ClaimReceiver({
      publicClient: s.clients.public,
      domain: claimDomain(s.clients.public.chain.id, s.channels),
      token: s.token,
      receiver: s.clients.wallet.account.address,
      sender,
      ...(s.maxStateAgeMs !== undefined && { maxStateAgeMs: s.maxStateAgeMs }),
      beforeDepositReread: (channelId) => this.claimBudgets.admitReread(account.config.id, channelId),
      now: this.now,
      ...(this.options.store && {
        onAccept: (claim: SignedClaim, pays: readonly string[]) =>
          this.options.store!.acceptClaim(account.config.id, claim, pays),
      }),
    });
    account.receiver.restore(this.options.store?.acceptedClaims(account.config.id) ?? []);
    return account.receiver;
  }

  private senderOf(account: PeerAccount): ClaimSender {
    if (account.sender) return account.sender;
    const s = this.settlement();
    const receiver = account.config.settlementAddress;
    if (!receiver) {
      throw new ConnectorError(
        'CLAIM_NO_SETTLEMENT',
        `peer ${account.config.id} has no settlement address to pay`,
      );
    }
    const store = this.options.store;
    const saved = store?.outgoing(account.config.id);
    account.sender = new ClaimSender({
      clients: s.clients,
      domain: claimDomain(s.clients.public.chain.id, s.channels),
      token: s.token,
      receiver,
      deposit: s.channelDeposit,
      ...(s.challengeWindow !== undefined ? { challengeWindow: s.challengeWindow } : {}),
      unpaid: account.outgoing,
      chainLock: (fn) => this.chainLock(fn),
      ...(saved && {
        channelId: saved.channelId,
        channelDeposit: saved.deposit,
        cumulative: saved.cumulative,
      }),
      ...(store && { onState: (state, pays) => store.saveOutgoing(account.config.id, state, pays) }),
    });
    return account.sender;
  }

  private account(id: string): PeerAccount {
    const a = this.accounts.get(id);
    if (!a) throw new ConnectorError('UNKNOWN_PEER', `no peer '${id}'; add it with addPeer first`);
    return a;
  }
}
