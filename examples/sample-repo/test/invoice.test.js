import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatM2M, M2M, writeFee } from '../invoice.js';

test('875 bytes at 0.00001 M2M per byte cost 0.00875 M2M', () => {
  assert.equal(formatM2M(writeFee(875, 10n ** 13n)), '0.00875');
});

test('whole amounts print without a fraction', () => {
  assert.equal(formatM2M(50n * M2M), '50');
});

test('a channel of 50 M2M after one write has 49.99125 M2M left', () => {
  assert.equal(formatM2M(50n * M2M - writeFee(875, 10n ** 13n)), '49.99125');
});

test('a negative byte count is refused', () => {
  assert.throws(() => writeFee(-1, 1n), RangeError);
});
