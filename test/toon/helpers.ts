// Shared generators for the toon tests: valid NIP-01 events (shape only; signatures are src/nostr's job).
import fc from 'fast-check';
import type { NostrEvent } from '../../src/nostr/types.js';

const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });

/** Strings biased towards what breaks line-based formats: kind lines, newlines, quotes, escapes, emoji. */
export const trickyString = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ maxLength: 20 }),
  fc.constantFrom(
    '',
    'kind: 1',
    '\nkind: 1',
    'a\nkind: 7\n',
    '"kind": 2',
    '  kind: 3',
    'kind: 1\r\n',
    '\\',
    '"',
    '\\n',
    '# comment',
    '- [2]: a,b',
    '[1]: x',
    '\ufeffkind: 4',
    '\t',
    '🎉 é ü 中文',
    'true',
    '42',
    '-1',
    '1e3',
    'null',
    ' padded ',
    'a,b|c',
  ),
  fc
    .array(
      fc.constantFrom('kind: 1', '\n', '"', '\\', ',', ':', ' ', '#', '-', '[', ']', '{', 'x', '\r', '\t'),
      {
        maxLength: 12,
      },
    )
    .map((parts) => parts.join('')),
);

export const validEvent: fc.Arbitrary<NostrEvent> = fc.record({
  id: hex(64),
  pubkey: hex(64),
  created_at: fc.oneof(fc.integer({ min: 0, max: 2 ** 32 }), fc.constant(Number.MAX_SAFE_INTEGER)),
  kind: fc.oneof(
    fc.integer({ min: 0, max: 65535 }),
    fc.constantFrom(0, 1, 5065, 6065, 7000, 10032, 23194, 31990, 65535),
  ),
  tags: fc.array(fc.array(trickyString, { maxLength: 5 }), { maxLength: 6 }),
  content: trickyString,
  sig: hex(128),
});

export function sampleEvent(overrides: Partial<NostrEvent> = {}): NostrEvent {
  return {
    id: 'a'.repeat(64),
    pubkey: 'b'.repeat(64),
    created_at: 1700000000,
    kind: 5065,
    tags: [['t', 'ci-cd-linux']],
    content: 'hello',
    sig: 'c'.repeat(128),
    ...overrides,
  };
}
