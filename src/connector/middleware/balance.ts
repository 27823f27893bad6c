// Balance and credit limit of the sending peer. Its debt = fulfilled and unpaid (`incoming`) + in flight; a
// PREPARE that would take it over the credit limit is refused T04 until a claim pays it down. The amount is
// credited (added to the unpaid packets) only for a FULFILL that passed verification further in.
// With settlement, a child's limit is also capped by its bound channel's unclaimed deposit (`channelCredit`).
// Once a FULFILL comes back the write is committed further in (the relay stored and serves the event): the FULFILL
// is answered even if recording the credit fails (disk full), so the payer is never refused a write it got. The
// amount is then owed in memory only (counted by the credit limit, payable by a claim) and `onRecordError` is told.
import { IlpError, IlpErrorCode } from '../../ilp/errors.js';
import { IlpPacketType } from '../../ilp/types.js';
import type { PeerAccount } from '../accounts.js';
import type { Credit } from '../channel-credit.js';
import type { Middleware } from '../pipeline.js';

export function balance(
  accountOf: (peerId: string) => PeerAccount | undefined,
  /** The channel-backed credit of a peer (undefined: only the configured limit applies). */
  channelCredit?: (account: PeerAccount, need: bigint) => Promise<Credit> | undefined,
  /** Told when the durable record of a fulfilled packet fails (the FULFILL still goes back). */
  onRecordError?: (error: unknown, packet: { peerId: string; condition: string; amount: bigint }) => void,
): Middleware {
  return async (ctx, next) => {
    const account = accountOf(ctx.fromPeer);
    if (!account) throw new IlpError(IlpErrorCode.T00_INTERNAL_ERROR, `peer ${ctx.fromPeer} has no account`);
    const amount = ctx.incoming.amount;
    const need = () => account.incoming.total + account.inFlight + amount;
    const credit = amount > 0n ? await channelCredit?.(account, need()) : undefined;
    // Checked after the await and before the reservation, with no await between: concurrent packets see each other.
    const limit = account.config.creditLimit;
    if (limit !== undefined && need() > limit) {
      throw new IlpError(
        IlpErrorCode.T04_INSUFFICIENT_LIQUIDITY,
        `insufficient liquidity: send a claim (owed ${account.incoming.total}, in flight ${account.inFlight}, packet ${amount}, credit limit ${limit})`,
      );
    }
    if (credit && need() > credit.amount) {
      throw new IlpError(
        IlpErrorCode.T04_INSUFFICIENT_LIQUIDITY,
        `insufficient liquidity: owed ${account.incoming.total}, in flight ${account.inFlight}, packet ${amount}, channel credit ${credit.amount}; ${credit.why}`,
      );
    }
    account.inFlight += amount;
    const condition = Buffer.from(ctx.incoming.executionCondition).toString('hex');
    // Queued at most once: by settle (a forwarded packet: in the same commit as the next hop's record) or below.
    let recording: Promise<void> | undefined;
    const record = (fulfillment: string) => {
      if (!recording) {
        try {
          recording = Promise.resolve(account.incoming.add(condition, amount, fulfillment));
        } catch (error) {
          recording = Promise.reject(error);
        }
      }
      return recording;
    };
    if (amount > 0n) ctx.recordIncoming = record;
    try {
      const reply = await next();
      if (reply.type === IlpPacketType.Fulfill && amount > 0n) {
        // Recorded (durably, with a store) before the FULFILL is written back, so the sender's claim always finds
        // the packet; the amount stays in inFlight until then, so the credit limit still counts it.
        const fulfillment = Buffer.from(reply.fulfillment).toString('hex');
        try {
          await record(fulfillment);
        } catch (error) {
          account.incoming.putBack(condition, amount, fulfillment);
          onRecordError?.(error, { peerId: ctx.fromPeer, condition, amount });
        }
      }
      return reply;
    } finally {
      account.inFlight -= amount;
    }
  };
}
