// The wasm verifier (nostr-wasm) and its worker pool must agree with the pure-JS verifyEvent (noble) on every input:
// valid events, forged ids, bad signatures, bad pubkeys, malformed shapes, and the BIP-340 vectors' keys and sigs.
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  finalizeEvent,
  generateSecretKey,
  getEventHash,
  getPublicKey,
  verifyEvent,
} from '../../src/nostr/index.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import {
  loadWasmVerifier,
  VerifierPool,
  verifyEventFast,
  verifyWithWasm,
} from '../../src/nostr/verify-fast.js';
import { readVector } from './vectors.js';

const rows = readVector('bip340/test-vectors.csv')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [index, secretKey, publicKey, auxRand, , signature, valid] = line.split(',');
    return {
      index: Number(index),
      secretKey: secretKey!,
      publicKey: publicKey!.toLowerCase(),
      auxRand: auxRand!,
      signature: signature!.toLowerCase(),
      valid: valid === 'TRUE',
    };
  });

const sk = generateSecretKey();
const valid = finalizeEvent(
  { kind: 1, created_at: 1_700_000_000, tags: [['t', 'x']], content: 'héllo\n"q"' },
  sk,
);

/** The same fields, a fresh id that matches them, and the given signature: only the signature can be wrong. */
function withSig(e: Omit<NostrEvent, 'id' | 'sig'>, sig: string): NostrEvent {
  return { ...e, id: getEventHash(e), sig };
}

describe('verify-fast (nostr-wasm)', () => {
  const pool = new VerifierPool({ threads: 2 });
  afterAll(() => pool.close());

  it('accepts a valid event on the calling thread and in the pool', async () => {
    expect(await verifyEventFast(valid)).toBe(true);
    expect(await pool.verify(valid)).toBe(true);
  });

  it('recomputes the id: forged content, kind, tags, created_at or pubkey are rejected', async () => {
    const forged: NostrEvent[] = [
      { ...valid, content: 'hello' },
      { ...valid, kind: 2 },
      { ...valid, tags: [['t', 'y']] },
      { ...valid, created_at: valid.created_at + 1 },
      { ...valid, pubkey: getPublicKey(generateSecretKey()) },
      // id recomputed for forged content but the old signature kept
      withSig({ ...valid, content: 'forged' }, valid.sig),
    ];
    for (const e of forged) {
      expect(verifyEvent(e)).toBe(false);
      expect(await verifyEventFast(e)).toBe(false);
      expect(await pool.verify(e)).toBe(false);
    }
  });

  it('rejects malformed shapes before hashing (uppercase hex, short sig, wrong types)', async () => {
    const bad: unknown[] = [
      { ...valid, id: valid.id.toUpperCase() },
      { ...valid, sig: valid.sig.slice(2) },
      { ...valid, sig: `zz${valid.sig.slice(2)}` },
      { ...valid, created_at: '1700000000' },
      { ...valid, tags: [[1]] },
      {},
      null,
    ];
    const nostr = await loadWasmVerifier();
    for (const e of bad) {
      expect(verifyWithWasm(nostr, e)).toBe(false);
      expect(await pool.verify(e as NostrEvent)).toBe(false);
    }
  });

  it('BIP-340 signing rows: events signed with the vectors’ keys and aux_rand verify; the key matches', async () => {
    const signing = rows.filter((r) => r.secretKey !== '');
    expect(signing.length).toBeGreaterThanOrEqual(4);
    for (const row of signing) {
      const key = hexToBytes(row.secretKey);
      expect(getPublicKey(key)).toBe(row.publicKey);
      const fields = {
        pubkey: row.publicKey,
        created_at: 1_700_000_000,
        kind: 1,
        tags: [],
        content: `row ${row.index}`,
      };
      const id = getEventHash(fields);
      const sig = bytesToHex(schnorr.sign(hexToBytes(id), key, hexToBytes(row.auxRand)));
      const event = { ...fields, id, sig };
      expect(await verifyEventFast(event)).toBe(true);
      expect(await pool.verify(event)).toBe(true);
    }
  });

  it('BIP-340 failing rows: their public keys and signatures never verify an event', async () => {
    const failing = rows.filter((r) => !r.valid);
    expect(failing).toHaveLength(10);
    for (const row of failing) {
      const event = withSig(
        { pubkey: row.publicKey, created_at: 1_700_000_000, kind: 1, tags: [], content: '' },
        row.signature,
      );
      expect(verifyEvent(event)).toBe(false);
      expect(await verifyEventFast(event)).toBe(false);
    }
  });

  it('agrees with the pure-JS verifyEvent on random single-character mutations', async () => {
    const nostr = await loadWasmVerifier();
    const fields = ['id', 'sig', 'pubkey', 'content'] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...fields),
        fc.nat(),
        fc.constantFrom(...'0123456789abcdef'),
        async (field, at, ch) => {
          const text = valid[field];
          const i = at % Math.max(1, text.length);
          const mutated = { ...valid, [field]: text.slice(0, i) + ch + text.slice(i + 1) };
          const expected = verifyEvent(mutated);
          expect(verifyWithWasm(nostr, mutated)).toBe(expected);
          expect(await pool.verify(mutated)).toBe(expected);
        },
      ),
      { numRuns: 150, seed: 42 },
    );
  });

  it('answers many concurrent calls, each with its own result, across batches', async () => {
    const events = Array.from({ length: 300 }, (_, i) =>
      i % 3 === 0
        ? { ...valid, content: `x${i}` }
        : finalizeEvent({ kind: 1, tags: [], content: `n${i}` }, sk),
    );
    const results = await Promise.all(events.map((e) => pool.verify(e)));
    expect(results).toEqual(events.map((_, i) => i % 3 !== 0));
    expect(pool.size).toBe(2);
  });

  it('falls back to the calling thread after close', async () => {
    const small = new VerifierPool({ threads: 1 });
    await small.close();
    expect(await small.verify(valid)).toBe(true);
    expect(await small.verify({ ...valid, content: 'no' })).toBe(false);
  });
});

describe('finalizeEvent once the wasm module is loaded (issue 17)', () => {
  it('signs with libsecp256k1: the JS verifier accepts every event, ids are the NIP-01 hash', async () => {
    await loadWasmVerifier();
    const sk = generateSecretKey();
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.array(fc.array(fc.string({ unit: 'binary' }), { minLength: 1, maxLength: 3 }), { maxLength: 4 }),
        (content, tags) => {
          const e = finalizeEvent({ kind: 1, created_at: 1_700_000_000, tags, content }, sk);
          expect(e.id).toBe(getEventHash(e));
          expect(e.pubkey).toBe(getPublicKey(sk));
          expect(verifyEvent(e)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
