import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { NostrError } from '../../src/nostr/errors.js';
import { generateSecretKey, getPublicKey } from '../../src/nostr/keys.js';
import {
  calcPaddedLen,
  decrypt,
  encrypt,
  getConversationKey,
  getMessageKeys,
} from '../../src/nostr/nip44.js';
import { readJsonVector } from './vectors.js';

interface V2 {
  valid: {
    get_conversation_key: { sec1: string; pub2: string; conversation_key: string }[];
    get_message_keys: {
      conversation_key: string;
      keys: { nonce: string; chacha_key: string; chacha_nonce: string; hmac_key: string }[];
    };
    calc_padded_len: [number, number][];
    encrypt_decrypt: {
      sec1: string;
      sec2: string;
      conversation_key: string;
      nonce: string;
      plaintext: string;
      payload: string;
    }[];
    encrypt_decrypt_long_msg: {
      conversation_key: string;
      nonce: string;
      pattern: string;
      repeat: number;
      plaintext_sha256: string;
      payload_sha256: string;
    }[];
  };
  invalid: {
    encrypt_msg_lengths: number[];
    get_conversation_key: { sec1: string; pub2: string; note: string }[];
    decrypt: { conversation_key: string; nonce: string; plaintext: string; payload: string; note: string }[];
  };
}
interface Extended {
  conversation_key: string;
  nonce: string;
  pattern: string;
  vectors: {
    plaintext_len: number;
    prefix_len: number;
    padded_len: number;
    plaintext_sha256: string;
    payload_sha256: string;
  }[];
}

const v2 = readJsonVector<{ v2: V2 }>('nip44/nip44.vectors.json').v2;
const extended = readJsonVector<Extended>('nip44/nip44.extended-length.vectors.json');
const hashHex = (s: string) => bytesToHex(sha256(utf8ToBytes(s)));

function expectNostrError(fn: () => unknown, code?: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NostrError);
    if (code) expect((err as NostrError).code).toBe(code);
    return;
  }
  throw new Error('expected a NostrError, nothing was thrown');
}

describe('NIP-44 v2 vector counts', () => {
  it('has every group populated (guards against silently testing nothing)', () => {
    expect(v2.valid.get_conversation_key).toHaveLength(35);
    expect(v2.valid.get_message_keys.keys).toHaveLength(32);
    expect(v2.valid.calc_padded_len).toHaveLength(24);
    expect(v2.valid.encrypt_decrypt).toHaveLength(10);
    expect(v2.valid.encrypt_decrypt_long_msg).toHaveLength(3);
    expect(v2.invalid.encrypt_msg_lengths).toHaveLength(4);
    expect(v2.invalid.get_conversation_key).toHaveLength(8);
    expect(v2.invalid.decrypt).toHaveLength(12);
    expect(extended.vectors).toHaveLength(3);
  });
});

describe('NIP-44 v2 valid', () => {
  it.each(v2.valid.get_conversation_key)('conversation key $conversation_key', (v) => {
    expect(bytesToHex(getConversationKey(hexToBytes(v.sec1), v.pub2))).toBe(v.conversation_key);
  });

  it.each(v2.valid.get_message_keys.keys)('message keys for nonce $nonce', (v) => {
    const keys = getMessageKeys(hexToBytes(v2.valid.get_message_keys.conversation_key), hexToBytes(v.nonce));
    expect(bytesToHex(keys.chachaKey)).toBe(v.chacha_key);
    expect(bytesToHex(keys.chachaNonce)).toBe(v.chacha_nonce);
    expect(bytesToHex(keys.hmacKey)).toBe(v.hmac_key);
  });

  it.each(v2.valid.calc_padded_len)('calcPaddedLen(%i) = %i', (len, padded) => {
    expect(calcPaddedLen(len)).toBe(padded);
  });

  it.each(v2.valid.encrypt_decrypt)('encrypt/decrypt $plaintext', (v) => {
    const sec1 = hexToBytes(v.sec1);
    const sec2 = hexToBytes(v.sec2);
    const key = getConversationKey(sec1, getPublicKey(sec2));
    expect(bytesToHex(key)).toBe(v.conversation_key);
    // Symmetric: the other side derives the same key.
    expect(bytesToHex(getConversationKey(sec2, getPublicKey(sec1)))).toBe(v.conversation_key);
    expect(encrypt(v.plaintext, key, hexToBytes(v.nonce))).toBe(v.payload);
    expect(decrypt(v.payload, key)).toBe(v.plaintext);
  });

  it.each(v2.valid.encrypt_decrypt_long_msg)('long message $pattern x $repeat', (v) => {
    const plaintext = v.pattern.repeat(v.repeat);
    expect(hashHex(plaintext)).toBe(v.plaintext_sha256);
    const key = hexToBytes(v.conversation_key);
    const payload = encrypt(plaintext, key, hexToBytes(v.nonce));
    expect(hashHex(payload)).toBe(v.payload_sha256);
    expect(decrypt(payload, key)).toBe(plaintext);
  });
});

describe('NIP-44 v2 invalid', () => {
  it('rejects an empty plaintext (length 0)', () => {
    expect(v2.invalid.encrypt_msg_lengths[0]).toBe(0);
    expectNostrError(
      () => encrypt('', hexToBytes(v2.valid.encrypt_decrypt[0]!.conversation_key)),
      'nip44_invalid_length',
    );
    expectNostrError(() => calcPaddedLen(0), 'nip44_invalid_length');
  });

  // The file's other "must fail" lengths predate the 6-byte extended prefix (nips PR #1907) and are now
  // valid: they must pad and round-trip. 10_000_000 is checked by padding only, to keep the test fast.
  it('treats the stale must-fail lengths 65536, 100000, 10000000 as valid under the current spec', () => {
    const stale = v2.invalid.encrypt_msg_lengths.slice(1);
    expect(stale).toEqual([65536, 100000, 10000000]);
    expect(calcPaddedLen(65536)).toBe(65536);
    // next power 131072, chunk 16384: 7 chunks. next power 2^24, chunk 2^21: 5 chunks.
    expect(calcPaddedLen(100000)).toBe(114688);
    expect(calcPaddedLen(10000000)).toBe(10485760);
    const key = generateSecretKey();
    for (const len of [65536, 100000]) {
      const plaintext = 'z'.repeat(len);
      const payload = encrypt(plaintext, key);
      // version + nonce + (6-byte prefix + padded) + mac
      expect(Buffer.from(payload, 'base64').length).toBe(1 + 32 + 6 + calcPaddedLen(len) + 32);
      expect(decrypt(payload, key)).toBe(plaintext);
    }
  });

  it.each(v2.invalid.get_conversation_key)('conversation key fails: $note', (v) => {
    expectNostrError(() => getConversationKey(hexToBytes(v.sec1), v.pub2), 'nip44_invalid_key');
  });

  const codeFor = (note: string): string =>
    note.startsWith('unknown encryption version')
      ? 'nip44_invalid_version'
      : note === 'invalid base64'
        ? 'nip44_invalid_payload'
        : note === 'invalid MAC'
          ? 'nip44_invalid_mac'
          : note === 'invalid padding'
            ? 'nip44_invalid_padding'
            : 'nip44_invalid_length';

  it.each(v2.invalid.decrypt)('decrypt fails: $note', (v) => {
    expectNostrError(() => decrypt(v.payload, hexToBytes(v.conversation_key)), codeFor(v.note));
  });
});

describe('NIP-44 extended length prefix (>= 64 KiB)', () => {
  it.each(extended.vectors)('plaintext of $plaintext_len bytes', (v) => {
    const plaintext = extended.pattern.repeat(v.plaintext_len);
    expect(hashHex(plaintext)).toBe(v.plaintext_sha256);
    expect(calcPaddedLen(v.plaintext_len)).toBe(v.padded_len);
    const key = hexToBytes(extended.conversation_key);
    const payload = encrypt(plaintext, key, hexToBytes(extended.nonce));
    expect(hashHex(payload)).toBe(v.payload_sha256);
    expect(Buffer.from(payload, 'base64').length).toBe(1 + 32 + v.prefix_len + v.padded_len + 32);
    expect(decrypt(payload, key)).toBe(plaintext);
  });
});

describe('NIP-44 misuse', () => {
  it('fails with the wrong key and on a flipped ciphertext byte', () => {
    const key = generateSecretKey();
    const payload = encrypt('hello', key);
    expectNostrError(() => decrypt(payload, generateSecretKey()), 'nip44_invalid_mac');
    const bytes = Buffer.from(payload, 'base64');
    bytes[40] = (bytes[40] ?? 0) ^ 1;
    expectNostrError(() => decrypt(bytes.toString('base64'), key), 'nip44_invalid_mac');
  });

  it('rejects keys and nonces of the wrong size', () => {
    expectNostrError(() => encrypt('x', new Uint8Array(31)), 'nip44_invalid_key');
    expectNostrError(() => encrypt('x', new Uint8Array(32), new Uint8Array(12)), 'nip44_invalid_key');
    expectNostrError(() => getConversationKey(generateSecretKey(), 'ABCD'), 'nip44_invalid_key');
  });

  it('uses a fresh random nonce each time', () => {
    const key = generateSecretKey();
    expect(encrypt('same', key)).not.toBe(encrypt('same', key));
  });
});
