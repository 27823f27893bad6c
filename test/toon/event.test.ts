import { describe, expect, it } from 'vitest';
import {
  decodeEvent,
  encodeEvent,
  encodeEventBytes,
  MAX_TOON_DEPTH,
  peekKind,
  ToonError,
  toonDecode,
  toonEncode,
} from '../../src/toon/index.js';
import { sampleEvent } from './helpers.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ToonError);
    return (error as ToonError).code;
  }
  throw new Error('expected a ToonError, nothing was thrown');
}

describe('event round trip', () => {
  const cases: Record<string, Partial<Parameters<typeof sampleEvent>[0]>> = {
    'content with a kind line': { content: 'x\nkind: 1\nkind: 2' },
    'tags with kind lines': { tags: [['kind: 1'], ['e', '\nkind: 9']] },
    'newlines and CRLF': { content: 'line1\nline2\r\nline3\n' },
    quotes: { content: 'he said "kind: 1"', tags: [['"', '""']] },
    backslashes: { content: 'C:\\path\\n\\\\', tags: [['\\']] },
    unicode: { content: 'é ü 中文 ﬁ', tags: [['t', 'ünïcødé']] },
    emoji: { content: '🎉🚀 👩‍👩‍👧', tags: [['emoji', '🎉']] },
    'empty content': { content: '' },
    'empty tags list': { tags: [] },
    'empty tag and empty strings': { tags: [[], [''], ['', '']] },
    'number- and keyword-like strings': { content: '42', tags: [['1', 'true', 'null', '-1', '1e3', '0x1']] },
    'delimiters and structure characters': {
      content: '- [1]: a',
      tags: [['a,b', 'c|d', '{x}', '[y]', 'k: v']],
    },
    'leading/trailing spaces and tabs': { content: ' x ', tags: [['\t', ' ', 'a\tb']] },
    'comment-like and BOM-like strings': { content: '# not a comment', tags: [['#x', '\ufeffkind: 3']] },
    'control characters': { content: '\u0000\u0001\u001f\u007f' },
    'numeric-looking hex id': { id: '1'.repeat(64), pubkey: '0'.repeat(64) },
    'kind 0 and max created_at': { kind: 0, created_at: Number.MAX_SAFE_INTEGER },
    'kind 65535': { kind: 65535 },
  };
  for (const [name, overrides] of Object.entries(cases)) {
    it(name, () => {
      const event = sampleEvent(overrides);
      const text = encodeEvent(event);
      expect(decodeEvent(text)).toEqual(event);
      expect(decodeEvent(encodeEventBytes(event))).toEqual(event);
      expect(peekKind(text)).toBe(event.kind);
      expect(peekKind(encodeEventBytes(event))).toBe(event.kind);
    });
  }

  it('writes the fields in NIP-01 order, whatever the input order', () => {
    const { sig, content, tags, kind, created_at, pubkey, id } = sampleEvent();
    const text = encodeEvent({ sig, content, tags, kind, created_at, pubkey, id });
    expect(text.split('\n').map((line) => line.split(/[:[]/)[0])).toEqual([
      'id',
      'pubkey',
      'created_at',
      'kind',
      'tags',
      '  - ',
      'content',
      'sig',
    ]);
  });

  it('escapes newlines, so content cannot fake a top-level line', () => {
    const text = encodeEvent(sampleEvent({ content: 'a\nkind: 1' }));
    expect(text).toContain('content: "a\\nkind: 1"');
    expect(text.split('\n').filter((line) => line.startsWith('kind'))).toEqual(['kind: 5065']);
  });

  it('encodes bytes as UTF-8', () => {
    const event = sampleEvent({ content: 'é🎉' });
    expect(new TextDecoder().decode(encodeEventBytes(event))).toBe(encodeEvent(event));
  });
});

describe('decodeEvent rejects', () => {
  const valid = encodeEvent(sampleEvent());
  const replaceLine = (prefix: string, line: string) =>
    valid
      .split('\n')
      .map((l) => (l.startsWith(prefix) ? line : l))
      .join('\n');

  it('invalid UTF-8 bytes', () => {
    const bytes = encodeEventBytes(sampleEvent({ content: 'xx' }));
    const at = bytes.indexOf(0x78);
    bytes[at] = 0xff;
    expect(codeOf(() => decodeEvent(bytes))).toBe('TOON_ENCODING');
    bytes[at] = 0xc3; // a lead byte followed by an ASCII byte
    expect(codeOf(() => decodeEvent(bytes))).toBe('TOON_ENCODING');
  });

  it('lone surrogates in a string input', () => {
    expect(codeOf(() => decodeEvent(replaceLine('content', 'content: "\ud800"')))).toBe('TOON_ENCODING');
  });

  it('inputs over maxBytes', () => {
    expect(codeOf(() => decodeEvent(valid, { maxBytes: 100 }))).toBe('TOON_TOO_LARGE');
    expect(codeOf(() => decodeEvent(new TextEncoder().encode(valid), { maxBytes: 100 }))).toBe(
      'TOON_TOO_LARGE',
    );
  });

  it('TOON syntax errors', () => {
    expect(codeOf(() => decodeEvent(`${valid}\n   x: 1`))).toBe('TOON_SYNTAX');
    expect(codeOf(() => decodeEvent(replaceLine('content', 'content: "unterminated')))).toBe('TOON_SYNTAX');
    expect(codeOf(() => decodeEvent(valid.replace('tags[1]', 'tags[2]')))).toBe('TOON_SYNTAX');
  });

  const shapeCases: Record<string, string> = {
    'root array': '[1]: 1',
    'root primitive': 'hello',
    'empty document': '',
    'missing field': valid
      .split('\n')
      .filter((l) => !l.startsWith('sig'))
      .join('\n'),
    'extra field': `${valid}\nextra: 1`,
    'uppercase id': replaceLine('id', `id: ${'A'.repeat(64)}`),
    'short pubkey': replaceLine('pubkey', `pubkey: ${'b'.repeat(63)}`),
    'long sig': replaceLine('sig', `sig: ${'c'.repeat(130)}`),
    'numeric id': replaceLine('id', `id: ${'1'.repeat(64)}`),
    'negative created_at': replaceLine('created_at', 'created_at: -1'),
    'fractional created_at': replaceLine('created_at', 'created_at: 1.5'),
    'unsafe created_at': replaceLine('created_at', 'created_at: 9007199254740993'),
    'kind as string': replaceLine('kind', 'kind: "1"'),
    'kind over 65535': replaceLine('kind', 'kind: 65536'),
    'negative kind': replaceLine('kind', 'kind: -1'),
    'kind with leading zero (a string)': replaceLine('kind', 'kind: 01'),
    'tags not an array': replaceLine('tags', 'tags: x').replace(/\n {2}- .*/g, ''),
    'tag not an array': replaceLine('  - ', '  - x'),
    'tag element a number': replaceLine('  - ', '  - [2]: t,1'),
    'content a number': replaceLine('content', 'content: 1'),
    'content an object': replaceLine('content', 'content:'),
  };
  for (const [name, text] of Object.entries(shapeCases)) {
    it(name, () => {
      expect(codeOf(() => decodeEvent(text))).toBe('TOON_SHAPE');
    });
  }

  it('but accepts number forms that decode to an integer kind, as the library does', () => {
    for (const [literal, kind] of [
      ['1.0', 1],
      ['5.065e3', 5065],
      ['-0', 0],
      ['10E1', 100],
    ] as const) {
      const text = replaceLine('kind', `kind: ${literal}`);
      expect(decodeEvent(text).kind).toBe(kind);
      expect(peekKind(text)).toBe(kind);
    }
  });

  it('does not verify signatures (that is src/nostr)', () => {
    expect(decodeEvent(valid).sig).toBe('c'.repeat(128));
  });
});

describe('toonEncode / toonDecode wrappers', () => {
  it('round-trip generic values', () => {
    const value = { a: 1, b: [1, 2], c: { d: 'x' } };
    expect(toonDecode(toonEncode(value))).toEqual(value);
  });
  it('map encoder errors to ToonError', () => {
    expect(codeOf(() => toonEncode({ a: '\ud800' }))).toBe('TOON_ENCODING');
    expect(codeOf(() => toonEncode({ a: 1 }, { delimiter: ';' as ',' }))).toBe('TOON_ENCODING');
  });
  it('map decoder errors to ToonError with the library message', () => {
    const error = (() => {
      try {
        toonDecode('a[2]: 1');
      } catch (e) {
        return e as ToonError;
      }
    })();
    expect(error?.code).toBe('TOON_SYNTAX');
    expect(error?.message).toMatch(/Expected 2 inline-form values/);
    expect(codeOf(() => toonDecode(42 as unknown as string))).toBe('TOON_SYNTAX');
  });
  it('map a stack overflow on deep nesting to TOON_TOO_LARGE', () => {
    let text = 'a:';
    for (let depth = 1; depth < 20000; depth++) text += `\n${'  '.repeat(depth)}a:`;
    expect(codeOf(() => toonDecode(text))).toBe('TOON_TOO_LARGE');
  });
  it('refuse a document nested deeper than MAX_TOON_DEPTH before decoding it, whatever the stack has room for', () => {
    // Where the stack overflows depends on what ran before in the process (a warm JIT uses smaller frames), and an
    // overflow inside the library came out once as TOON_SYNTAX in a full run. The depth is now checked first.
    const nested = (levels: number, indent = '  ') => {
      let text = 'a:';
      for (let depth = 1; depth <= levels; depth++)
        text += `\n${indent.repeat(depth)}a: ${depth === levels ? 1 : ''}`;
      return text.replace(/: \n/g, ':\n');
    };
    expect(JSON.stringify(toonDecode(nested(MAX_TOON_DEPTH)))).toContain(':1}');
    // Levels as the library counts them (indentSize): 200 levels of 4 spaces are 200, not 400.
    expect(JSON.stringify(toonDecode(nested(200, '    '), { indentSize: 4 }))).toContain(':1}');
    const error = (() => {
      try {
        toonDecode(nested(MAX_TOON_DEPTH + 1));
      } catch (e) {
        return e as ToonError;
      }
    })();
    expect(error?.code).toBe('TOON_TOO_LARGE');
    expect(error?.message).toMatch(/nests 257 levels deep, over the 256 limit/);
  });
});

describe('encodeEvent validates its input', () => {
  it('refuses a malformed event instead of emitting undecodable TOON', () => {
    expect(codeOf(() => encodeEvent(sampleEvent({ kind: 70000 })))).toBe('TOON_SHAPE');
    expect(codeOf(() => encodeEvent(sampleEvent({ tags: [[1 as unknown as string]] })))).toBe('TOON_SHAPE');
    expect(codeOf(() => encodeEvent({ ...sampleEvent(), extra: 1 } as never))).toBe('TOON_SHAPE');
  });
});
