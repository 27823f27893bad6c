// Fuzz: random bytes and damaged events through decodeEvent and peekKind. Every input either decodes or
// throws ToonError; nothing else escapes, and no case takes long (a loose bound that still catches hangs).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEvent, peekKind, ToonError } from '../../src/toon/index.js';
import { mutatedEvent } from './mutations.js';

const CASE_BUDGET_MS = 1000; // loose: the machine is shared; a hang would take far longer

function onlyToonErrors(input: string | Uint8Array): void {
  for (const fn of [() => decodeEvent(input), () => peekKind(input)]) {
    const started = performance.now();
    try {
      fn();
    } catch (error) {
      if (!(error instanceof ToonError)) throw new Error(`non-ToonError escaped: ${String(error)}`);
    }
    expect(performance.now() - started).toBeLessThan(CASE_BUDGET_MS);
  }
}

/** Bytes drawn mostly from TOON's structural alphabet, so the decoder gets past its first checks. */
const toonishBytes = fc
  .array(
    fc.oneof(
      fc.constantFrom(...Buffer.from('kind: 1\n  -[]{},|":#\\\r\t0e.ab\u00e9')),
      fc.integer({ min: 0, max: 255 }),
    ),
    { maxLength: 300 },
  )
  .map((bytes) => new Uint8Array(bytes));

describe('fuzz decodeEvent and peekKind', () => {
  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => onlyToonErrors(bytes)),
      { seed: 1, numRuns: 3000 },
    );
  });

  it('random TOON-alphabet bytes, as bytes and as text', () => {
    fc.assert(
      fc.property(toonishBytes, (bytes) => {
        onlyToonErrors(bytes);
        onlyToonErrors(Buffer.from(bytes).toString('latin1'));
      }),
      { seed: 2, numRuns: 3000 },
    );
  });

  it('random strings, including lone surrogates', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => onlyToonErrors(text)),
      { seed: 3, numRuns: 2000 },
    );
  });

  it('mutated valid events', () => {
    fc.assert(
      fc.property(mutatedEvent, (bytes) => onlyToonErrors(bytes)),
      { seed: 4, numRuns: 3000 },
    );
  });

  it('pathological sizes stay bounded', () => {
    const deep = Array.from({ length: 5000 }, (_, depth) => `${'  '.repeat(depth)}a:`).join('\n');
    onlyToonErrors(deep);
    onlyToonErrors(`kind: 1\n${'x: "'.repeat(20000)}`);
    onlyToonErrors(`${'\n'.repeat(100000)}kind: 1`);
    expect(() => decodeEvent(new Uint8Array(2 * 1024 * 1024))).toThrow(ToonError);
  });
});
