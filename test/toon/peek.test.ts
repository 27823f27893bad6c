import { describe, expect, it } from 'vitest';
import { encodeEvent, peekKind, ToonError } from '../../src/toon/index.js';
import { sampleEvent } from './helpers.js';
import { oracle, tryPeek } from './oracle.js';

const valid = encodeEvent(
  sampleEvent({
    kind: 5065,
    tags: [
      ['t', 'ci-cd-linux'],
      ['kind', '1'],
    ],
  }),
);
const lines = valid.split('\n');
const kindIndex = lines.indexOf('kind: 5065');
const withKindLine = (...replacement: string[]) =>
  [...lines.slice(0, kindIndex), ...replacement, ...lines.slice(kindIndex + 1)].join('\n');

/**
 * Each case: a document, and what the real decoder makes of it. peekKind must return the decoder's kind
 * when the decoder produces one, and must throw ToonError whenever it does not.
 */
const cases: Record<string, string> = {
  canonical: valid,
  'no space after colon': withKindLine('kind:5065'),
  'spaces before colon': withKindLine('kind  : 5065'),
  'extra spaces after colon': withKindLine('kind:    5065'),
  'trailing spaces': withKindLine('kind: 5065   '),
  'CRLF line': withKindLine('kind: 5065\r'),
  'CRLF everywhere': valid.replaceAll('\n', '\r\n'),
  'trailing spaces then CR': withKindLine('kind: 5065  \r'),
  'CR then space (CR kept, so a string)': withKindLine('kind: 5065\r '),
  'two CRs': withKindLine('kind: 5065\r\r'),
  'BOM at start': `\ufeff${valid}`,
  'two BOMs at start': `\ufeff\ufeff${valid}`,
  'BOM before the kind line (line 1)': `\ufeff${withKindLine()}`.replace('\ufeff', '\ufeffkind: 3\n'),
  'BOM on a later kind line': withKindLine('\ufeffkind: 5065'),
  'quoted key': withKindLine('"kind": 5065'),
  'quoted key, space before colon': withKindLine('"kind" : 5065'),
  'escaped quoted key': withKindLine('"\\u006bind": 5065'),
  'escaped quoted key with bad escape': withKindLine('"ki\\qnd": 5065'),
  'quoted key as array header': withKindLine('"kind"[1]: 5065'),
  'leading zero': withKindLine('kind: 05065'),
  zero: withKindLine('kind: 0'),
  'double zero': withKindLine('kind: 00'),
  'negative zero': withKindLine('kind: -0'),
  'decimal .0': withKindLine('kind: 5065.0'),
  fraction: withKindLine('kind: 5065.5'),
  exponent: withKindLine('kind: 5.065e3'),
  'upper exponent': withKindLine('kind: 5065E0'),
  'negative exponent': withKindLine('kind: 50650e-1'),
  'huge exponent': withKindLine('kind: 1e400'),
  'plus sign': withKindLine('kind: +5065'),
  negative: withKindLine('kind: -1'),
  'over 65535': withKindLine('kind: 65536'),
  max: withKindLine('kind: 65535'),
  'six digits': withKindLine('kind: 100000'),
  hex: withKindLine('kind: 0x13c9'),
  'quoted string': withKindLine('kind: "5065"'),
  null: withKindLine('kind: null'),
  true: withKindLine('kind: true'),
  'empty value (nested object)': withKindLine('kind:'),
  'nested object': withKindLine('kind:', '  a: 1'),
  'inline array': withKindLine('kind[1]: 5065'),
  'empty array': withKindLine('kind: []'),
  'tab after colon': withKindLine('kind:\t5065'),
  'tab after value': withKindLine('kind: 5065\t'),
  'tab before colon': withKindLine('kind\t: 5065'),
  'hash after value': withKindLine('kind: 5065 # job'),
  'kinda key': withKindLine('kinda: 5065'),
  'kind with space in key': withKindLine('kind x: 5065'),
  'missing kind': withKindLine(),
  'duplicate kind': withKindLine('kind: 5065', 'kind: 5065'),
  'duplicate kind, quoted': withKindLine('kind: 5065', '"kind": 1'),
  'kind indented under tags': withKindLine().replace('tags[2]:', 'tags[2]:\n  kind: 5065'),
  'kind line indented (over-indented)': withKindLine('  kind: 5065'),
  'kind line indented by one space': withKindLine(' kind: 5065'),
  'kind line after a tab': withKindLine('\tkind: 5065'),
  'indented line under kind': withKindLine('kind: 5065', '  extra: 1'),
  'blank and comment lines under kind': withKindLine('kind: 5065', '', '  ', '# note', '  # note'),
  'commented-out kind': withKindLine('# kind: 1', 'kind: 5065'),
  'only a commented kind': withKindLine('# kind: 1'),
  'blank lines before the first line': `\n\n  \n${valid}`,
  'comments before the first line': `# hello\n  # indented comment\n${valid}`,
  'indented first line': `  ${valid}`,
  'kind first, alone': 'kind: 7',
  'kind first, then indented line': 'kind: 7\n  x: 1',
  'root array': '[1]: 5065',
  'root array then kind': '[0]:\nkind: 1',
  'root empty array then kind': '[]\nkind: 1',
  'root primitive': 'hello',
  'primitive first line then kind': 'hello\nkind: 1',
  'keyless header at top level after kind': 'kind: 1\n[1]: 2',
  'only kind in a nested object': 'a:\n  kind: 1',
  'kind inside a list item': 'a[1]:\n  - kind: 1',
  'content holding a kind line': withKindLine().replace('content: hello', 'content: "x\\nkind: 1"'),
  'empty document': '',
  'only whitespace': '   \n\n',
};

describe('peekKind agrees with the decoder on edge cases', () => {
  for (const [name, text] of Object.entries(cases)) {
    it(name, () => {
      const expected = oracle(text);
      for (const input of [text, new TextEncoder().encode(text)]) {
        const got = tryPeek(() => peekKind(input));
        if (expected.type === 'kind') {
          expect(got).toEqual({ ok: true, kind: expected.kind });
        } else {
          expect(got.ok, `decoder says ${expected.type}, peekKind returned a kind`).toBe(false);
          if (!got.ok) expect(got.error).toBeInstanceOf(ToonError);
        }
      }
    });
  }

  it('sees through the BOM as three bytes', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('kind: 9')]);
    expect(peekKind(bytes)).toBe(9);
  });

  it('reads a Uint8Array view at an offset into a larger buffer', () => {
    const encoded = new TextEncoder().encode(`xxxx${valid}`);
    expect(peekKind(encoded.subarray(4))).toBe(5065);
    expect(peekKind(Buffer.from(valid))).toBe(5065);
  });

  it('ignores non-ASCII bytes elsewhere, refuses them in the kind value', () => {
    expect(peekKind(new TextEncoder().encode(`${valid}\n\u00e9t\u00e9: 1`))).toBe(5065);
    expect(() => peekKind(new TextEncoder().encode(withKindLine('kind: 5065\u00a0')))).toThrow(ToonError);
  });

  it('rejects non-string, non-bytes input with ToonError', () => {
    expect(() => peekKind(42 as unknown as string)).toThrow(ToonError);
  });
});
