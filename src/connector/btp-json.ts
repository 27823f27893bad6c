// What the connector's own JSON protocol data over BTP share (payment-channel-status, payment-owed-status): the
// encoding of a message and the checks of its fields.
import { BtpContentType, type BtpProtocolData } from '../ilp/btp.js';
import type { UnpaidPacket } from './store.js';

/** An execution condition: 64 lowercase hex characters. */
export const CONDITION_HEX = /^[0-9a-f]{64}$/;
/** An amount in base units: a decimal string without leading zeros (up to 2^256). */
export const DECIMAL_AMOUNT = /^(0|[1-9][0-9]{0,77})$/;

/** `json` as the application/json protocol data named `protocolName`. */
export function jsonProtocolData(protocolName: string, json: unknown): BtpProtocolData {
  return {
    protocolName,
    contentType: BtpContentType.ApplicationJson,
    data: new TextEncoder().encode(JSON.stringify(json)),
  };
}

/**
 * The JSON object in `bytes` (UTF-8, strict), holding no member but `keys`; anything else goes to `malformed`
 * (which throws the protocol's own error).
 */
export function parseJsonObject(
  bytes: Uint8Array,
  keys: readonly string[],
  malformed: (why: string) => never,
): Record<string, unknown> {
  let x: unknown;
  try {
    x = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    malformed('not UTF-8 JSON');
  }
  if (typeof x !== 'object' || x === null || Array.isArray(x)) malformed('not a JSON object');
  const o = x as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!keys.includes(k)) malformed(`unknown field '${k}'`);
  return o;
}

/** Packets as JSON: amounts as decimal strings. */
export function packetsJson(
  packets: readonly UnpaidPacket[],
): { condition: string; amount: string; fulfillment?: string }[] {
  return packets.map((p) => ({
    condition: p.condition,
    amount: p.amount.toString(10),
    ...(p.fulfillment !== undefined && { fulfillment: p.fulfillment }),
  }));
}
