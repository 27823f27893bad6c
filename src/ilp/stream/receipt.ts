// STREAM receipts (RFC 0039): proof, for whoever holds the receipt secret, of the total a stream received.
//   version uint8 (1) | nonce 16 bytes | stream id uint8 | total received uint64 | HMAC-SHA256(secret, the 26 bytes before)
// The sender chooses nonce and secret in its SPSP query (headers Receipt-Nonce, Receipt-Secret) and can check each one.
import { createHmac } from 'node:crypto';
import { OerWriter } from '../oer.js';

export const RECEIPT_VERSION = 1;
export const RECEIPT_BYTES = 58;

export interface ReceiptSetup {
  /** 16 bytes. */
  nonce: Uint8Array;
  /** 32 bytes. */
  secret: Uint8Array;
}

/** The receipt for `totalReceived` on `streamId`; undefined for a stream id above 255 (the field is one byte). */
export function createReceipt(
  setup: ReceiptSetup,
  streamId: bigint,
  totalReceived: bigint,
): Uint8Array | undefined {
  if (streamId > 255n) return undefined;
  const w = new OerWriter(RECEIPT_BYTES);
  w.writeUInt8(RECEIPT_VERSION)
    .writeOctets(setup.nonce)
    .writeUInt8(Number(streamId))
    .writeUInt64(totalReceived);
  const body = w.finish().slice();
  const mac = createHmac('sha256', setup.secret).update(body).digest();
  const out = new Uint8Array(RECEIPT_BYTES);
  out.set(body);
  out.set(mac, body.length);
  return out;
}
