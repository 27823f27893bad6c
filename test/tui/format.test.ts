import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cell, formatBytes, formatM2M, sanitize, shortHex, truncate } from '../../src/tui/format.js';
import { fitLine, line, plainText, seg } from '../../src/tui/line.js';

describe('formatM2M', () => {
  it('formats base units exactly', () => {
    expect(formatM2M(8_750_000_000_000_000n)).toBe('0.00875 M2M');
    expect(formatM2M(50n * 10n ** 18n)).toBe('50 M2M');
    expect(formatM2M(49_991_250_000_000_000_000n)).toBe('49.99125 M2M');
    expect(formatM2M(1n)).toBe('0.000000000000000001 M2M');
    expect(formatM2M(0n)).toBe('0 M2M');
    expect(formatM2M(-5n * 10n ** 17n)).toBe('-0.5 M2M');
    expect(formatM2M(123n * 10n ** 18n, false)).toBe('123');
  });

  it('round-trips through decimal text for any amount', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 96n }), (n) => {
        const [whole, frac = ''] = formatM2M(n, false).split('.');
        expect(BigInt(whole!) * 10n ** 18n + BigInt(frac.padEnd(18, '0'))).toBe(n);
      }),
    );
  });
});

describe('text helpers', () => {
  it('truncates with an ellipsis and pads cells', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
    expect(truncate('abc', 0)).toBe('');
    expect(cell('ab', 4)).toBe('ab  ');
    expect(cell('ab', 4, 'right')).toBe('  ab');
    expect(cell('abcdef', 4)).toBe('abc…');
    expect(shortHex('0x39eaF99Cd4965A28DFe8B1455DD42aB49D0836B9')).toBe('0x39ea…36B9');
    expect(shortHex('0x1234')).toBe('0x1234');
    expect(formatBytes(875)).toBe('875 B');
    expect(formatBytes(120_000)).toBe('120 kB');
  });

  it('sanitize removes escape sequences and control characters', () => {
    expect(sanitize('a\u001b[31mred\u001b[0m b')).toBe('ared b');
    expect(sanitize('x\u001b]0;title\u0007y')).toBe('xy');
    expect(sanitize('tab\there\nnew\rline\u0000\u009b')).toBe('tab  here new line  ');
  });
});

describe('fitLine', () => {
  const text = fc.string({
    unit: fc.constantFrom('a', 'b', ' ', '·', '✓', '\u001b', '\n', '[', '3', 'm'),
    maxLength: 60,
  });
  it('never exceeds the width, and keeps everything when it fits', () => {
    fc.assert(
      fc.property(
        fc.array(text, { maxLength: 5 }),
        fc.array(text, { maxLength: 3 }),
        fc.nat(100),
        (l, r, width) => {
          const input = line(
            l.map((t) => seg(t)),
            r.length ? r.map((t) => seg(t)) : undefined,
          );
          const out = plainText(fitLine(input, width));
          expect(Array.from(out).length).toBeLessThanOrEqual(width);
          expect(Array.from(out).some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
          const left = l.map(sanitize).join(''); // each segment is cleaned on its own
          if (Array.from(left).length <= width) expect(out.startsWith(left)).toBe(true);
          else if (width > 0) expect(out.endsWith('…')).toBe(true);
        },
      ),
    );
  });

  it('puts the right part flush right when both fit, and drops it otherwise', () => {
    const l = line([seg('left')], [seg('right')]);
    expect(plainText(fitLine(l, 20))).toBe(`left${' '.repeat(11)}right`);
    expect(plainText(fitLine(l, 10))).toBe('left');
    expect(plainText(fitLine(l, 3))).toBe('le…');
  });
});
