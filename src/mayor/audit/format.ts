// Line format of payment_log.jsonl and the CSV/JSON exports. Amounts are strings of base units
// everywhere on disk and in exports; the CSV also shows them in M2M for people.
import { formatM2M } from '../../chain/units.js';
import { AuditError } from './errors.js';
import {
  PAYMENT_DIRECTIONS,
  PAYMENT_STATUSES,
  type PaymentDirection,
  type PaymentEntry,
  type PaymentStatus,
} from './types.js';

/** The JSON object of one line (and of one element of the JSON export). */
export interface PaymentJson {
  time: string;
  direction: PaymentDirection;
  jobId?: string;
  amount: string;
  bytes?: number;
  status: PaymentStatus;
  counterparty: string;
  channelId?: string;
}

export function toJson(p: PaymentEntry): PaymentJson {
  const out: PaymentJson = {
    time: new Date(p.time).toISOString(),
    direction: p.direction,
    amount: p.amount.toString(),
    status: p.status,
    counterparty: p.counterparty,
  };
  if (p.jobId !== undefined) out.jobId = p.jobId;
  if (p.bytes !== undefined) out.bytes = p.bytes;
  if (p.channelId !== undefined) out.channelId = p.channelId;
  return out;
}

/** Checks a payment, throwing INVALID_PAYMENT with what is wrong. */
export function validatePayment(p: PaymentEntry): PaymentEntry {
  const bad = (msg: string): never => {
    throw new AuditError('INVALID_PAYMENT', `Payment ${JSON.stringify(toJsonLoose(p))}: ${msg}`);
  };
  if (!Number.isSafeInteger(p.time) || p.time < 0) bad('time must be Unix milliseconds');
  if (!PAYMENT_DIRECTIONS.includes(p.direction)) bad('direction must be "in" or "out"');
  if (!PAYMENT_STATUSES.includes(p.status)) bad(`status must be one of ${PAYMENT_STATUSES.join(', ')}`);
  if (typeof p.amount !== 'bigint' || p.amount < 0n)
    bad('amount must be a non-negative bigint of base units');
  if (typeof p.counterparty !== 'string' || p.counterparty === '')
    bad('counterparty must name the other party');
  if (p.bytes !== undefined && (!Number.isSafeInteger(p.bytes) || p.bytes < 0))
    bad('bytes must be an integer ≥ 0');
  if (p.jobId !== undefined && (typeof p.jobId !== 'string' || p.jobId === ''))
    bad('jobId must be a non-empty string');
  if (p.channelId !== undefined && (typeof p.channelId !== 'string' || p.channelId === '')) {
    bad('channelId must be a non-empty string');
  }
  return p;
}

function toJsonLoose(p: PaymentEntry): unknown {
  return { ...p, amount: typeof p.amount === 'bigint' ? p.amount.toString() : p.amount };
}

export function parseLine(where: string, line: string): PaymentEntry {
  let o: Partial<PaymentJson>;
  try {
    o = JSON.parse(line) as Partial<PaymentJson>;
  } catch (err) {
    throw new AuditError('LOG_CORRUPT', `${where} is not JSON: ${line.slice(0, 80)}`, { cause: err });
  }
  const time = typeof o.time === 'string' ? Date.parse(o.time) : Number.NaN;
  if (Number.isNaN(time) || typeof o.amount !== 'string' || !/^\d+$/.test(o.amount)) {
    throw new AuditError('LOG_CORRUPT', `${where} lacks a valid time or amount: ${line.slice(0, 80)}`);
  }
  const entry: PaymentEntry = {
    time,
    direction: o.direction as PaymentDirection,
    amount: BigInt(o.amount),
    status: o.status as PaymentStatus,
    counterparty: o.counterparty as string,
  };
  if (o.jobId !== undefined) entry.jobId = o.jobId;
  if (o.bytes !== undefined) entry.bytes = o.bytes;
  if (o.channelId !== undefined) entry.channelId = o.channelId;
  try {
    return validatePayment(entry);
  } catch (err) {
    throw new AuditError('LOG_CORRUPT', `${where}: ${(err as Error).message}`, { cause: err });
  }
}

export const CSV_HEADER = [
  'time',
  'direction',
  'job_id',
  'amount',
  'amount_m2m',
  'bytes',
  'status',
  'counterparty',
  'channel_id',
];

/** RFC 4180 quoting; a leading = + - @ is prefixed with ' so spreadsheets do not run it as a formula. */
function csvField(value: string): string {
  const v = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

export function toCsv(entries: PaymentEntry[]): string {
  const rows = [CSV_HEADER.join(',')];
  for (const p of entries) {
    rows.push(
      [
        new Date(p.time).toISOString(),
        p.direction,
        p.jobId ?? '',
        p.amount.toString(),
        formatM2M(p.amount),
        p.bytes === undefined ? '' : String(p.bytes),
        p.status,
        p.counterparty,
        p.channelId ?? '',
      ]
        .map(csvField)
        .join(','),
    );
  }
  return `${rows.join('\r\n')}\r\n`;
}
