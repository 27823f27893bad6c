// The receiving side of STREAM (RFC 0029), just enough for a sender to pay an account: it answers test packets
// (unfulfillable, F99 carrying what arrived, so the sender learns the rate), fulfills money packets whose condition
// is the STREAM fulfillment of their data, credits what arrived to the account, and answers with StreamMaxMoney
// and, when the sender asked for receipts, RFC 0039 receipts. It never sends packets of its own and ignores data.
import { createHash, timingSafeEqual } from 'node:crypto';
import { IlpCodecError } from '../codec-error.js';
import { IlpErrorCode } from '../errors.js';
import { fulfillmentFromKey } from '../fulfillment.js';
import { type IlpFulfill, IlpPacketType, type IlpPrepare, type IlpReject } from '../types.js';
import { type StreamKeys, streamKeysOf } from './crypto.js';
import { FrameType, StreamErrorCode, type StreamFrame } from './frames.js';
import { decryptStreamPacket, encryptStreamPacket, type StreamPacket } from './packet.js';
import { createReceipt, type ReceiptSetup } from './receipt.js';

const MAX_UINT64 = (1n << 64n) - 1n;
/** Streams one account may open; a sender topping up needs one. */
const MAX_STREAMS = 32;

export interface StreamAccount {
  account: string;
  sharedSecret: Uint8Array;
  /** Set when the sender asked for receipts in its SPSP query. */
  receipt?: ReceiptSetup;
}

export interface StreamReceiverOptions {
  /** The account a PREPARE's destination pays, if any. */
  accountOf: (destination: string) => StreamAccount | undefined;
  /**
   * Credits money received to the account; resolves once it counts (the FULFILL is sent after). Throw to refuse.
   * `received`: the account's total per stream id once this packet counts, what its receipts prove: keep it with
   * the credit so that receipts continue from it after a restart (`receivedOf`).
   */
  credit: (
    account: StreamAccount,
    amount: bigint,
    received: ReadonlyMap<bigint, bigint>,
  ) => void | Promise<void>;
  /**
   * The account's totals per stream id kept before a restart (undefined: none). A verifier credits only what a
   * receipt adds to the highest total it saw, so a receiver that started again at 0 would prove too little.
   */
  receivedOf?: (account: StreamAccount) => ReadonlyMap<bigint, bigint> | undefined;
  assetCode: string;
  assetScale: number;
  /** The receiver's ILP address: triggeredBy of its rejects. */
  address: string;
}

/**
 * Answers a PREPARE that carries a STREAM packet for one of the accounts, or returns undefined when its data is not
 * STREAM for the destination's account (the caller hands it on, e.g. to the write gate). Never throws.
 */
export type StreamReceiver = (prepare: IlpPrepare) => Promise<IlpFulfill | IlpReject | undefined>;

interface ConnectionState {
  keys: StreamKeys;
  /** Total received per stream id, across every connection to the account (receipts stay monotonic). */
  streams: Map<bigint, bigint>;
}

export function createStreamReceiver(options: StreamReceiverOptions): StreamReceiver {
  // Keyed by the secret itself: when the account is deleted its state goes with it.
  const states = new WeakMap<Uint8Array, ConnectionState>();
  const stateOf = (a: StreamAccount): ConnectionState => {
    let s = states.get(a.sharedSecret);
    if (!s) {
      s = { keys: streamKeysOf(a.sharedSecret), streams: new Map(options.receivedOf?.(a)) };
      states.set(a.sharedSecret, s);
    }
    return s;
  };

  return async (prepare) => {
    const account = options.accountOf(prepare.destination);
    if (!account) return undefined;
    const state = stateOf(account);
    let packet: StreamPacket | undefined;
    try {
      packet = decryptStreamPacket(state.keys.encryptionKey, prepare.data);
    } catch (err) {
      // Encrypted under this account's key, so from its sender, but not a STREAM packet we can read.
      const why = err instanceof IlpCodecError ? err.message : String(err);
      return plainReject(IlpErrorCode.F01_INVALID_PACKET, `malformed STREAM packet: ${why}`, options.address);
    }
    if (!packet) return undefined;
    return answer(prepare, packet, account, state, options);
  };
}

async function answer(
  prepare: IlpPrepare,
  packet: StreamPacket,
  account: StreamAccount,
  state: ConnectionState,
  options: StreamReceiverOptions,
): Promise<IlpFulfill | IlpReject> {
  const assetDetails: StreamFrame = {
    type: FrameType.ConnectionAssetDetails,
    assetCode: options.assetCode,
    assetScale: options.assetScale,
  };
  const reject = (message: string, frames: StreamFrame[] = []): IlpReject => ({
    type: IlpPacketType.Reject,
    code: IlpErrorCode.F99_APPLICATION_ERROR,
    triggeredBy: options.address,
    message,
    data: encryptStreamPacket(state.keys.encryptionKey, {
      sequence: packet.sequence,
      ilpPacketType: IlpPacketType.Reject,
      prepareAmount: prepare.amount,
      frames: [assetDetails, ...frames],
    }),
  });

  if (packet.ilpPacketType !== IlpPacketType.Prepare)
    return reject('a STREAM packet in a PREPARE must say it is a PREPARE');
  const fulfillment = fulfillmentFromKey(state.keys.fulfillmentKey, prepare.data);
  const condition = createHash('sha256').update(fulfillment).digest();
  // Test packets (random condition) land here: the reject tells the sender how much arrived.
  if (!timingSafeEqual(condition, prepare.executionCondition)) return reject('');
  if (prepare.amount < packet.prepareAmount) {
    return reject(
      `received ${prepare.amount}, less than the minimum ${packet.prepareAmount} the packet asks for`,
    );
  }

  const money = packet.frames.filter((f) => f.type === FrameType.StreamMoney);
  const closes = packet.frames.filter((f) => f.type === FrameType.StreamClose);
  const shares = money.reduce((sum, f) => sum + f.shares, 0n);
  if (prepare.amount > 0n && shares === 0n)
    return reject('money without a StreamMoney frame to credit it to');
  for (const f of money) {
    if (!state.streams.has(f.streamId) && state.streams.size >= MAX_STREAMS) {
      return reject(`at most ${MAX_STREAMS} streams per account`);
    }
  }

  // Split what arrived between the streams by their shares; the last one gets the rounding remainder. Counted
  // before the credit's await, so packets of the account answered at once add up; taken back if the credit fails.
  let left = prepare.amount;
  const parts = money.map((f, i) => {
    const part = i === money.length - 1 ? left : (prepare.amount * f.shares) / shares;
    left -= part;
    return part;
  });
  const fresh = money.filter((f) => !state.streams.has(f.streamId)).map((f) => f.streamId);
  const totals = money.map((f, i) => {
    const total = (state.streams.get(f.streamId) ?? 0n) + parts[i]!;
    state.streams.set(f.streamId, total);
    return total;
  });

  if (prepare.amount > 0n) {
    try {
      await options.credit(account, prepare.amount, new Map(state.streams));
    } catch (err) {
      money.forEach((f, i) => {
        state.streams.set(f.streamId, state.streams.get(f.streamId)! - parts[i]!);
      });
      for (const id of fresh) if (state.streams.get(id) === 0n) state.streams.delete(id);
      return plainReject(
        IlpErrorCode.T00_INTERNAL_ERROR,
        `could not credit the account: ${(err as Error).message}; nothing was taken, retry`,
        options.address,
      );
    }
  }

  const frames: StreamFrame[] = [assetDetails];
  money.forEach((f, i) => {
    const total = totals[i]!;
    frames.push({
      type: FrameType.StreamMaxMoney,
      streamId: f.streamId,
      receiveMax: MAX_UINT64,
      totalReceived: total,
    });
    if (account.receipt && total <= MAX_UINT64) {
      const receipt = createReceipt(account.receipt, f.streamId, total);
      if (receipt) frames.push({ type: FrameType.StreamReceipt, streamId: f.streamId, receipt });
    }
  });
  // The sender closes its stream once paid; closing ours in answer lets its `end()` finish. A close is not
  // remembered: an account has no connection tag, so a later connection to it (a second top-up) reuses the same
  // stream ids and its money must be credited, not refused as sent on a closed stream (docs/decisions.md, issue 18).
  for (const f of closes) {
    frames.push({
      type: FrameType.StreamClose,
      streamId: f.streamId,
      code: StreamErrorCode.NoError,
      message: '',
    });
  }

  return {
    type: IlpPacketType.Fulfill,
    fulfillment,
    data: encryptStreamPacket(state.keys.encryptionKey, {
      sequence: packet.sequence,
      ilpPacketType: IlpPacketType.Fulfill,
      prepareAmount: prepare.amount,
      frames,
    }),
  };
}

function plainReject(code: IlpErrorCode, message: string, triggeredBy: string): IlpReject {
  return { type: IlpPacketType.Reject, code, triggeredBy, message, data: new Uint8Array(0) };
}
