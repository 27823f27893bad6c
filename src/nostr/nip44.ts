// NIP-44 v2 encryption. Padding is nostr-tools' (which implements the 6-byte extended length prefix for plaintexts
// >= 65536 bytes); ChaCha20, HMAC-SHA256, HKDF-expand and base64 are node:crypto's and Buffer's (issue 17: nostr-tools'
// pure-JS base64 alone was a quarter of a gift wrap's CPU, each private job has eight of these on its path). The
// official vectors (test/nostr/nip44.test.ts) pin the bytes. This file checks inputs and reports every failure as a
// NostrError.

import { createCipheriv, createECDH, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { extract } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import { v2 } from 'nostr-tools/nip44';
import { NostrError } from './errors.js';
import { nativeSchnorr } from './schnorr-native.js';
import { isHex64 } from './validate.js';

const MAX_PLAINTEXT = 0xffffffff;
/** secp256k1's group order: a secret key must be in [1, n-1]. */
const CURVE_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const SALT = new TextEncoder().encode('nip44-v2');
const MIN_PAYLOAD_CHARS = 132; // base64 of version + nonce + 32-byte minimum padding + MAC
const MIN_DATA_BYTES = 99;

/** The shared key of two parties: HKDF-extract(salt "nip44-v2", ECDH x-coordinate). Symmetric. */
export function getConversationKey(secretKey: Uint8Array, pubkeyHex: string): Uint8Array {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) {
    throw new NostrError('nip44_invalid_key', 'secret key must be a 32-byte Uint8Array');
  }
  if (!isHex64(pubkeyHex)) {
    throw new NostrError('nip44_invalid_key', 'public key must be 64 lowercase hex characters (x-only)');
  }
  try {
    return fastConversationKey(secretKey, pubkeyHex) ?? v2.utils.getConversationKey(secretKey, pubkeyHex);
  } catch (err) {
    throw new NostrError(
      'nip44_invalid_key',
      'cannot derive a conversation key: the secret key must be in [1, n-1] and the public key a point on secp256k1',
      { cause: err },
    );
  }
}

/**
 * The ECDH by OpenSSL (node:crypto), about 20x the pure JS one: every gift wrap costs one with a one-time key, so a
 * private job paid several milliseconds per wrap for it (issue 17). The x-coordinate of the shared point does not
 * depend on the y parity chosen for an x-only key. Undefined when OpenSSL refuses (the JS path then decides, and
 * reports the error).
 */
function fastConversationKey(secretKey: Uint8Array, pubkeyHex: string): Uint8Array | undefined {
  const k = BigInt(`0x${Buffer.from(secretKey).toString('hex')}`);
  if (k === 0n || k >= CURVE_N) return undefined;
  const native = nativeSchnorr()?.sharedX?.(secretKey, Buffer.from(pubkeyHex, 'hex'));
  if (native) return extract(sha256, native, SALT);
  try {
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(secretKey);
    const x = ecdh.computeSecret(Buffer.from(`02${pubkeyHex}`, 'hex'));
    return extract(sha256, new Uint8Array(x), SALT);
  } catch {
    return undefined;
  }
}

/** Per-message keys: HKDF-expand(conversationKey, nonce, 76) split 32/12/32. Exposed for the vectors. */
export function getMessageKeys(
  conversationKey: Uint8Array,
  nonce: Uint8Array,
): { chachaKey: Uint8Array; chachaNonce: Uint8Array; hmacKey: Uint8Array } {
  checkLen(conversationKey, 32, 'conversation key');
  checkLen(nonce, 32, 'nonce');
  // HKDF-expand (RFC 5869) with the conversation key as PRK and the nonce as info: three HMAC blocks, 76 bytes used.
  const t1 = createHmac('sha256', conversationKey).update(nonce).update(BLOCK[1]!).digest();
  const t2 = createHmac('sha256', conversationKey).update(t1).update(nonce).update(BLOCK[2]!).digest();
  const t3 = createHmac('sha256', conversationKey).update(t2).update(nonce).update(BLOCK[3]!).digest();
  const keys = new Uint8Array(Buffer.concat([t1, t2, t3]).subarray(0, 76));
  return {
    chachaKey: keys.subarray(0, 32),
    chachaNonce: keys.subarray(32, 44),
    hmacKey: keys.subarray(44, 76),
  };
}

/** Padded length of a plaintext of `len` bytes (at least 32, then power-of-two based chunks). */
export function calcPaddedLen(len: number): number {
  if (!Number.isSafeInteger(len) || len < 1 || len > MAX_PLAINTEXT) {
    throw new NostrError(
      'nip44_invalid_length',
      `plaintext length must be between 1 and ${MAX_PLAINTEXT}, got ${len}`,
    );
  }
  return v2.utils.calcPaddedLen(len);
}

/** Encrypts `plaintext` (1 byte .. 4 GiB of UTF-8) to a base64 payload. `nonce` is random unless given (tests). */
export function encrypt(plaintext: string, conversationKey: Uint8Array, nonce?: Uint8Array): string {
  checkLen(conversationKey, 32, 'conversation key');
  if (nonce !== undefined) checkLen(nonce, 32, 'nonce');
  if (typeof plaintext !== 'string' || plaintext.length === 0) {
    throw new NostrError(
      'nip44_invalid_length',
      'plaintext must be a non-empty string (NIP-44 minimum is 1 byte)',
    );
  }
  try {
    const n = nonce ?? new Uint8Array(randomBytes(32));
    const { chachaKey, chachaNonce, hmacKey } = getMessageKeys(conversationKey, n);
    const ciphertext = chacha20(chachaKey, chachaNonce, v2.utils.pad(plaintext));
    const mac = createHmac('sha256', hmacKey).update(n).update(ciphertext).digest();
    return Buffer.concat([VERSION_2, n, ciphertext, mac]).toString('base64');
  } catch (err) {
    throw new NostrError('nip44_invalid_length', `cannot encrypt: ${(err as Error).message}`, { cause: err });
  }
}

/** Decrypts a base64 payload; throws NostrError (version, length, payload, MAC, padding) on anything wrong. */
export function decrypt(payload: string, conversationKey: Uint8Array): string {
  checkLen(conversationKey, 32, 'conversation key');
  if (typeof payload !== 'string') throw new NostrError('nip44_invalid_payload', 'payload must be a string');
  if (payload.startsWith('#')) {
    throw new NostrError(
      'nip44_invalid_version',
      "unknown encryption version: a leading '#' marks a future version",
    );
  }
  if (payload.length < MIN_PAYLOAD_CHARS) {
    throw new NostrError(
      'nip44_invalid_length',
      `invalid payload length ${payload.length}: a v2 payload has at least ${MIN_PAYLOAD_CHARS} base64 characters`,
    );
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(payload) || payload.length % 4 !== 0) {
    throw new NostrError('nip44_invalid_payload', 'payload is not valid padded base64');
  }
  const data = Buffer.from(payload, 'base64');
  if (data.length < MIN_DATA_BYTES) {
    throw new NostrError(
      'nip44_invalid_length',
      `invalid data length ${data.length}: at least ${MIN_DATA_BYTES} bytes`,
    );
  }
  if (data[0] !== 2) {
    throw new NostrError(
      'nip44_invalid_version',
      `unknown encryption version ${data[0]}: only version 2 is supported`,
    );
  }
  try {
    const nonce = data.subarray(1, 33);
    const ciphertext = data.subarray(33, data.length - 32);
    const mac = data.subarray(data.length - 32);
    const { chachaKey, chachaNonce, hmacKey } = getMessageKeys(conversationKey, nonce);
    const expected = createHmac('sha256', hmacKey).update(nonce).update(ciphertext).digest();
    if (!timingSafeEqual(expected, mac)) throw new Error('invalid MAC');
    return v2.utils.unpad(new Uint8Array(chacha20(chachaKey, chachaNonce, ciphertext)));
  } catch (err) {
    const message = (err as Error).message;
    if (message.includes('MAC')) {
      throw new NostrError('nip44_invalid_mac', 'invalid MAC: wrong conversation key or tampered payload', {
        cause: err,
      });
    }
    if (message.includes('padding')) {
      throw new NostrError(
        'nip44_invalid_padding',
        'invalid padding: the decrypted length prefix is inconsistent',
        {
          cause: err,
        },
      );
    }
    throw new NostrError('nip44_invalid_payload', `cannot decrypt: ${message}`, { cause: err });
  }
}

const VERSION_2 = Buffer.from([2]);
/** HKDF-expand's block counters. */
const BLOCK = [0, 1, 2, 3].map((i) => Buffer.from([i]));

/** RFC 8439 ChaCha20 from block counter 0 (OpenSSL's IV: the 32-bit little-endian counter, then the 96-bit nonce). */
function chacha20(key: Uint8Array, nonce12: Uint8Array, data: Uint8Array): Buffer {
  const iv = Buffer.alloc(16);
  iv.set(nonce12, 4);
  return createCipheriv('chacha20', key, iv).update(data);
}

/** Convenience for tests and callers holding hex keys. */
export function conversationKeyFromHex(hex: string): Uint8Array {
  if (!isHex64(hex))
    throw new NostrError('nip44_invalid_key', 'conversation key must be 64 lowercase hex characters');
  return hexToBytes(hex);
}

function checkLen(bytes: Uint8Array, len: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== len) {
    throw new NostrError('nip44_invalid_key', `${what} must be a ${len}-byte Uint8Array`);
  }
}
