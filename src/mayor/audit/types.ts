/** `in`: this Mayor was paid; `out`: it paid. */
export type PaymentDirection = 'in' | 'out';
/** `fulfilled`: money moved; `rejected`: the receiver said no; `failed`: it never completed (timeout, error). */
export type PaymentStatus = 'fulfilled' | 'rejected' | 'failed';

export const PAYMENT_DIRECTIONS: readonly PaymentDirection[] = ['in', 'out'];
export const PAYMENT_STATUSES: readonly PaymentStatus[] = ['fulfilled', 'rejected', 'failed'];

/** One payment as the audit log holds it. */
export interface PaymentEntry {
  /** Unix milliseconds. */
  time: number;
  direction: PaymentDirection;
  /** The job the payment is for (relay write fees and provider payments alike). */
  jobId?: string;
  /** Base units of the token. */
  amount: bigint;
  /** Bytes paid for (relay writes: bytes × basePricePerByte). */
  bytes?: number;
  status: PaymentStatus;
  /** ILP address or Nostr pubkey of the other party. */
  counterparty: string;
  channelId?: string;
}

/** What `record` takes: `time` defaults to the audit clock. */
export type PaymentInput = Omit<PaymentEntry, 'time'> & { time?: number };

/** A date filter: `from` inclusive, `to` exclusive. Dates, Unix ms, or ISO text ("2026-11-25" is midnight UTC). */
export interface DateRange {
  from?: Date | number | string;
  to?: Date | number | string;
}

export interface Totals {
  count: number;
  /** Sum of amounts, base units. */
  total: bigint;
  /** total / count rounded down, base units (0 when count is 0). */
  average: bigint;
}

export interface PaymentStats extends Totals {
  byDirection: Record<PaymentDirection, Totals>;
  byStatus: Record<PaymentStatus, Totals>;
  /** Fulfilled in minus fulfilled out: what the Mayor earned net (negative when it spent more). */
  netFulfilled: bigint;
}
