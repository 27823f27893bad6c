// What the connector's own JSON protocol data over BTP share (payment-channel-status, payment-owed-status): the
// encoding of a message and the checks of its fields.
import { BtpContentType, type BtpProtocolData } from '../ilp/btp.js';

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
