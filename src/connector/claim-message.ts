// The `payment-channel-claim` BTP protocol data: a cumulative EIP-712 claim bound to the packets it pays for.
import type { Hex } from 'viem';
import { BtpContentType, type BtpProtocolData } from '../ilp/btp.js';
import { parseJsonObject } from './btp-json.js';
import { ConnectorError } from './errors.js';

export const CLAIM_PROTOCOL = 'payment-channel-claim';

export interface ClaimMessage {
  channelId: Hex;
  cumulativeAmount: bigint;
  signature: Hex;
  /** Hex executionCondition of each fulfilled packet this claim pays for (a condition may repeat). */
  pays: string[];
}

const HEX32 = /^0x[0-9a-fA-F]{64}$/;
const SIG = /^0x[0-9a-fA-F]{130}$/;
const COND = /^[0-9a-f]{64}$/;
const MAX_PAYS = 100_000;

export function encodeClaimMessage(m: ClaimMessage): BtpProtocolData {
  const json = JSON.stringify({
    channelId: m.channelId,
    cumulativeAmount: m.cumulativeAmount.toString(10),
    signature: m.signature,
    pays: m.pays,
  });
  return {
    protocolName: CLAIM_PROTOCOL,
    contentType: BtpContentType.ApplicationJson,
    data: new TextEncoder().encode(json),
  };
}

function malformed(why: string): never {
  throw new ConnectorError('CLAIM_MALFORMED', `payment-channel-claim is malformed: ${why}`);
}

/** Parses and strictly checks the JSON; throws ConnectorError CLAIM_MALFORMED saying what is wrong. */
export function decodeClaimMessage(data: Uint8Array): ClaimMessage {
  const o = parseJsonObject(data, ['channelId', 'cumulativeAmount', 'signature', 'pays'], malformed);
  if (typeof o.channelId !== 'string' || !HEX32.test(o.channelId))
    malformed('channelId must be 0x + 32 bytes hex');
  if (typeof o.cumulativeAmount !== 'string' || !/^(0|[1-9][0-9]{0,77})$/.test(o.cumulativeAmount))
    malformed('cumulativeAmount must be a decimal string of base units');
  if (typeof o.signature !== 'string' || !SIG.test(o.signature))
    malformed('signature must be 0x + 65 bytes hex');
  if (!Array.isArray(o.pays) || o.pays.length === 0 || o.pays.length > MAX_PAYS)
    malformed(`pays must list 1..${MAX_PAYS} conditions`);
  for (const p of o.pays) {
    if (typeof p !== 'string' || !COND.test(p))
      malformed('each pays entry must be 64 lowercase hex characters');
  }
  return {
    channelId: o.channelId as Hex,
    cumulativeAmount: BigInt(o.cumulativeAmount),
    signature: o.signature as Hex,
    pays: o.pays as string[],
  };
}
