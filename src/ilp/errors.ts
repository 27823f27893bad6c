// ILPv4 reject codes (RFC 0027 §Error Codes) and the error a packet pipeline throws to reject.
// F = final (do not retry as is), T = temporary (retry later), R = relative (retry with other parameters).
import { IlpCodecError } from './codec-error.js';
import { IlpPacketType, type IlpReject } from './types.js';

export const IlpErrorCode = {
  F00_BAD_REQUEST: 'F00',
  F01_INVALID_PACKET: 'F01',
  F02_UNREACHABLE: 'F02',
  F03_INVALID_AMOUNT: 'F03',
  F04_INSUFFICIENT_DESTINATION_AMOUNT: 'F04',
  F05_WRONG_CONDITION: 'F05',
  F06_UNEXPECTED_PAYMENT: 'F06',
  F07_CANNOT_RECEIVE: 'F07',
  F08_AMOUNT_TOO_LARGE: 'F08',
  F99_APPLICATION_ERROR: 'F99',
  T00_INTERNAL_ERROR: 'T00',
  T01_PEER_UNREACHABLE: 'T01',
  T02_PEER_BUSY: 'T02',
  T03_CONNECTOR_BUSY: 'T03',
  T04_INSUFFICIENT_LIQUIDITY: 'T04',
  T05_RATE_LIMITED: 'T05',
  T99_APPLICATION_ERROR: 'T99',
  R00_TRANSFER_TIMED_OUT: 'R00',
  R01_INSUFFICIENT_SOURCE_AMOUNT: 'R01',
  R02_INSUFFICIENT_TIMEOUT: 'R02',
  R99_APPLICATION_ERROR: 'R99',
} as const;
export type IlpErrorCode = (typeof IlpErrorCode)[keyof typeof IlpErrorCode];

/** The RFC name of each standard code, e.g. 'F04' -> 'Insufficient Destination Amount'. */
export const ILP_ERROR_NAMES: Readonly<Record<IlpErrorCode, string>> = {
  F00: 'Bad Request',
  F01: 'Invalid Packet',
  F02: 'Unreachable',
  F03: 'Invalid Amount',
  F04: 'Insufficient Destination Amount',
  F05: 'Wrong Condition',
  F06: 'Unexpected Payment',
  F07: 'Cannot Receive',
  F08: 'Amount Too Large',
  F99: 'Application Error',
  T00: 'Internal Error',
  T01: 'Peer Unreachable',
  T02: 'Peer Busy',
  T03: 'Connector Busy',
  T04: 'Insufficient Liquidity',
  T05: 'Rate Limited',
  T99: 'Application Error',
  R00: 'Transfer Timed Out',
  R01: 'Insufficient Source Amount',
  R02: 'Insufficient Timeout',
  R99: 'Application Error',
};

/**
 * Reject codes on the wire: a class letter F/T/R and two characters. RFC 0027 lets unknown codes
 * in a known class through (they are treated like the class's x99), so we accept any [0-9A-Z]{2}.
 */
const REJECT_CODE = /^[FTR][0-9A-Z]{2}$/;

export function isValidRejectCode(code: unknown): code is string {
  return typeof code === 'string' && REJECT_CODE.test(code);
}

export function assertRejectCode(code: unknown): asserts code is string {
  if (!isValidRejectCode(code)) {
    throw new IlpCodecError(
      'BAD_ERROR_CODE',
      `reject code ${JSON.stringify(code)} must be F, T or R followed by two digits/capitals (e.g. F02)`,
    );
  }
}

/** An IlpReject packet. `triggeredBy` is the address of the node rejecting ('' when it has none yet). */
export function rejectOf(
  code: IlpErrorCode | string,
  message: string,
  triggeredBy: string,
  data: Uint8Array = new Uint8Array(0),
): IlpReject {
  assertRejectCode(code);
  return { type: IlpPacketType.Reject, code, triggeredBy, message, data };
}

export interface IlpErrorOptions {
  triggeredBy?: string;
  data?: Uint8Array;
  cause?: unknown;
}

/**
 * Throw this from a packet handler to answer with a REJECT. The connector fills in `triggeredBy`
 * with its own address (via `toReject(address)`) when the thrower did not know it.
 */
export class IlpError extends Error {
  override readonly name = 'IlpError';
  readonly code: IlpErrorCode | string;
  readonly triggeredBy: string;
  readonly data: Uint8Array;

  constructor(code: IlpErrorCode | string, message: string, options: IlpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    assertRejectCode(code);
    this.code = code;
    this.triggeredBy = options.triggeredBy ?? '';
    this.data = options.data ?? new Uint8Array(0);
  }

  /** The REJECT to send back; `fallbackTriggeredBy` is used when the error did not name a node. */
  toReject(fallbackTriggeredBy = ''): IlpReject {
    return rejectOf(this.code, this.message, this.triggeredBy || fallbackTriggeredBy, this.data);
  }
}
