import {
  PAYMENT_DIRECTIONS,
  PAYMENT_STATUSES,
  type PaymentEntry,
  type PaymentStats,
  type Totals,
} from './types.js';

function totals(entries: PaymentEntry[]): Totals {
  let total = 0n;
  for (const p of entries) total += p.amount;
  return {
    count: entries.length,
    total,
    average: entries.length === 0 ? 0n : total / BigInt(entries.length),
  };
}

/** Count, total and average (integer base units) overall, by direction and by status. */
export function paymentStats(entries: PaymentEntry[]): PaymentStats {
  const fulfilled = (d: 'in' | 'out') =>
    totals(entries.filter((p) => p.direction === d && p.status === 'fulfilled'));
  return {
    ...totals(entries),
    byDirection: Object.fromEntries(
      PAYMENT_DIRECTIONS.map((d) => [d, totals(entries.filter((p) => p.direction === d))]),
    ) as PaymentStats['byDirection'],
    byStatus: Object.fromEntries(
      PAYMENT_STATUSES.map((s) => [s, totals(entries.filter((p) => p.status === s))]),
    ) as PaymentStats['byStatus'],
    netFulfilled: fulfilled('in').total - fulfilled('out').total,
  };
}
