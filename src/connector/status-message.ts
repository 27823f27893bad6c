// The `payment-channel-status` BTP protocol data: a payer that lost its memory asks the payee "what cumulative
// have you accepted on channel X, and which fulfilled packets do I still owe?". Request and answer are JSON.
import type { Hex } from 'viem';
import type { BtpProtocolData } from '../ilp/btp.js';
import { CONDITION_HEX, DECIMAL_AMOUNT, jsonProtocolData, packetsJson, parseJsonObject } from './btp-json.js';
import { ConnectorError } from './errors.js';
import type { UnpaidPacket } from './store.js';

export const STATUS_PROTOCOL = 'payment-channel-status';

export interface ChannelStatusRequest {
  channelId: Hex;
}

export interface ChannelStatus {
  channelId: Hex;
  /** Last accepted cumulative amount (the on-chain `claimed` when no claim was accepted). */
  cumulativeAmount: bigint;
  /** The payer's own signature over (channelId, cumulativeAmount), or null when that amount is just the on-chain `claimed`. */
  signature: Hex | null;
  /**
   * Fulfilled packets of this peer not yet covered by an accepted claim, oldest first, each with its fulfillment when
   * the payee kept it (the proof a payer that never learned a packet's fate asks for).
   */
  owed: UnpaidPacket[];
}

const HEX32 = /^0x[0-9a-fA-F]{64}$/;
const SIG = /^0x[0-9a-fA-F]{130}$/;

function malformed(why: string): never {
  throw new ConnectorError('STATUS_MALFORMED', `payment-channel-status is malformed: ${why}`);
}

const data = (json: unknown): BtpProtocolData => jsonProtocolData(STATUS_PROTOCOL, json);

function parseObject(bytes: Uint8Array, keys: string[]): Record<string, unknown> {
  const o = parseJsonObject(bytes, keys, malformed);
  if (typeof o.channelId !== 'string' || !HEX32.test(o.channelId))
    malformed('channelId must be 0x + 32 bytes hex');
  return o;
}

export function encodeStatusRequest(r: ChannelStatusRequest): BtpProtocolData {
  return data({ channelId: r.channelId });
}

export function decodeStatusRequest(bytes: Uint8Array): ChannelStatusRequest {
  const o = parseObject(bytes, ['channelId']);
  return { channelId: o.channelId as Hex };
}

export function encodeStatus(s: ChannelStatus): BtpProtocolData {
  return data({
    channelId: s.channelId,
    cumulativeAmount: s.cumulativeAmount.toString(10),
    signature: s.signature,
    owed: packetsJson(s.owed),
  });
}

export function decodeStatus(bytes: Uint8Array): ChannelStatus {
  const o = parseObject(bytes, ['channelId', 'cumulativeAmount', 'signature', 'owed']);
  if (typeof o.cumulativeAmount !== 'string' || !DECIMAL_AMOUNT.test(o.cumulativeAmount))
    malformed('cumulativeAmount must be a decimal string of base units');
  if (o.signature !== null && (typeof o.signature !== 'string' || !SIG.test(o.signature)))
    malformed('signature must be null or 0x + 65 bytes hex');
  if (!Array.isArray(o.owed)) malformed('owed must be a list');
  const owed = o.owed.map((p: unknown) => {
    const q = p as Record<string, unknown> | null;
    if (
      typeof q !== 'object' ||
      q === null ||
      typeof q.condition !== 'string' ||
      !CONDITION_HEX.test(q.condition)
    )
      malformed('each owed entry needs a condition of 64 lowercase hex characters');
    if (typeof q.amount !== 'string' || !DECIMAL_AMOUNT.test(q.amount))
      malformed('each owed entry needs an amount as a decimal string');
    if (
      q.fulfillment !== undefined &&
      (typeof q.fulfillment !== 'string' || !CONDITION_HEX.test(q.fulfillment))
    )
      malformed("an owed entry's fulfillment, when given, must be 64 lowercase hex characters");
    return {
      condition: q.condition,
      amount: BigInt(q.amount),
      ...(q.fulfillment !== undefined && { fulfillment: q.fulfillment as string }),
    };
  });
  return {
    channelId: o.channelId as Hex,
    cumulativeAmount: BigInt(o.cumulativeAmount),
    signature: o.signature as Hex | null,
    owed,
  };
}
