// The native verifier (system libsecp256k1 through koffi, issue 17) must agree with the pure-JS verifyEvent (noble)
// and nostr-wasm on every input, and the node must fall back to nostr-wasm when the library is missing or disabled.
// .ci/run installs libsecp256k1-1, so the native path is expected here.
import { execFileSync } from 'node:child_process';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  finalizeEvent,
  generateSecretKey,
  getEventHash,
  getPublicKey,
  verifyEvent,
} from '../../src/nostr/index.js';
import { NATIVE_SECP256K1_ENV, openNativeSchnorr } from '../../src/nostr/schnorr-native.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import {
  loadFastVerifier,
  loadWasmVerifier,
  nativeShapedVerifier,
  verifyWith,
  verifyWithWasm,
  wasmShapedVerifier,
} from '../../src/nostr/verify-fast.js';
import { readJsonVector, readVector } from './vectors.js';

const native = openNativeSchnorr();

const rows = readVector('bip340/test-vectors.csv')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [index, , publicKey, , message, signature, valid] = line.split(',');
    return {
      index: Number(index),
      publicKey: publicKey!,
      message: message!,
      signature: signature!,
      valid: valid === 'TRUE',
    };
  });

const sk = generateSecretKey();
const valid = finalizeEvent(
  { kind: 1, created_at: 1_700_000_000, tags: [['t', 'x']], content: 'héllo\n"q" \u0001 😀' },
  sk,
);

describe('native libsecp256k1 (koffi)', () => {
  it('loads on this machine (.ci/run installs libsecp256k1-1) and is the verifier the relay uses', async () => {
    expect(native, 'libsecp256k1 with schnorrsig not loadable: apt-get install libsecp256k1-1').toBeDefined();
    expect((await loadFastVerifier()).backend).toBe(`native ${native!.library}`);
  });

  it('BIP-340 vectors: every row (messages of any length) gets the verdict of the vector file', () => {
    expect(rows.length).toBeGreaterThanOrEqual(15);
    for (const row of rows) {
      const ok = native!.verify(
        hexToBytes(row.signature),
        hexToBytes(row.message),
        hexToBytes(row.publicKey),
      );
      expect(ok, `row ${row.index}`).toBe(row.valid);
    }
  });

  it('malformed keys and signatures: wrong lengths, x not on the curve, x >= p, all zero: false, no throw', () => {
    const row = rows.find((r) => r.index === 1)!;
    const sig = hexToBytes(row.signature);
    const msg = hexToBytes(row.message);
    const pub = hexToBytes(row.publicKey);
    expect(native!.verify(sig, msg, pub)).toBe(true);
    expect(native!.verify(sig.slice(1), msg, pub)).toBe(false);
    expect(native!.verify(sig, msg, pub.slice(1))).toBe(false);
    expect(native!.verify(new Uint8Array(64), msg, pub)).toBe(false);
    expect(native!.verify(sig, msg, new Uint8Array(32))).toBe(false);
    expect(native!.verify(sig, msg, new Uint8Array(32).fill(0xff))).toBe(false); // x >= p
    expect(native!.verify(sig, msg, new Uint8Array(33))).toBe(false);
    expect(native!.verify(sig, new Uint8Array(0), pub)).toBe(false);
  });

  it('events: agrees with noble and nostr-wasm on valid, forged and malformed events', async () => {
    const v = nativeShapedVerifier(native!);
    const wasm = await loadWasmVerifier();
    const forged: unknown[] = [
      valid,
      { ...valid, content: 'hello' },
      { ...valid, kind: 2 },
      { ...valid, tags: [['t', 'y']] },
      { ...valid, created_at: valid.created_at + 1 },
      { ...valid, pubkey: getPublicKey(generateSecretKey()) },
      { ...valid, content: 'forged', id: getEventHash({ ...valid, content: 'forged' }) },
      { ...valid, id: valid.id.toUpperCase() },
      { ...valid, sig: valid.sig.slice(2) },
      { ...valid, sig: `zz${valid.sig.slice(2)}` },
      { ...valid, created_at: '1700000000' },
      { ...valid, tags: [[1]] },
      {},
      null,
    ];
    for (const [i, e] of forged.entries()) {
      const expected = verifyEvent(e as NostrEvent);
      expect(expected, `case ${i}`).toBe(i === 0);
      expect(verifyWith(v, e), `case ${i}`).toBe(expected);
      expect(verifyWithWasm(wasm, e), `case ${i}`).toBe(expected);
    }
  });

  it('NIP-01 serialization vectors: the id is the JSON.stringify serialization hash, not the literal reading', () => {
    const vectors = readJsonVector<{
      vectors: {
        name: string;
        event: Omit<NostrEvent, 'id' | 'sig'>;
        id_jsonstringify: string;
        id_nip01_literal: string;
        same: boolean;
      }[];
    }>('nostr/nip01-serialization.generated.json').vectors;
    const key = hexToBytes(`${'0'.repeat(63)}1`);
    const v = nativeShapedVerifier(native!);
    for (const vec of vectors) {
      expect(vec.event.pubkey).toBe(getPublicKey(key));
      const sign = (id: string) => ({ ...vec.event, id, sig: bytesToHex(schnorr.sign(hexToBytes(id), key)) });
      expect(verifyWith(v, sign(vec.id_jsonstringify)), vec.name).toBe(true);
      if (!vec.same) expect(verifyWith(v, sign(vec.id_nip01_literal)), vec.name).toBe(false);
    }
  });

  it('agrees with noble on random single-character mutations and random contents', () => {
    const v = nativeShapedVerifier(native!);
    const fields = ['id', 'sig', 'pubkey', 'content'] as const;
    fc.assert(
      fc.property(
        fc.constantFrom(...fields),
        fc.nat(),
        fc.constantFrom(...'0123456789abcdef'),
        (field, at, ch) => {
          const text = valid[field];
          const i = at % Math.max(1, text.length);
          const mutated = { ...valid, [field]: text.slice(0, i) + ch + text.slice(i + 1) };
          expect(verifyWith(v, mutated)).toBe(verifyEvent(mutated));
        },
      ),
      { numRuns: 200, seed: 17 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (content) => {
        const e = finalizeEvent({ kind: 1, created_at: 1_700_000_000, tags: [], content }, sk);
        expect(verifyWith(v, e)).toBe(true);
        expect(verifyWith(v, { ...e, content: `${content}.` })).toBe(false);
      }),
      { numRuns: 100, seed: 17 },
    );
  });
});

describe('native signing and ECDH (issue 17)', () => {
  it('signs BIP-340 vectors 0-3 exactly (their secret keys and aux randomness)', () => {
    const signable = readVector('bip340/test-vectors.csv')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','))
      .filter((c) => c[1] !== '');
    expect(signable.length).toBeGreaterThanOrEqual(4);
    for (const [index, sec, pub, aux, msg, sig] of signable) {
      expect(bytesToHex(native!.publicKey!(hexToBytes(sec!))!), `row ${index}`).toBe(pub!.toLowerCase());
      if (msg!.length !== 64) continue;
      const made = native!.sign!(hexToBytes(msg!), hexToBytes(sec!), hexToBytes(aux!));
      expect(bytesToHex(made!), `row ${index}`).toBe(sig!.toLowerCase());
    }
  });

  it('finalizeEvent signs natively with fresh randomness: noble verifies, two signatures differ', () => {
    const template = { kind: 1, created_at: 1_700_000_000, tags: [], content: 'same' };
    const a = finalizeEvent(template, sk);
    const b = finalizeEvent(template, sk);
    expect(a.id).toBe(b.id);
    expect(a.sig).not.toBe(b.sig);
    expect(verifyEvent(a) && verifyEvent(b)).toBe(true);
    expect(schnorr.verify(hexToBytes(a.sig), hexToBytes(a.id), hexToBytes(getPublicKey(sk)))).toBe(true);
  });

  it('invalid secret keys (0, n, all ones) and points not on the curve: undefined, no throw', () => {
    const n = hexToBytes('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141');
    const bad = [new Uint8Array(32), n, new Uint8Array(32).fill(255), new Uint8Array(31)];
    for (const k of bad) {
      expect(native!.publicKey!(k)).toBeUndefined();
      expect(native!.sign!(new Uint8Array(32), k)).toBeUndefined();
      expect(native!.sharedX!(k, hexToBytes(getPublicKey(sk)))).toBeUndefined();
    }
    // x = 5 is not the x coordinate of a point on secp256k1.
    const notOnCurve = new Uint8Array(32);
    notOnCurve[31] = 5;
    expect(native!.sharedX!(sk, notOnCurve)).toBeUndefined();
    expect(() => getPublicKey(new Uint8Array(32))).toThrow(/out of range/);
  });

  it('ECDH: the x coordinate noble computes, for random key pairs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
        const a = generateSecretKey();
        const b = seed.some((x) => x !== 0) ? seed : generateSecretKey();
        let pubB: string;
        try {
          pubB = bytesToHex(schnorr.getPublicKey(b));
        } catch {
          return; // out of range
        }
        const expected = secp256k1.getSharedSecret(a, hexToBytes(`02${pubB}`), true).subarray(1);
        expect(bytesToHex(native!.sharedX!(a, hexToBytes(pubB))!)).toBe(bytesToHex(expected));
      }),
      { numRuns: 50 },
    );
  });
});

describe('fallback to nostr-wasm', () => {
  it('a missing library, or one without the schnorrsig module, opens nothing', () => {
    expect(openNativeSchnorr(['libsecp256k1-missing.so.9'])).toBeUndefined();
    expect(openNativeSchnorr(['libc.so.6'])).toBeUndefined(); // loads, but has no secp256k1 symbols
    expect(openNativeSchnorr(['libsecp256k1-missing.so.9', native!.library])?.library).toBe(native!.library);
  });

  it('the wasm verifier gives the same verdicts', async () => {
    const v = wasmShapedVerifier(await loadWasmVerifier());
    expect(v.backend).toBe('wasm');
    expect(verifyWith(v, valid)).toBe(true);
    expect(verifyWith(v, { ...valid, content: 'x' })).toBe(false);
  });

  it(`${NATIVE_SECP256K1_ENV}=0: a process (and its gate worker threads) verifies with nostr-wasm`, () => {
    // A CommonJS -e script (an ESM one would make the workers' bootstrap ESM too, via execArgv).
    const script = `(async () => {
      const { loadFastVerifier } = await import('./src/nostr/verify-fast.ts');
      const { GatePool } = await import('./src/relay/gate-pool.ts');
      const { encodeEventBytes } = await import('./src/toon/index.ts');
      const event = JSON.parse(process.argv[1]);
      const pool = new GatePool(1, 64, false);
      await pool.ready();
      const good = await pool.decodeAndVerify(encodeEventBytes(event));
      const bad = await pool.decodeAndVerify(encodeEventBytes({ ...event, content: 'forged' }));
      await pool.close();
      console.log(JSON.stringify({ backend: (await loadFastVerifier()).backend, workers: pool.backends, good: good.valid, bad: bad.valid }));
    })();`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script, JSON.stringify(valid)], {
      env: { ...process.env, [NATIVE_SECP256K1_ENV]: '0' },
      encoding: 'utf8',
    });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({
      backend: 'wasm',
      workers: ['wasm'],
      good: true,
      bad: false,
    });
  });
});
