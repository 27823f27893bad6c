// Attaching a Mayor to its node: SPSP handshake over Nostr (relay account, shared secret, price, settlement
// chain, BTP token), the price ceiling, the outgoing payment channel (reused from state or from the chain,
// or opened), the BTP session, and paying: PREPAREs with retries of transient rejects, claims batched by a
// settlement threshold, each paid PREPARE in the payer's record (payer-records.ts).
import type { Address, Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { listChannels } from '../../chain/actions/listChannels.js';
import { openChannel } from '../../chain/actions/openChannel.js';
import { readChannel } from '../../chain/actions/readChannel.js';
import { startClose } from '../../chain/actions/startClose.js';
import { topUpChannel } from '../../chain/actions/topUpChannel.js';
import { withdraw } from '../../chain/actions/withdraw.js';
import { claimDomain } from '../../chain/claims.js';
import { type ChainClients, createChainClients } from '../../chain/clients.js';
import { formatM2M } from '../../chain/units.js';
import { BtpClient, REPLACED_RETRY_MS } from '../../connector/btp-client.js';
import { BTP_CLOSE } from '../../connector/btp-server.js';
import type { ClaimMessage } from '../../connector/claim-message.js';
import { ClaimSender } from '../../connector/claim-sender.js';
import type { ChannelStatus } from '../../connector/status-message.js';
import { UnpaidPackets } from '../../connector/unpaid.js';
import { conditionOf, deriveFulfillment } from '../../ilp/fulfillment.js';
import { IlpPacketType, type IlpPrepare, type IlpReject, type IlpReply } from '../../ilp/types.js';
import { getPublicKey } from '../../nostr/keys.js';
import { settlementProofMessage } from '../../nostr/settlement.js';
import type { SpspResponse } from '../../nostr/spsp.js';
import type { WarnLogger } from '../../transport/plaintext.js';
import type { ClientTlsOptions } from '../../transport/tls.js';
import type { StateRepo } from '../state/index.js';
import { sleep } from './backoff.js';
import { type ChainCheckParams, checkChain, resaveChain, startChainGuard } from './chain-guard.js';
import { MayorError } from './errors.js';
import { type FaultHook, noFaults } from './faults.js';
import { pinNodePubkey } from './node-identity.js';
import type { PaidRecord, PayerLog } from './payer-log.js';
import { followPayerRecords } from './payer-records.js';
import type { RelayPool } from './relay-pool.js';
import { checkSettlementTerms, type ExpectedSettlement } from './settlement-terms.js';
import { isStaleRelayAccount, spspHandshake } from './spsp-client.js';

export interface AttachOptions {
  pool: RelayPool;
  nostrSecretKey: Uint8Array;
  walletKey: Hex;
  /** JSON-RPC of the settlement chain. */
  rpcUrl: string;
  /**
   * The node's Nostr pubkey. When unset it is read from the relays' NIP-11 documents over verified wss:// only;
   * a plain ws:// relay without it is refused (anyone can publish a kind 10032 claiming to be the node).
   */
  nodePubkey?: string;
  /** What the network's settlement is known to be: an SPSP answer naming anything else is refused before any transaction. */
  expectedSettlement?: ExpectedSettlement;
  /** Refuse a relay that charges more per byte, unless `acceptPrice`. */
  maxBasePricePerByte: bigint;
  acceptPrice?: boolean;
  /** Deposit of a new channel (and of each top-up). */
  deposit: bigint;
  /** Refuse deposits above this. */
  maxDeposit: bigint;
  /** Send a claim once this much is owed (0: after every FULFILL). */
  settleThreshold?: bigint;
  /**
   * At most one background claim per this many ms (default 25): a claim covers everything owed, so writes in
   * quick succession share one, within the node's per-peer claim budget (docs/node.md). settle() is immediate.
   */
  claimIntervalMs?: number;
  /**
   * Where the channel is remembered (optional: providers stand-ins run without), and the record of the packets we
   * pay for (payer-log.ts) that a restart checks the node's word against.
   */
  state?: StateRepo;
  /** Incoming PREPAREs (provider payments) and claims (the node paying us). */
  onPrepare?: (p: IlpPrepare) => Promise<IlpReply>;
  onClaim?: (m: ClaimMessage) => Promise<void>;
  /** The node asking what we accepted on its channel to us (it resyncs as a payer); throw to refuse. */
  onStatus?: (channelId: Hex) => Promise<ChannelStatus>;
  /**
   * When resyncing, refuse (and keep our own figures) if the node says we owe packets we have no record of worth
   * more than this. Default 0 when the payer's record (payer-log.ts) follows the channel: the node may then list
   * only packets we sent; else 1 M2M, the node's default credit limit (a node never lets a Mayor owe more).
   */
  maxResyncOwed?: bigint;
  /** Certificate checks of a wss:// BTP URL (a private CA: `ca` / `caPath`). */
  tls?: ClientTlsOptions;
  /** Receives the plain-ws:// warning of the BTP client. */
  logger?: WarnLogger;
  /** Crash-test hook (`claim-accepted`). */
  fault?: FaultHook;
  onConnector?: (status: 'connected' | 'disconnected', reason?: string) => void;
  onWarning?: (message: string) => void;
  /** How long to wait for the node's SPSP answer, ms (default 10 s). */
  spspTimeoutMs?: number;
  /** Reconnect delay of the BTP session, ms (default 1000). */
  reconnectDelayMs?: number;
  /** Retries of transient rejects (default 3) and the first backoff (default 250 ms). */
  retries?: number;
  retryDelayMs?: number;
  /**
   * After a chain reset (a restarted devnet): forget channels in state that no longer exist on the chain and
   * open a new one, instead of refusing with CHAIN_RESET.
   */
  resetChannelState?: boolean;
  /** How often the chain is re-checked for a reset while attached, ms (default 30 s). */
  chainCheckMs?: number;
}

export interface PayResult {
  reply: IlpReply;
  attempts: number;
}

export interface ChannelView {
  channelId: Hex;
  deposit: bigint;
  cumulative: bigint;
  receiver: Address;
  contract: Address;
  chainId: number;
}

export interface Attachment {
  /** The node's SPSP answer (renewed when the node forgot our relay account: F02 after a node restart). */
  readonly spsp: SpspResponse;
  readonly nodePubkey: string;
  readonly clients: ChainClients;
  readonly walletAddress: Address;
  readonly btp: BtpClient;
  readonly claims: ClaimSender;
  /** Our record of the packets we pay the node for (with a state repository only): payer-log.ts. */
  readonly payerLog?: PayerLog;
  /** How the channel was found: from local state, rebuilt from the chain, or newly opened. */
  readonly channelSource: 'state' | 'chain' | 'opened';
  /** What the resync with the node found (channels from state or the chain only; undefined when it did not run). */
  readonly resync?: { cumulative: bigint; recovered: bigint; paid: bigint };
  channel(): ChannelView;
  /**
   * Sends a PREPARE; retries transient rejects (`retries`, default the attachment's); records the fulfilled
   * amount for the next claim.
   */
  pay(
    prepare: Omit<IlpPrepare, 'type' | 'expiresAt'> & {
      expiresAt?: Date;
      retries?: number;
      /** Names what it pays in the payer's record (a provider payment), for `earlierPayment`. */
      label?: string;
      /**
       * The payee fulfills a copy of what it already has for nothing (a relay write): an attempt sent again after one
       * that got no answer (it may have gone through) goes first as a free copy, so it is never paid twice.
       */
      duplicateIsFree?: boolean;
    },
  ): Promise<PayResult>;
  /**
   * Whether a payment named `label` went through before (a crash or a dropped link hid its FULFILL), from the payer's
   * record: its fulfillment when the FULFILL reached us, `{}` when only the node's list of what we owe proved it,
   * undefined when none did. One sent whose fate is unknown is settled first by asking the node (a resync).
   */
  earlierPayment(label: string): Promise<PaidRecord | undefined>;
  /** A paid relay write of `data` (a TOON event) at the price bytes × basePricePerByte (or `amount`). */
  writeToRelay(data: Uint8Array, amount?: bigint): Promise<PayResult>;
  /** Claims for everything fulfilled so far. */
  settle(): Promise<bigint>;
  topUp(amount: bigint): Promise<bigint>;
  /** Starts closing the channel (the node claims during the challenge window); `withdraw` after it ends. */
  close(): Promise<{ closesAt: bigint }>;
  withdraw(): Promise<void>;
  detach(): Promise<void>;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Transient: T-class, and R00 (expired, typically a timeout on the way). Everything else is final. */
export function isTransient(reject: IlpReject): boolean {
  return reject.code.startsWith('T') || reject.code === 'R00' || reject.code === 'R02';
}

/** What to do about a final reject, in words. */
export function rejectAdvice(reject: IlpReject): string {
  switch (reject.code) {
    case 'F04':
      return 'the relay asked more than was sent: its price may have changed; re-attach to read the current basePricePerByte';
    case 'F06':
      return 'the relay refused the event itself (signature, or a payment it did not expect); check the Mayor key and redo SPSP';
    case 'F01':
      return 'the packet or event is malformed or too large (at most 32767 bytes): shrink the job inputs';
    case 'F02':
      return 'the destination is unreachable: re-attach so SPSP gives a current address';
    case 'F05':
      return 'the receiver answered a wrong fulfillment: redo SPSP to get a fresh shared secret';
    case 'F08':
      return 'the amount is above the maximum per packet: split the payment';
    case 'F99':
      return 'the relay blocked the event (see its message)';
    default:
      return 'see the message; the payment was not made';
  }
}

export async function attach(options: AttachOptions): Promise<Attachment> {
  const { pool } = options;
  const warn = options.onWarning ?? ((m: string) => console.error(m));
  const clients0 = { rpcUrl: options.rpcUrl, privateKey: options.walletKey };
  await pool.waitConnected();
  const nodePubkey = await pinNodePubkey(pool.urls, options.nodePubkey, options.tls);
  // The wallet address comes from the key, before we know the chain id (any id derives the same address).
  const probe = createChainClients({ ...clients0, chainId: 1 });
  const walletAddress = probe.wallet.account.address;
  // Proof that we control the settlement address we declare: the node binds our channel to us only with it.
  const settlementProof = await privateKeyToAccount(options.walletKey).signMessage({
    message: settlementProofMessage({
      settlementAddress: walletAddress,
      requesterPubkey: getPublicKey(options.nostrSecretKey),
      nodePubkey,
    }),
  });
  const handshake = () =>
    spspHandshake({
      pool,
      secretKey: options.nostrSecretKey,
      recipient: nodePubkey,
      request: { settlementAddress: walletAddress, settlementProof },
      ...(options.spspTimeoutMs !== undefined && { timeoutMs: options.spspTimeoutMs }),
    });
  let spsp = await handshake();
  // An SPSP request is ephemeral: one sent while the node's listener is not subscribed is lost (a node that just
  // restarted opens BTP, where our writes learn that it forgot us, before it listens). Asked again, 3 times in all.
  const handshakeAgain = async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await handshake();
      } catch (err) {
        if (attempt >= 3 || !(err instanceof MayorError && err.code === 'SPSP_TIMEOUT')) throw err;
        warn(`${err.message} Asking again (${attempt + 1} of 3).`);
      }
    }
  };

  if (spsp.basePricePerByte > options.maxBasePricePerByte) {
    const msg =
      `The relay charges ${formatM2M(spsp.basePricePerByte)} M2M per byte, above the ceiling of ` +
      `${formatM2M(options.maxBasePricePerByte)} M2M (max-base-price-per-byte).`;
    if (!options.acceptPrice) {
      throw new MayorError(
        'PRICE_TOO_HIGH',
        `${msg} Raise the ceiling or accept the price explicitly to attach anyway.`,
      );
    }
    warn(`WARNING: ${msg} Accepted by the operator.`);
  }

  const s = spsp.settlement;
  if (options.expectedSettlement) checkSettlementTerms(s, options.expectedSettlement);
  const clients = createChainClients({ ...clients0, chainId: s.chainId });
  const actualChain = await clients.public.getChainId();
  if (actualChain !== s.chainId) {
    throw new MayorError(
      'CHAIN_MISMATCH',
      `The node settles on chain ${s.chainId} but ${options.rpcUrl} is chain ${actualChain}: point rpc-url at the right chain.`,
    );
  }
  // The chain's fingerprint lives next to the channel records it vouches for (the state dir).
  const chainCheck: ChainCheckParams = {
    client: clients.public,
    chainId: s.chainId,
    contract: s.channelContract,
    token: s.token,
    ...(options.state && { dir: options.state.dir }),
  };
  const domain = claimDomain(s.chainId, s.channelContract);

  // The channel: local state first (checked against the chain, which is the truth), then the chain's own
  // record of our channels to this node, else a new one.
  let channelSource: Attachment['channelSource'] = 'opened';
  let channelId: Hex | undefined;
  let deposit = 0n;
  let cumulative = 0n;
  const usable = (c: { closing: boolean; settled: boolean }) => !c.closing && !c.settled;
  // The newest record first (an older one is a channel we moved on from).
  const recorded = (options.state?.channels.list() ?? [])
    .filter(
      (c) =>
        c.direction === 'out' &&
        c.chainId === s.chainId &&
        c.contract.toLowerCase() === s.channelContract.toLowerCase() &&
        c.counterparty.toLowerCase() === s.settlementAddress.toLowerCase(),
    )
    .sort((a, b) => b.updatedAt - a.updatedAt);
  let local = recorded[0];
  /** Whether we paid this node before (a channel on record): its list of what we owe may hold older packets. */
  let paidBefore = recorded.length > 0;
  // Another genesis or contract code, or a recorded channel the chain does not know: the chain was reset.
  // Refuse, or forget the old channels and open a new one when asked to.
  const reset = await checkChain(chainCheck, local ? [local.channelId as Hex] : []);
  if (reset) {
    if (!options.resetChannelState) throw reset;
    const gone = local ? `Channel ${local.channelId}` : 'The saved channel state';
    warn(`${gone} went with the old chain: forgetting it (--reset-channel-state).`);
    for (const c of recorded) options.state?.channels.forget(c.channelId, 'chain reset');
    paidBefore = false; // the old chain's node owes and is owed nothing here
    local = undefined;
    await resaveChain(chainCheck);
  }
  if (local) {
    const onChain = await readChannel(clients.public, {
      channels: s.channelContract,
      channelId: local.channelId as Hex,
    });
    if (usable(onChain)) {
      channelSource = 'state';
      channelId = local.channelId as Hex;
      deposit = onChain.deposit;
      cumulative = maxBig(local.cumulativeSigned, onChain.claimed);
    }
  }
  if (!channelId) {
    const listed = await listChannels(clients.public, { channels: s.channelContract, wallet: walletAddress });
    const mine = listed.find(
      (c) =>
        c.role === 'sender' &&
        c.receiver.toLowerCase() === s.settlementAddress.toLowerCase() &&
        c.token.toLowerCase() === s.token.toLowerCase() &&
        usable(c),
    );
    if (mine) {
      channelSource = 'chain';
      channelId = mine.channelId;
      deposit = mine.deposit;
      // Claims signed but not yet redeemed are not on the chain: we can only start from what was claimed.
      cumulative = mine.claimed;
      warn(
        `Channel ${mine.channelId} rebuilt from the chain: claims signed after its last redemption are not known locally; asking the node.`,
      );
    }
  }
  if (!channelId) {
    if (options.deposit > options.maxDeposit) {
      throw new MayorError(
        'DEPOSIT_TOO_HIGH',
        `A deposit of ${formatM2M(options.deposit)} M2M is above max-channel-deposit (${formatM2M(options.maxDeposit)} M2M): lower default-deposit or raise the maximum.`,
      );
    }
    const opened = await openChannel(clients, {
      channels: s.channelContract,
      token: s.token,
      receiver: s.settlementAddress,
      amount: options.deposit,
      challengeWindow: 3600n,
    });
    channelId = opened.channelId;
    deposit = opened.deposit;
  }

  // Our record of the packets we pay for (payer-records.ts): when it can be followed, a restart starts from it (what
  // the node fulfilled and no accepted claim paid, the cumulative it accepted) and checks the node's word against it.
  const records = followPayerRecords({
    ...(options.state && { state: options.state }),
    warn,
    node: `${s.chainId}:${s.channelContract}:${s.settlementAddress}`.toLowerCase(),
    channelId: channelId!,
    channelSource,
    cumulative,
    firstChannel: !paidBefore,
    ...(options.maxResyncOwed !== undefined && { maxResyncOwed: options.maxResyncOwed }),
  });
  const payerLog = records.log;
  cumulative = records.cumulative;
  const unpaid = new UnpaidPackets(payerLog && ((c, a, f) => payerLog.fulfilled(c, a, f)), records.owed);

  /** Top-ups made through `topUp()` (the ClaimSender only knows its own). */
  let toppedUp = deposit;
  // The channel record follows the ClaimSender: after an open or a top-up, and after the node accepted a claim.
  const persist = (st: { channelId: Hex; deposit: bigint; cumulative: bigint }) => {
    options.state?.channels.put({
      channelId: st.channelId,
      direction: 'out',
      chainId: s.chainId,
      contract: s.channelContract,
      counterparty: s.settlementAddress,
      deposit: maxBig(st.deposit, toppedUp),
      cumulativeSigned: st.cumulative,
    });
  };
  const claims = new ClaimSender({
    clients,
    domain,
    token: s.token,
    receiver: s.settlementAddress,
    deposit: options.deposit,
    channelId,
    channelDeposit: deposit,
    cumulative,
    unpaid,
    onState: (st, pays) => {
      payerLog?.accepted(st.cumulative, pays);
      persist(st);
    },
  });
  persist({ channelId, deposit, cumulative });
  const currentDeposit = () => maxBig(claims.channelDeposit, toppedUp);

  const fault = options.fault ?? noFaults;
  // Crash tests stop here: the node accepted the claim, our new cumulative is not recorded yet.
  const sendClaim = async (msg: ClaimMessage) => {
    await btp.sendClaim(msg);
    await fault('claim-accepted', msg.channelId);
  };
  // This process's memory of the channel is complete once it opened it or resynced it: the node's cumulative may
  // then rise only by the packets it stops listing (a claim we lost the answer to). Before, after a restart without
  // the payer's record, the node's word is taken up to max resync owed.
  let inProcess = channelSource === 'opened';
  const resyncOrThrow = () => {
    const opts = records.resyncOptions(inProcess);
    return claims
      .resync((id) => btp.requestStatus(id), sendClaim, opts)
      .then((r) => {
        inProcess = true;
        records.resynced(opts, claims.channel!, claims.cumulative, claims.owed());
        return r;
      })
      .finally(() => records.finished(opts));
  };
  const resync = () =>
    resyncOrThrow().catch((err) => {
      warn(
        `Could not resync channel ${claims.channel} with the node: ${(err as Error).message}. ` +
          'Claims may be refused until it is resolved (check the node, or raise max resync owed if the amount is right).',
      );
      return undefined;
    });

  let connectedOnce = false;
  const btp = await BtpClient.connect({
    url: spsp.btpUrl,
    authToken: spsp.btpToken,
    address: spsp.ilpAddress,
    reconnectDelayMs: options.reconnectDelayMs ?? 1000,
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    onConnect: () => {
      // A claim in flight when the link dropped may have been accepted: ask the node before the next one.
      if (connectedOnce) void resync();
      connectedOnce = true;
      options.onConnector?.('connected');
    },
    onDisconnect: (code, reason) => {
      if (code !== BTP_CLOSE.replaced) return options.onConnector?.('disconnected', reason);
      // The BTP client reconnects only slowly after this (the two would take turns failing each other's payments).
      const why =
        "another process connected to the node with this Mayor's key (is it running twice, e.g. with two homes?): " +
        `reconnecting in ${REPLACED_RETRY_MS / 1000} s, which takes the link back from it; stop one of the two`;
      warn(`The node dropped our connection: ${why}.`);
      options.onConnector?.('disconnected', why);
    },
    ...(options.onPrepare ? { onPrepare: options.onPrepare } : {}),
    ...(options.onClaim ? { onClaim: options.onClaim } : {}),
    ...(options.onStatus ? { onStatus: options.onStatus } : {}),
  });
  options.onConnector?.('connected');
  // A channel we did not just open may have a history we missed: a claim the node accepted after our last
  // record, or packets it fulfilled that we never claimed (a crash). The node says; we check and continue.
  const resynced = channelSource === 'opened' ? undefined : await resync();

  // A chain reset while we run (the devnet restarted): refuse to pay, saying what to do.
  const guard = startChainGuard({
    ...chainCheck,
    channelId: () => claims.channel,
    ...(options.chainCheckMs !== undefined ? { everyMs: options.chainCheckMs } : {}),
    onReset: (err) => warn(err.message),
  });

  const threshold = options.settleThreshold ?? 0n;
  const retries = options.retries ?? 3;
  const retryDelay = options.retryDelayMs ?? 250;
  let settling: Promise<unknown> = Promise.resolve();

  // The ClaimSender records the new cumulative (and any top-up) through onState.
  const settle = (): Promise<bigint> => claims.settle(sendClaim);

  // Background claims follow FULFILLs, at most one per interval; each claims all that is owed by then. A claim goes
  // one interval after the FULFILL that calls for it, never at once: signing it, the node checking it and both sides
  // recording it used to run right behind the FULFILL, on the path of whatever the caller does next (a job's next
  // step; issue 17). The node gives credit up to the channel's unclaimed deposit, so the wait costs no liquidity.
  const claimInterval = options.claimIntervalMs ?? 25;
  let claimTimer: NodeJS.Timeout | undefined;
  let lastClaimAt = 0;
  const claimNow = () => {
    claimTimer = undefined;
    lastClaimAt = Date.now();
    settling = settling.then(() => settle()).catch((err) => warn(`claim failed: ${(err as Error).message}`));
  };
  const scheduleClaim = () => {
    if (claimTimer) return;
    const wait = Math.max(claimInterval, lastClaimAt + claimInterval - Date.now());
    claimTimer = setTimeout(claimNow, wait);
  };
  /** A claim the timer still owes is sent now (before settle(), close or detach). */
  const flushClaim = () => {
    if (!claimTimer) return;
    clearTimeout(claimTimer);
    claimNow();
  };

  const pay: Attachment['pay'] = async (p) => {
    if (guard.error) throw guard.error;
    // The node gives no credit beyond the channel's unclaimed deposit: top up before sending, not after.
    if (p.amount > 0n) await claims.reserve(p.amount);
    let attempts = 0;
    /** The last attempt got no answer: its fate is unknown (the node may have fulfilled it). */
    let unanswered = false;
    for (;;) {
      attempts++;
      const prepare: IlpPrepare = {
        type: IlpPacketType.Prepare,
        amount: p.amount,
        destination: p.destination,
        executionCondition: p.executionCondition,
        data: p.data,
        expiresAt: p.expiresAt ?? new Date(Date.now() + 30_000),
      };
      if (!btp.connected) {
        // Nothing leaves while the session is down (it reconnects on its own, unless another process replaced it): a
        // transient reject, not a packet of unknown fate for a resync to settle. `unanswered` stays as it was.
        const reply: IlpReject = {
          type: IlpPacketType.Reject,
          code: 'T01',
          triggeredBy: spsp.ilpAddress,
          message: `not connected to the node (${spsp.btpUrl}): this attempt was not sent`,
          data: new Uint8Array(),
        };
        if (attempts > (p.retries ?? retries)) return { reply, attempts };
        await sleep(retryDelay * 2 ** (attempts - 1));
        continue;
      }
      if (unanswered && p.duplicateIsFree && p.amount > 0n) {
        // A free copy first: the relay fulfills it only when it has the event (the lost attempt went through, and the
        // node lists it as owed for a resync to pay), else refuses it as underpaid and the paid attempt follows.
        const copy = await btp.sendPrepare({ ...prepare, amount: 0n }).catch(() => undefined);
        if (copy?.type === IlpPacketType.Fulfill) return { reply: copy, attempts };
      }
      let reply: IlpReply;
      const condition = hex(p.executionCondition);
      const answered = records.sending(condition, p.amount, p.label);
      unanswered = false;
      try {
        reply = await btp.sendPrepare(prepare);
        if (reply.type !== IlpPacketType.Fulfill && p.amount > 0n) payerLog?.rejected(condition, p.amount);
      } catch (err) {
        unanswered = true;
        // The session is down or timed out: treat as transient (the BTP client reconnects on its own).
        reply = {
          type: IlpPacketType.Reject,
          code: 'T01',
          triggeredBy: spsp.ilpAddress,
          message: `no answer from the connector: ${(err as Error).message}`,
          data: new Uint8Array(),
        };
      }
      // Answered (or given up on): from here its fate is recorded, or unknown for a resync to settle.
      answered();
      if (reply.type === IlpPacketType.Fulfill) {
        if (p.label !== undefined) payerLog?.paid(p.label, reply.fulfillment);
        if (p.amount > 0n) {
          claims.recordFulfilled(condition, p.amount);
          // Claims follow the FULFILL in the background: the caller does not wait on them.
          if (claims.unpaid.total >= threshold) scheduleClaim();
        }
        return { reply, attempts };
      }
      if (!isTransient(reply) || attempts > (p.retries ?? retries)) return { reply, attempts };
      await sleep(retryDelay * 2 ** (attempts - 1));
    }
  };

  const payRelay = (data: Uint8Array, amount?: bigint) => {
    const secret = new Uint8Array(Buffer.from(spsp.sharedSecret, 'base64'));
    return pay({
      amount: amount ?? BigInt(data.length) * spsp.basePricePerByte,
      destination: spsp.destinationAccount,
      executionCondition: conditionOf(deriveFulfillment(secret, data)),
      data,
      duplicateIsFree: true,
    });
  };
  // One handshake at a time: concurrent writes that all met F02 share it.
  let renewing: Promise<void> | undefined;
  const renewSpsp = () => {
    renewing ??= handshakeAgain()
      .then((fresh) => {
        const t = fresh.settlement;
        if (t.chainId !== s.chainId || t.channelContract.toLowerCase() !== s.channelContract.toLowerCase()) {
          throw new MayorError(
            'CHAIN_MISMATCH',
            `The node now settles on chain ${t.chainId} at ${t.channelContract}, not where our channel is: restart the Mayor to attach again.`,
          );
        }
        spsp = fresh;
      })
      .finally(() => {
        renewing = undefined;
      });
    return renewing;
  };
  return {
    get spsp() {
      return spsp;
    },
    nodePubkey,
    clients,
    walletAddress,
    btp,
    claims,
    ...(payerLog ? { payerLog } : {}),
    channelSource,
    ...(resynced ? { resync: resynced } : {}),
    channel: () => ({
      channelId: claims.channel ?? channelId!,
      deposit: currentDeposit(),
      // Everything paid so far, a claim in flight included (the demo's books read it while one may be in flight).
      cumulative: claims.fulfilled,
      receiver: s.settlementAddress,
      contract: s.channelContract,
      chainId: s.chainId,
    }),
    pay,
    earlierPayment: async (label) => {
      if (!payerLog) return undefined;
      let known = payerLog.fate(label);
      if (known.fate === 'unknown') {
        // The node's list of what we owe settles it: listed = it went through; not listed = it did not.
        await resyncOrThrow();
        known = payerLog.fate(label);
      }
      return known.fate === 'paid' ? known.record : undefined;
    },
    writeToRelay: async (data, amount) => {
      let used = spsp;
      let result = await payRelay(data, amount);
      let attempts = result.attempts;
      // The node restarted and forgot our relay account (F02), or re-issued it under a secret we have not seen yet
      // (F05): redo the SPSP handshake and write again. Many writes in flight at a restart meet this together: only one renews (a write whose account was already replaced by a
      // renewal made meanwhile uses the new one, it does not renew again, which would strand the others).
      for (let round = 0; round < 3 && isStaleRelayAccount(result.reply); round++) {
        if (round === 0)
          warn(
            `The node no longer knows our relay account, or holds it under another secret (${(result.reply as IlpReject).message}): redoing SPSP.`,
          );
        if (spsp === used) await renewSpsp();
        used = spsp;
        // The restart may have cut an earlier attempt of this very write after the node committed it (charged, its
        // FULFILL lost). A 0-amount write first: the relay fulfills a duplicate for free, so it is not paid twice;
        // otherwise it refuses the underpaid write and we pay it (the packet the node kept is paid by the resync).
        const probe = await payRelay(data, 0n);
        attempts += probe.attempts;
        if (probe.reply.type === IlpPacketType.Fulfill) return { reply: probe.reply, attempts };
        if (isStaleRelayAccount(probe.reply)) {
          result = probe;
          continue;
        }
        used = spsp;
        result = await payRelay(data, amount);
        attempts += result.attempts;
      }
      return { reply: result.reply, attempts };
    },
    settle: async () => {
      flushClaim();
      await settling;
      return settle();
    },
    topUp: async (amount) => {
      const r = await topUpChannel(clients, {
        channels: s.channelContract,
        token: s.token,
        channelId: claims.channel!,
        amount,
      });
      toppedUp = r.deposit;
      persist({ channelId: claims.channel!, deposit: currentDeposit(), cumulative: claims.cumulative });
      return r.deposit;
    },
    close: async () => {
      flushClaim();
      await settling;
      await settle();
      return startClose(clients, { channels: s.channelContract, channelId: claims.channel! });
    },
    withdraw: async () => {
      await withdraw(clients, { channels: s.channelContract, channelId: claims.channel! });
    },
    detach: async () => {
      guard.stop();
      flushClaim();
      await settling;
      await btp.close();
      payerLog?.close();
    },
  };
}

/** Math.max for bigints. */
function maxBig(a: bigint, b: bigint): bigint {
  return a >= b ? a : b;
}
