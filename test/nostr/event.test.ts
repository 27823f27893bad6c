import { schnorr } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import {
  finalizeEvent,
  getEventHash,
  NostrError,
  serializeEvent,
  validateEventShape,
  verifyEvent,
} from '../../src/nostr/event.js';
import { generateSecretKey, getPublicKey } from '../../src/nostr/keys.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { readJsonVector, readVector } from './vectors.js';

interface Bip340Row {
  index: number;
  secretKey: string;
  publicKey: string;
  auxRand: string;
  message: string;
  signature: string;
  valid: boolean;
  comment: string;
}

const bip340: Bip340Row[] = readVector('bip340/test-vectors.csv')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [index, secretKey, publicKey, auxRand, message, signature, valid, ...comment] = line.split(',');
    return {
      index: Number(index),
      secretKey: secretKey!,
      publicKey: publicKey!,
      auxRand: auxRand!,
      message: message!,
      signature: signature!,
      valid: valid === 'TRUE',
      comment: comment.join(','),
    };
  });

describe('BIP-340 vectors (@noble/curves schnorr, as used for event sigs)', () => {
  it('has all 19 rows, 4 with signing data', () => {
    expect(bip340).toHaveLength(19);
    expect(bip340.filter((r) => r.secretKey !== '')).toHaveLength(8);
    expect(bip340.filter((r) => !r.valid)).toHaveLength(10);
  });

  it.each(bip340)('row $index verify -> $valid $comment', (row) => {
    let ok: boolean;
    try {
      ok = schnorr.verify(hexToBytes(row.signature), hexToBytes(row.message), hexToBytes(row.publicKey));
    } catch {
      ok = false;
    }
    expect(ok).toBe(row.valid);
  });

  it.each(bip340.filter((r) => r.secretKey !== ''))('row $index sign with aux rand', (row) => {
    const sk = hexToBytes(row.secretKey);
    expect(getPublicKey(sk)).toBe(row.publicKey.toLowerCase());
    const sig = schnorr.sign(hexToBytes(row.message), sk, hexToBytes(row.auxRand));
    expect(bytesToHex(sig)).toBe(row.signature.toLowerCase());
  });
});

interface SerializationVector {
  name: string;
  event: Omit<NostrEvent, 'id' | 'sig'>;
  serialized_jsonstringify: string;
  id_jsonstringify: string;
  id_nip01_literal: string;
  same: boolean;
}
const serialization = readJsonVector<{ vectors: SerializationVector[] }>(
  'nostr/nip01-serialization.generated.json',
).vectors;

describe('NIP-01 serialization vectors', () => {
  it('has 6 cases', () => expect(serialization).toHaveLength(6));

  it.each(serialization)('$name', (v) => {
    expect(serializeEvent(v.event)).toBe(v.serialized_jsonstringify);
    expect(getEventHash(v.event)).toBe(v.id_jsonstringify);
    // Where the spec-literal reading differs (raw control characters), we follow JSON.stringify: see event.ts.
    if (!v.same) expect(getEventHash(v.event)).not.toBe(v.id_nip01_literal);
    else expect(getEventHash(v.event)).toBe(v.id_nip01_literal);
  });

  it('hashes the UTF-8 bytes of the serialization', () => {
    const e = serialization[2]!.event;
    expect(getEventHash(e)).toBe(bytesToHex(sha256(utf8ToBytes(serializeEvent(e)))));
  });
});

describe('finalizeEvent / verifyEvent', () => {
  const sk = generateSecretKey();
  const pk = getPublicKey(sk);
  const signed = () =>
    finalizeEvent({ kind: 1, tags: [['t', 'x']], content: 'hello', created_at: 1700000000 }, sk);

  it('signs an event that verifies', () => {
    const e = signed();
    expect(e.pubkey).toBe(pk);
    expect(e.id).toBe(getEventHash(e));
    expect(verifyEvent(e)).toBe(true);
  });

  it('defaults created_at to now', () => {
    const before = Math.floor(Date.now() / 1000);
    const e = finalizeEvent({ kind: 1, tags: [], content: '' }, sk);
    expect(e.created_at).toBeGreaterThanOrEqual(before);
    expect(e.created_at).toBeLessThanOrEqual(before + 2);
  });

  it('rejects changed content, tags, kind, created_at or pubkey (id recomputed)', () => {
    expect(verifyEvent({ ...signed(), content: 'hellO' })).toBe(false);
    expect(verifyEvent({ ...signed(), tags: [['t', 'y']] })).toBe(false);
    expect(verifyEvent({ ...signed(), kind: 2 })).toBe(false);
    expect(verifyEvent({ ...signed(), created_at: 1700000001 })).toBe(false);
    expect(verifyEvent({ ...signed(), pubkey: getPublicKey(generateSecretKey()) })).toBe(false);
  });

  it('rejects a forged event: altered content with the id recomputed but the old signature', () => {
    const e = signed();
    const forged = { ...e, content: 'pay me' };
    forged.id = getEventHash(forged);
    expect(verifyEvent(forged)).toBe(false);
  });

  it('rejects a forged event whose sig is valid for a different id (the claimed id is not trusted)', () => {
    const real = signed();
    // Attacker keeps the real id and sig but swaps the content: sig is valid for `id`, id does not match fields.
    expect(verifyEvent({ ...real, content: 'forged content' })).toBe(false);
    // And a sig over another id by the same key does not transfer.
    const other = finalizeEvent({ kind: 1, tags: [], content: 'other', created_at: 1 }, sk);
    expect(verifyEvent({ ...real, sig: other.sig })).toBe(false);
  });

  it('re-verifies a mutated object (no cached result)', () => {
    const e = signed();
    expect(verifyEvent(e)).toBe(true);
    e.content = 'mutated after verification';
    expect(verifyEvent(e)).toBe(false);
    e.content = 'hello';
    expect(verifyEvent(e)).toBe(true);
    e.tags[0]![1] = 'z';
    expect(verifyEvent(e)).toBe(false);
  });

  it('returns false rather than throwing on garbage', () => {
    expect(verifyEvent({ ...signed(), sig: 'zz' })).toBe(false);
    expect(verifyEvent({ ...signed(), pubkey: 'f'.repeat(64) })).toBe(false);
    expect(verifyEvent(null as unknown as NostrEvent)).toBe(false);
  });

  it('does not mutate the template', () => {
    const template = { kind: 1, tags: [['a', 'b']], content: 'c', created_at: 5 };
    const copy = structuredClone(template);
    const e = finalizeEvent(template, sk);
    e.tags[0]![0] = 'x';
    expect(template).toEqual(copy);
  });
});

describe('validateEventShape', () => {
  const good = finalizeEvent({ kind: 1, tags: [], content: '', created_at: 1 }, generateSecretKey());

  it('returns a copy with exactly the seven fields', () => {
    const out = validateEventShape({ ...good, extra: 1 });
    expect(Object.keys(out).sort()).toEqual(['content', 'created_at', 'id', 'kind', 'pubkey', 'sig', 'tags']);
    expect(out).toEqual(good);
  });

  const bad: [string, unknown][] = [
    ['not an object', 'x'],
    ['array', []],
    ['uppercase id', { ...good, id: good.id.toUpperCase() }],
    ['short pubkey', { ...good, pubkey: 'ab' }],
    ['short sig', { ...good, sig: good.sig.slice(2) }],
    ['float created_at', { ...good, created_at: 1.5 }],
    ['negative created_at', { ...good, created_at: -1 }],
    ['string kind', { ...good, kind: '1' }],
    ['kind too large', { ...good, kind: 70000 }],
    ['tags not array', { ...good, tags: {} }],
    ['tag not array', { ...good, tags: ['p'] }],
    ['number in tag', { ...good, tags: [['p', 1]] }],
    ['content not string', { ...good, content: 5 }],
    ['missing content', { ...good, content: undefined }],
  ];
  it.each(bad)('rejects %s', (_name, x) => {
    expect(() => validateEventShape(x)).toThrow(NostrError);
    try {
      validateEventShape(x);
    } catch (err) {
      expect((err as NostrError).code).toBe('invalid_event');
      expect((err as NostrError).message.length).toBeGreaterThan(10);
    }
  });
});

describe('keys', () => {
  it('generates distinct valid keys', () => {
    const a = generateSecretKey();
    const b = generateSecretKey();
    expect(a).toHaveLength(32);
    expect(bytesToHex(a)).not.toBe(bytesToHex(b));
    expect(getPublicKey(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects out-of-range and wrong-size secret keys', () => {
    expect(() => getPublicKey(new Uint8Array(32))).toThrow(NostrError);
    expect(() => getPublicKey(new Uint8Array(31))).toThrow(NostrError);
    expect(() => getPublicKey(hexToBytes('ff'.repeat(32)))).toThrow(NostrError);
  });
});
