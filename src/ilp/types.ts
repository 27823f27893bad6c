/** ILPv4 packet type octets (RFC 0027). */
export const IlpPacketType = { Prepare: 12, Fulfill: 13, Reject: 14 } as const;
export type IlpPacketType = (typeof IlpPacketType)[keyof typeof IlpPacketType];

export interface IlpPrepare {
  type: typeof IlpPacketType.Prepare;
  /** uint64 amount in the sender's asset base units. */
  amount: bigint;
  expiresAt: Date;
  /** 32 bytes: SHA-256 of the fulfillment. */
  executionCondition: Uint8Array;
  destination: string;
  /** At most 32767 bytes. */
  data: Uint8Array;
}

export interface IlpFulfill {
  type: typeof IlpPacketType.Fulfill;
  /** 32 bytes, preimage of the condition. */
  fulfillment: Uint8Array;
  data: Uint8Array;
}

export interface IlpReject {
  type: typeof IlpPacketType.Reject;
  /** Three characters, e.g. "F04" (see ./errors.ts). */
  code: string;
  triggeredBy: string;
  message: string;
  data: Uint8Array;
}

export type IlpPacket = IlpPrepare | IlpFulfill | IlpReject;
export type IlpReply = IlpFulfill | IlpReject;
