// GatePool: TOON decode + wasm verification on worker threads must answer exactly as the main-thread path does.
import { afterAll, describe, expect, it } from 'vitest';
import { IlpPacketType, type IlpReject } from '../../src/ilp/index.js';
import { generateSecretKey } from '../../src/nostr/index.js';
import { openNativeSchnorr } from '../../src/nostr/schnorr-native.js';
import { GatePool } from '../../src/relay/gate-pool.js';
import { decodeEvent, encodeEventBytes } from '../../src/toon/index.js';
import { paidPrepare, sign, startTestRelay } from './helpers.js';

const sk = generateSecretKey();

describe('GatePool', () => {
  const pool = new GatePool(2);
  afterAll(() => pool.close());

  it('reports ready once every worker has booted, each saying what checks its signatures', async () => {
    await pool.ready();
    expect(pool.size).toBe(2);
    // .ci/run installs libsecp256k1: the workers use it (the fallback is tested in test/nostr/schnorr-native.test.ts).
    const native = openNativeSchnorr();
    expect(native).toBeDefined();
    expect(pool.backends).toEqual([`native ${native!.library}`, `native ${native!.library}`]);
  });

  it('decodes and verifies on its workers, matching decodeEvent and verification on this thread', async () => {
    const e = sign(sk, 1, [['t', 'x']], 'hello "pool"\n');
    const forged = { ...e, content: 'forged' };
    const results = await Promise.all([
      pool.decodeAndVerify(encodeEventBytes(e)),
      pool.decodeAndVerify(encodeEventBytes(forged)),
      pool.decodeAndVerify(new TextEncoder().encode('not: [a toon event')),
      pool.decodeAndVerify(new Uint8Array([0xc3, 0x28])),
    ]);
    expect(results[0]).toEqual({ event: e, valid: true });
    expect(results[1]).toEqual({ event: forged, valid: false });
    for (const [i, data] of [
      [2, new TextEncoder().encode('not: [a toon event')],
      [3, new Uint8Array([0xc3, 0x28])],
    ] as const) {
      let message = '';
      try {
        decodeEvent(data);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(results[i]).toEqual({ error: message });
    }
    expect(await pool.verify(e)).toBe(true);
    expect(await pool.verify(forged)).toBe(false);
    expect(pool.size).toBe(2); // both workers booted and are still alive
  });

  it('answers hundreds of concurrent tasks, each with its own result', async () => {
    const events = Array.from({ length: 200 }, (_, i) => sign(sk, 1, [], `n${i}`));
    const results = await Promise.all(events.map((e, i) => pool.verify(i % 4 === 0 ? { ...e, kind: 2 } : e)));
    expect(results).toEqual(events.map((_, i) => i % 4 !== 0));
  });
});

describe('GatePool from the sources', () => {
  it('boots its workers from src/ through tsx when the sources are asked for, and answers the same', async () => {
    // With a current build the workers run dist/ (src/transport/module-worker.ts); CROSSTOWN_FROM_SOURCE=1 keeps
    // the path every run from a checkout without a build takes: tsx's loader registered inside each worker.
    const before = process.env.CROSSTOWN_FROM_SOURCE;
    process.env.CROSSTOWN_FROM_SOURCE = '1';
    const pool = new GatePool(2);
    try {
      await pool.ready();
      expect(pool.size).toBe(2);
      const e = sign(sk, 1, [], 'from source');
      const results = await Promise.all([pool.verify(e), pool.verify({ ...e, content: 'forged' })]);
      expect(results).toEqual([true, false]);
      expect(pool.size).toBe(2);
    } finally {
      await pool.close();
      if (before === undefined) delete process.env.CROSSTOWN_FROM_SOURCE;
      else process.env.CROSSTOWN_FROM_SOURCE = before;
    }
  });
});

describe('GatePool on an idle pool', () => {
  it('runs a lone task on this thread, a burst on the workers, with the same verdicts', async () => {
    const pool = new GatePool(2);
    try {
      await pool.ready();
      const e = sign(sk, 1, [], 'alone');
      expect(await pool.decodeAndVerify(encodeEventBytes(e))).toEqual({ event: e, valid: true });
      expect(await pool.verify({ ...e, content: 'forged' })).toBe(false);
      expect(pool.ranInline).toBe(2);
      const events = Array.from({ length: 40 }, (_, i) => sign(sk, 1, [], `burst ${i}`));
      const results = await Promise.all(events.map((ev, i) => pool.verify(i % 3 ? ev : { ...ev, kind: 3 })));
      expect(results).toEqual(events.map((_, i) => i % 3 !== 0));
      expect(pool.ranInline).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('sends every task to the workers with inlineWhenIdle off', async () => {
    const pool = new GatePool(1, 64, false);
    try {
      await pool.ready();
      const e = sign(sk, 1, [], 'alone');
      expect(await pool.verify(e)).toBe(true);
      expect(pool.ranInline).toBe(0);
    } finally {
      await pool.close();
    }
  });
});

describe('relay with verifyThreads', () => {
  it('fulfills, rejects forged (F06) and non-TOON (F01) writes exactly as without workers', async () => {
    const replies = [];
    for (const verifyThreads of [0, 2]) {
      const t = await startTestRelay({ verifyThreads });
      const account = t.secrets.issue('w');
      const e = sign(sk, 1, [], `threads ${verifyThreads}`);
      const ok = await t.relay.handlePrepare(paidPrepare(e, account));
      const forged = (await t.relay.handlePrepare(
        paidPrepare(e, account, { data: encodeEventBytes({ ...e, content: 'x' }) }),
      )) as IlpReject;
      const junk = (await t.relay.handlePrepare(
        paidPrepare(e, account, { data: new TextEncoder().encode('[[[') }),
      )) as IlpReject;
      expect(ok.type).toBe(IlpPacketType.Fulfill);
      expect(await t.store.get(e.id)).toEqual(e);
      replies.push([forged.code, junk.code, junk.message.replace(e.id, '')]);
      await t.close();
    }
    expect(replies[0]).toEqual(replies[1]);
    expect(replies[0]!.slice(0, 2)).toEqual(['F06', 'F01']);
  });
});
