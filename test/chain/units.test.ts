import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChainError, formatM2M, parseM2M } from '../../src/chain/index.js';

describe('M2M units', () => {
  it('formats and parses the journeys figures', () => {
    expect(formatM2M(8750000000000000n)).toBe('0.00875');
    expect(formatM2M(875n * 10000000000000n)).toBe('0.00875'); // 875 bytes x 0.00001 M2M
    expect(parseM2M('49.99125')).toBe(49991250000000000000n);
    expect(formatM2M(50n * 10n ** 18n)).toBe('50');
    expect(formatM2M(0n)).toBe('0');
    expect(formatM2M(1n)).toBe('0.000000000000000001');
    expect(formatM2M(-1500000000000000000n)).toBe('-1.5');
    expect(parseM2M('0.000000000000000001')).toBe(1n);
    expect(parseM2M(' 7 ')).toBe(7n * 10n ** 18n);
  });

  it('rejects what is not an exact amount', () => {
    for (const bad of ['', '.5', '1.', '-1', '1e18', '1,5', 'abc', '0.0000000000000000001', '1.2.3']) {
      expect(() => parseM2M(bad), bad).toThrow(ChainError);
    }
    expect(() => parseM2M('0.0000000000000000001')).toThrow(/19 decimal places/);
  });

  it('round-trips every non-negative amount', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), (n) => {
        expect(parseM2M(formatM2M(n))).toBe(n);
      }),
      { numRuns: 2000 },
    );
  });
});
