import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  conditionOf,
  deriveFulfillment,
  fulfillmentFromKey,
  fulfillmentKeyOf,
  verifyFulfillment,
} from '../../src/ilp/index.js';
import { b64, hex, loadVector, toHex } from './vectors.js';

interface CryptoVectors {
  generateFulfillmentKey: { secret_utf8: string; key: string };
  generateFulfillment: { key_hex: string; data_utf8: string; fulfillment: string };
  hash: { fulfillment_hex: string; condition: string };
}
const v = loadVector<CryptoVectors>('stream/crypto.vectors.json');
const utf8 = (s: string) => new TextEncoder().encode(s);

// crypto.vectors.json also holds the PSK encryption key and AES-GCM decrypt vectors; those belong to
// STREAM encryption, which DESIGN §3 does not use for conditions, so only the three derivation steps are tested here.
describe('fulfillment derivation (STREAM crypto vectors)', () => {
  it('fulfillmentKey = HMAC-SHA256(secret, "ilp_stream_fulfillment")', () => {
    const g = v.generateFulfillmentKey;
    expect(toHex(fulfillmentKeyOf(utf8(g.secret_utf8)))).toBe(toHex(b64(g.key)));
  });
  it('fulfillment = HMAC-SHA256(fulfillmentKey, data)', () => {
    const g = v.generateFulfillment;
    expect(toHex(fulfillmentFromKey(hex(g.key_hex), utf8(g.data_utf8)))).toBe(toHex(b64(g.fulfillment)));
  });
  it('condition = SHA-256(fulfillment)', () => {
    expect(toHex(conditionOf(hex(v.hash.fulfillment_hex)))).toBe(toHex(b64(v.hash.condition)));
    expect(verifyFulfillment(hex(v.hash.fulfillment_hex), b64(v.hash.condition))).toBe(true);
  });
  it('deriveFulfillment chains both HMACs (checked against node:crypto directly)', () => {
    const secret = utf8(v.generateFulfillmentKey.secret_utf8);
    const data = utf8('a PREPARE payload');
    const key = createHmac('sha256', secret).update('ilp_stream_fulfillment').digest();
    const want = createHmac('sha256', key).update(data).digest();
    expect(toHex(deriveFulfillment(secret, data))).toBe(want.toString('hex'));
  });
  it('agrees with ilp-protocol-stream (test oracle) on random secrets and data', async () => {
    const oracle = await import('ilp-protocol-stream/dist/src/crypto.js');
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 2048 }),
        async (s, d) => {
          const key = await oracle.generateFulfillmentKey(Buffer.from(s));
          const f = await oracle.generateFulfillment(key, Buffer.from(d));
          expect(toHex(deriveFulfillment(s, d))).toBe(f.toString('hex'));
        },
      ),
      { seed: 7, numRuns: 200 },
    );
  });
});

describe('verifyFulfillment', () => {
  const secret = new Uint8Array(32).fill(3);
  const f = deriveFulfillment(secret, utf8('hello'));
  const c = conditionOf(f);
  it('accepts the matching fulfillment', () => expect(verifyFulfillment(f, c)).toBe(true));
  it('rejects a fulfillment for other data, or under another secret', () => {
    expect(verifyFulfillment(deriveFulfillment(secret, utf8('hellp')), c)).toBe(false);
    expect(verifyFulfillment(deriveFulfillment(new Uint8Array(32), utf8('hello')), c)).toBe(false);
  });
  it('rejects the condition itself passed as a fulfillment, and any one-bit flip', () => {
    expect(verifyFulfillment(c, c)).toBe(false);
    for (let i = 0; i < 32; i++) {
      const g = f.slice();
      g[i] = (g[i] as number) ^ 1;
      expect(verifyFulfillment(g, c)).toBe(false);
    }
  });
  it('returns false (does not throw) on wrong lengths', () => {
    expect(verifyFulfillment(f.subarray(0, 31), c)).toBe(false);
    expect(verifyFulfillment(f, c.subarray(0, 31))).toBe(false);
    expect(verifyFulfillment(new Uint8Array(0), new Uint8Array(0))).toBe(false);
  });
});
