// STREAM keys and encryption (RFC 0029 §5): from the SPSP shared secret,
//   encryptionKey  = HMAC-SHA256(sharedSecret, "ilp_stream_encryption")
//   fulfillmentKey = HMAC-SHA256(sharedSecret, "ilp_stream_fulfillment")   (see ../fulfillment.ts)
// and each STREAM packet travels as AES-256-GCM: 12-byte random IV, 16-byte auth tag, ciphertext.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { fulfillmentKeyOf } from '../fulfillment.js';

const ENCRYPTION_STRING = 'ilp_stream_encryption';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** IV + auth tag: the smallest possible STREAM ciphertext (of an empty plaintext). */
export const ENCRYPTION_OVERHEAD = IV_BYTES + TAG_BYTES;

export interface StreamKeys {
  encryptionKey: Uint8Array;
  fulfillmentKey: Uint8Array;
}

export function streamKeysOf(sharedSecret: Uint8Array): StreamKeys {
  return {
    encryptionKey: new Uint8Array(createHmac('sha256', sharedSecret).update(ENCRYPTION_STRING).digest()),
    fulfillmentKey: fulfillmentKeyOf(sharedSecret),
  };
}

export function encryptStream(encryptionKey: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return new Uint8Array(Buffer.concat([iv, cipher.getAuthTag(), body]));
}

/** The plaintext, or undefined when `data` was not encrypted under this key (or was altered): GCM checks both. */
export function decryptStream(encryptionKey: Uint8Array, data: Uint8Array): Uint8Array | undefined {
  if (data.length < ENCRYPTION_OVERHEAD) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', encryptionKey, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(IV_BYTES, ENCRYPTION_OVERHEAD));
    return new Uint8Array(
      Buffer.concat([decipher.update(data.subarray(ENCRYPTION_OVERHEAD)), decipher.final()]),
    );
  } catch {
    return undefined;
  }
}
