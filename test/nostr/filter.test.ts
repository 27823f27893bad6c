import { describe, expect, it } from 'vitest';
import { NostrError } from '../../src/nostr/errors.js';
import { finalizeEvent } from '../../src/nostr/event.js';
import { applyLimit, matchFilter, matchFilters, validateFilter } from '../../src/nostr/filter.js';
import { generateSecretKey, getPublicKey } from '../../src/nostr/keys.js';
import type { Filter, NostrEvent } from '../../src/nostr/types.js';

const sk = generateSecretKey();
const pk = getPublicKey(sk);
const event = finalizeEvent(
  {
    kind: 5065,
    created_at: 1000,
    tags: [
      ['t', 'ci-cd-linux'],
      ['p', 'a'.repeat(64)],
      ['e', 'b'.repeat(64), 'wss://relay'],
      ['T', 'Upper'],
      ['param'],
    ],
    content: 'job',
  },
  sk,
);

describe('matchFilter', () => {
  const cases: [string, Filter, boolean][] = [
    ['empty filter matches everything', {}, true],
    ['ids hit', { ids: [event.id] }, true],
    ['ids miss', { ids: ['0'.repeat(64)] }, false],
    ['ids empty list matches nothing', { ids: [] }, false],
    ['ids prefix is not a match', { ids: [event.id.slice(0, 10)] }, false],
    ['authors hit among several', { authors: ['1'.repeat(64), pk] }, true],
    ['authors miss', { authors: ['1'.repeat(64)] }, false],
    ['kinds hit', { kinds: [1, 5065] }, true],
    ['kinds miss', { kinds: [6065] }, false],
    ['since equal is inclusive', { since: 1000 }, true],
    ['since after', { since: 1001 }, false],
    ['until equal is inclusive', { until: 1000 }, true],
    ['until before', { until: 999 }, false],
    ['since == until == created_at', { since: 1000, until: 1000 }, true],
    ['#t hit', { '#t': ['docker-build-amd64', 'ci-cd-linux'] }, true],
    ['#t miss', { '#t': ['docker-build-amd64'] }, false],
    ['#p hit', { '#p': ['a'.repeat(64)] }, true],
    ['#e matches the second element only', { '#e': ['wss://relay'] }, false],
    ['#e hit', { '#e': ['b'.repeat(64)] }, true],
    ['tag names are case sensitive', { '#t': ['Upper'] }, false],
    ['#T hit', { '#T': ['Upper'] }, true],
    ['tag absent', { '#d': ['x'] }, false],
    ['tag with no value never matches', { '#x': [''] }, false],
    [
      'all fields AND together: all hit',
      { kinds: [5065], authors: [pk], '#t': ['ci-cd-linux'], since: 1, until: 2000 },
      true,
    ],
    [
      'all fields AND together: one miss',
      { kinds: [5065], authors: [pk], '#t': ['nope'], since: 1, until: 2000 },
      false,
    ],
    ['limit does not affect matching', { limit: 0 }, true],
  ];
  it.each(cases)('%s', (_name, filter, expected) => {
    expect(matchFilter(filter, event)).toBe(expected);
  });

  it('matchFilters ORs the filters', () => {
    expect(matchFilters([{ kinds: [1] }, { kinds: [5065] }], event)).toBe(true);
    expect(matchFilters([{ kinds: [1] }, { kinds: [2] }], event)).toBe(false);
    expect(matchFilters([], event)).toBe(false);
  });
});

describe('validateFilter', () => {
  it('accepts and copies every field', () => {
    const input = {
      ids: ['a'.repeat(64)],
      authors: [pk],
      kinds: [0, 65535],
      since: 0,
      until: 10,
      limit: 5,
      '#t': ['x'],
      '#P': ['y'],
    };
    const out = validateFilter(input);
    expect(out).toEqual(input);
    expect(out.ids).not.toBe(input.ids);
  });

  const bad: [string, unknown, RegExp][] = [
    ['not an object', 42, /object/],
    ['null', null, /object/],
    ['array', [], /object/],
    ['ids not array', { ids: 'a' }, /ids/],
    ['ids short hex', { ids: ['abc'] }, /ids/],
    ['authors uppercase hex', { authors: ['A'.repeat(64)] }, /authors/],
    ['kinds with string', { kinds: ['1'] }, /kinds/],
    ['kinds negative', { kinds: [-1] }, /kinds/],
    ['kinds float', { kinds: [1.5] }, /kinds/],
    ['since negative', { since: -1 }, /since/],
    ['until string', { until: '5' }, /until/],
    ['limit float', { limit: 2.5 }, /limit/],
    ['tag values not strings', { '#t': [1] }, /#t/],
    ['tag value not array', { '#t': 'x' }, /#t/],
    ['#e not hex', { '#e': ['note1abc'] }, /#e must be an array of 64-character/],
    ['#p uppercase', { '#p': ['A'.repeat(64)] }, /#p must be an array of 64-character/],
    ['multi-letter tag', { '#tt': ['x'] }, /unknown filter field '#tt'/],
    ['unknown field', { search: 'x' }, /unknown filter field 'search'/],
  ];
  it.each(bad)('rejects %s', (_name, x, message) => {
    try {
      validateFilter(x);
    } catch (err) {
      expect(err).toBeInstanceOf(NostrError);
      expect((err as NostrError).code).toBe('invalid_filter');
      expect((err as NostrError).message).toMatch(message);
      return;
    }
    throw new Error('expected validateFilter to throw');
  });
});

describe('applyLimit', () => {
  const mk = (id: string, created_at: number): NostrEvent => ({
    id: id.repeat(64),
    pubkey: pk,
    created_at,
    kind: 1,
    tags: [],
    content: '',
    sig: '0'.repeat(128),
  });
  const events = [mk('1', 10), mk('c', 30), mk('b', 20), mk('a', 30), mk('2', 20)];

  it('orders newest first, ties by lowest id first', () => {
    expect(applyLimit(events).map((e) => [e.created_at, e.id[0]])).toEqual([
      [30, 'a'],
      [30, 'c'],
      [20, '2'],
      [20, 'b'],
      [10, '1'],
    ]);
  });

  it('keeps the first `limit` and does not mutate the input', () => {
    const before = [...events];
    expect(applyLimit(events, 3).map((e) => e.id[0])).toEqual(['a', 'c', '2']);
    expect(applyLimit(events, 0)).toEqual([]);
    expect(applyLimit(events, 99)).toHaveLength(5);
    expect(events).toEqual(before);
  });
});
