// ILPv4 timestamps (RFC 0027/0030): exactly 17 ASCII digits, YYYYMMDDHHmmssSSS, always UTC.
// BTP's GeneralizedTime (RFC 0023) is the same instant written YYYYMMDDHHmmss.SSSZ.
// Both are validated field by field: the npm codecs accept month 13, hour 24 and second 60, we do not.
import { IlpCodecError } from './codec-error.js';

const DIGITS_17 = /^[0-9]{17}$/;
const GENERALIZED = /^([0-9]{14})\.([0-9]{3})Z$/;

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return isLeapYear(y) ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

function checkDate(date: Date): void {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new IlpCodecError('BAD_TIMESTAMP', 'expiresAt is not a valid Date');
  }
  const y = date.getUTCFullYear();
  if (y < 0 || y > 9999) {
    throw new IlpCodecError(
      'BAD_TIMESTAMP',
      `year ${y} does not fit the 4-digit timestamp format (0000-9999)`,
    );
  }
}

/** The 14 digits YYYYMMDDHHmmss of `date` in UTC. */
function dateDigits(date: Date): string {
  return (
    pad(date.getUTCFullYear(), 4) +
    pad(date.getUTCMonth() + 1, 2) +
    pad(date.getUTCDate(), 2) +
    pad(date.getUTCHours(), 2) +
    pad(date.getUTCMinutes(), 2) +
    pad(date.getUTCSeconds(), 2)
  );
}

/** The number written by the (already validated) ASCII digits s[from..to). */
function digits(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 10 + (s.charCodeAt(i) - 48);
  return v;
}

/** Parses and validates 14 date digits plus 3 millisecond digits. */
function parseDigits(s: string, ms: string, original: string): Date {
  const year = digits(s, 0, 4);
  const month = digits(s, 4, 6);
  const day = digits(s, 6, 8);
  const hour = digits(s, 8, 10);
  const minute = digits(s, 10, 12);
  const second = digits(s, 12, 14);
  const bad = (why: string): never => {
    throw new IlpCodecError('BAD_TIMESTAMP', `timestamp "${original}": ${why}`);
  };
  if (month < 1 || month > 12) bad(`month ${month} is not 1-12`);
  if (day < 1 || day > daysInMonth(year, month)) bad(`day ${day} does not exist in ${year}-${pad(month, 2)}`);
  if (hour > 23) bad(`hour ${hour} is not 0-23`);
  if (minute > 59) bad(`minute ${minute} is not 0-59`);
  if (second > 59) bad(`second ${second} is not 0-59 (leap seconds are smeared, never written)`);
  const millis = digits(ms, 0, 3);
  if (year >= 100) return new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis));
  // Date.UTC maps years 0-99 to 1900-1999, so set the full year separately.
  const d = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, millis));
  d.setUTCFullYear(year);
  return d;
}

/** `date` as the 17-character ILPv4 timestamp, e.g. 20171224161432279. Sub-millisecond precision is dropped. */
export function encodeTimestamp(date: Date): string {
  checkDate(date);
  return dateDigits(date) + pad(date.getUTCMilliseconds(), 3);
}

/** Parses a 17-digit ILPv4 timestamp; throws IlpCodecError('BAD_TIMESTAMP') on any deviation. */
export function decodeTimestamp(s: string): Date {
  if (typeof s !== 'string' || !DIGITS_17.test(s)) {
    throw new IlpCodecError(
      'BAD_TIMESTAMP',
      `timestamp "${String(s)}" must be exactly 17 digits YYYYMMDDHHmmssSSS`,
    );
  }
  return parseDigits(s.slice(0, 14), s.slice(14), s);
}

/** `date` as BTP GeneralizedTime, e.g. 20170828183200.000Z. */
export function encodeGeneralizedTime(date: Date): string {
  checkDate(date);
  return `${dateDigits(date)}.${pad(date.getUTCMilliseconds(), 3)}Z`;
}

/** Parses BTP GeneralizedTime in the form YYYYMMDDHHmmss.SSSZ (the only form BTP peers emit). */
export function decodeGeneralizedTime(s: string): Date {
  const m = typeof s === 'string' ? GENERALIZED.exec(s) : null;
  if (!m) {
    throw new IlpCodecError(
      'BAD_TIMESTAMP',
      `GeneralizedTime "${String(s)}" must look like YYYYMMDDHHmmss.SSSZ`,
    );
  }
  return parseDigits(m[1] as string, m[2] as string, s);
}
