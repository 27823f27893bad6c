import { SkillError } from './errors.js';

const MAX_KIND = 65535;

/** Every kind from `from` to `to` inclusive: `kindRange(5000, 5999)` for all NIP-90 job requests. */
export function kindRange(from: number, to: number): number[] {
  if (!isKind(from) || !isKind(to) || from > to) {
    throw new SkillError(
      'invalid_skill',
      `kind range ${from}-${to} must be integers with 0 <= from <= to <= ${MAX_KIND}`,
    );
  }
  const kinds: number[] = [];
  for (let k = from; k <= to; k++) kinds.push(k);
  return kinds;
}

export function isKind(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= MAX_KIND;
}

/**
 * Parses a kinds list as written in an agent skill file: `[1, 5065, 5000-5999]` or `1, 5000-5999`.
 * Returns the expanded, de-duplicated kinds in ascending order.
 */
export function parseKindList(text: string): number[] {
  const inner = text.trim().replace(/^\[/, '').replace(/\]$/, '').trim();
  if (inner === '')
    throw new SkillError('invalid_agent_file', 'kinds list is empty: write e.g. kinds: [1, 5000-5999]');
  const out = new Set<number>();
  for (const part of inner.split(',')) {
    const item = part.trim();
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(item);
    if (range) {
      for (const k of kindRange(Number(range[1]), Number(range[2]))) out.add(k);
    } else if (/^\d+$/.test(item) && isKind(Number(item))) {
      out.add(Number(item));
    } else {
      throw new SkillError(
        'invalid_agent_file',
        `"${item}" in the kinds list is not a kind (0-${MAX_KIND}) or a range like 5000-5999`,
      );
    }
  }
  return [...out].sort((a, b) => a - b);
}
