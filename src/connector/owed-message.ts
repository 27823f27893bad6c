// The `payment-owed-status` BTP protocol data: a payee (a provider Mayor) that lost track of whether its FULFILLs
// reached the payer asks "which of these packets, fulfilled by me, do you hold as owed to me?". The payer answers
// only about packets owed to the asking peer: the ones still unpaid and the ones a claim in flight pays. Request and
// answer are JSON; both are bounded (at most MAX_OWED_CONDITIONS entries).
import type { BtpProtocolData } from '../ilp/btp.js';
import { CONDITION_HEX, DECIMAL_AMOUNT, jsonProtocolData, packetsJson, parseJsonObject } from './btp-json.js';
import { ConnectorError } from './errors.js';
import type { UnpaidPacket } from './store.js';

export const OWED_PROTOCOL = 'payment-owed-status';
/** Conditions per request (and packets per answer): a provider asks about one job's payments at a time. */
export const MAX_OWED_CONDITIONS = 64;

export interface OwedStatusRequest {
  /** Execution conditions (64 lowercase hex), one entry per packet asked about; repeats ask about several packets. */
  conditions: string[];
}

export interface OwedStatus {
  /** Packets among those asked the payer holds as fulfilled by the asking peer and not paid yet. */
  owed: UnpaidPacket[];
}

function malformed(why: string): never {
  throw new ConnectorError('OWED_MALFORMED', `payment-owed-status is malformed: ${why}`);
}

const data = (json: unknown): BtpProtocolData => jsonProtocolData(OWED_PROTOCOL, json);

function parseList(bytes: Uint8Array, key: string): unknown[] {
  const list = parseJsonObject(bytes, [key], malformed)[key];
  if (!Array.isArray(list)) malformed(`${key} must be a list`);
  if (list.length > MAX_OWED_CONDITIONS)
    malformed(`${key} lists ${list.length} entries, at most ${MAX_OWED_CONDITIONS}`);
  return list;
}

const condition = (c: unknown): string => {
  if (typeof c !== 'string' || !CONDITION_HEX.test(c))
    malformed('each condition must be 64 lowercase hex characters');
  return c;
};

export function encodeOwedRequest(r: OwedStatusRequest): BtpProtocolData {
  if (r.conditions.length === 0 || r.conditions.length > MAX_OWED_CONDITIONS)
    throw new ConnectorError(
      'OWED_MALFORMED',
      `ask about 1 to ${MAX_OWED_CONDITIONS} conditions at a time (got ${r.conditions.length})`,
    );
  r.conditions.forEach(condition);
  return data({ conditions: r.conditions });
}

export function decodeOwedRequest(bytes: Uint8Array): OwedStatusRequest {
  const list = parseList(bytes, 'conditions');
  if (list.length === 0) malformed('conditions is empty: ask about at least one packet');
  return { conditions: list.map(condition) };
}

export function encodeOwed(s: OwedStatus): BtpProtocolData {
  return data({ owed: packetsJson(s.owed) });
}

export function decodeOwed(bytes: Uint8Array): OwedStatus {
  const owed = parseList(bytes, 'owed').map((p: unknown) => {
    const q = p as Record<string, unknown> | null;
    if (typeof q !== 'object' || q === null || Array.isArray(q))
      malformed('each owed entry must be an object');
    for (const k of Object.keys(q))
      if (k !== 'condition' && k !== 'amount') malformed(`unknown field '${k}'`);
    if (typeof q.amount !== 'string' || !DECIMAL_AMOUNT.test(q.amount))
      malformed('each owed entry needs an amount as a decimal string');
    return { condition: condition(q.condition), amount: BigInt(q.amount) };
  });
  return { owed };
}

/**
 * The answer to `asked`: per condition, at most as many of the peer's owed packets (`held`: still unpaid, then those
 * a claim in flight pays) as the request lists. Nothing about any other peer is ever looked at.
 */
export function owedAmong(asked: readonly string[], held: readonly UnpaidPacket[]): OwedStatus {
  const want = new Map<string, number>();
  for (const c of asked) want.set(c, (want.get(c) ?? 0) + 1);
  const owed: UnpaidPacket[] = [];
  for (const p of held) {
    const n = want.get(p.condition) ?? 0;
    if (n === 0) continue;
    want.set(p.condition, n - 1);
    owed.push({ condition: p.condition, amount: p.amount });
  }
  return { owed };
}
