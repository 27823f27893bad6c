// Reusable EventStore conformance suite: call `describeEventStoreConformance(name, factory)` from a test file.
// It relies only on the EventStore interface, so a later PostgreSQL store runs it unchanged.
import fc from 'fast-check';
import { matchFilters } from 'nostr-tools/filter';
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Filter, NostrEvent } from '../../src/nostr/types.js';
import type { EventStore } from '../../src/store/types.js';

export type StoreFactory = (options: { maxLimit: number }) => Promise<EventStore>;

const alice = generateSecretKey();
const bob = generateSecretKey();
const ALICE = getPublicKey(alice);
const BOB = getPublicKey(bob);
const BASE = 1_700_000_000;

function sign(
  sk: Uint8Array,
  kind: number,
  createdAt: number,
  tags: string[][] = [],
  content = `c${Math.random()}`,
): NostrEvent {
  // JSON round trip drops nostr-tools' Symbol(verified) marker: a store returns plain data.
  return JSON.parse(
    JSON.stringify(finalizeEvent({ kind, created_at: createdAt, tags, content }, sk)),
  ) as NostrEvent;
}

const ids = (events: NostrEvent[]) => events.map((e) => e.id);

export function describeEventStoreConformance(name: string, factory: StoreFactory): void {
  describe(`EventStore conformance: ${name}`, () => {
    let store: EventStore;
    beforeEach(async () => {
      store = await factory({ maxLimit: 50 });
    });
    afterEach(async () => {
      await store.close();
    });

    it('stores an event, reads it back by id, and reports a second save as duplicate', async () => {
      const e = sign(alice, 1, BASE, [['t', 'x']]);
      expect(await store.save(e)).toEqual({ status: 'stored', replaced: [] });
      expect(await store.get(e.id)).toEqual(e);
      expect(await store.save(e)).toEqual({ status: 'duplicate' });
      expect(await store.count([{}])).toBe(1);
      expect(await store.get('0'.repeat(64))).toBeUndefined();
    });

    it('never stores ephemeral kinds', async () => {
      const e = sign(alice, 23194, BASE);
      expect(await store.save(e)).toEqual({ status: 'ephemeral' });
      expect(await store.get(e.id)).toBeUndefined();
      expect(await store.count([{}])).toBe(0);
    });

    it('selects by ids, authors, kinds, since, until and single-letter tags', async () => {
      const a1 = sign(alice, 1, BASE + 1, [
        ['t', 'ci-cd-linux'],
        ['p', BOB],
      ]);
      const a2 = sign(alice, 5065, BASE + 2, [['t', 'docker-build-amd64']]);
      const b1 = sign(bob, 1, BASE + 3, [
        ['e', a1.id],
        ['T', 'upper'],
      ]);
      const b2 = sign(bob, 5065, BASE + 4, [
        ['t', 'ci-cd-linux'],
        ['param', 'x', 'y'],
      ]);
      for (const e of [a1, a2, b1, b2]) await store.save(e);

      expect(ids(await store.query([{ ids: [a2.id, b1.id] }]))).toEqual([b1.id, a2.id]);
      expect(ids(await store.query([{ authors: [ALICE] }]))).toEqual([a2.id, a1.id]);
      expect(ids(await store.query([{ kinds: [5065] }]))).toEqual([b2.id, a2.id]);
      expect(ids(await store.query([{ since: BASE + 2, until: BASE + 3 }]))).toEqual([b1.id, a2.id]);
      expect(ids(await store.query([{ '#t': ['ci-cd-linux'] }]))).toEqual([b2.id, a1.id]);
      expect(ids(await store.query([{ '#e': [a1.id] }]))).toEqual([b1.id]);
      expect(ids(await store.query([{ '#p': [BOB] }]))).toEqual([a1.id]);
      // Tag names are case-sensitive.
      expect(ids(await store.query([{ '#T': ['upper'] }]))).toEqual([b1.id]);
      expect(ids(await store.query([{ '#t': ['upper'] }]))).toEqual([]);
      // Fields combine with AND, values within a field with OR.
      expect(ids(await store.query([{ kinds: [5065], '#t': ['ci-cd-linux'] }]))).toEqual([b2.id]);
      expect(ids(await store.query([{ authors: [ALICE], kinds: [1, 5065], since: BASE + 2 }]))).toEqual([
        a2.id,
      ]);
      // Two tag conditions must both hold.
      expect(ids(await store.query([{ '#t': ['ci-cd-linux'], '#p': [BOB] }]))).toEqual([a1.id]);
      // Multi-letter tags are not indexed and match nothing.
      expect(ids(await store.query([{ '#param': ['x'] }]))).toEqual([]);
      // An empty array matches nothing.
      expect(await store.query([{ authors: [] }])).toEqual([]);
      expect(await store.query([{ '#t': [] }])).toEqual([]);
      expect(await store.count([{ kinds: [1] }, { '#t': ['ci-cd-linux'] }])).toBe(3);
    });

    it('returns newest first, lowest id first on ties, and applies limit per filter', async () => {
      const events: NostrEvent[] = [];
      for (let i = 0; i < 6; i++) events.push(sign(alice, 1, BASE + Math.floor(i / 2)));
      for (const e of events) await store.save(e);
      const expected = [...events].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1));

      expect(ids(await store.query([{}]))).toEqual(ids(expected));
      expect(ids(await store.query([{ limit: 3 }]))).toEqual(ids(expected.slice(0, 3)));
      expect(await store.query([{ limit: 0 }])).toEqual([]);

      // Two filters: each gets its own limit, the union is deduplicated and sorted.
      const other = sign(bob, 7, BASE - 10);
      await store.save(other);
      const got = await store.query([{ authors: [ALICE], limit: 2 }, { kinds: [7], limit: 5 }, { limit: 1 }]);
      expect(ids(got)).toEqual([...ids(expected.slice(0, 2)), other.id]);
    });

    it('caps limits at maxLimit', async () => {
      for (let i = 0; i < 60; i++) await store.save(sign(bob, 1, BASE + i));
      expect((await store.query([{}])).length).toBe(50);
      expect((await store.query([{ limit: 1000 }])).length).toBe(50);
      expect((await store.query([{}], { maxLimit: 10 })).length).toBe(10);
      expect(await store.count([{}])).toBe(60);
    });

    it('keeps one replaceable event per pubkey and kind (0, 3, 10000-19999)', async () => {
      for (const kind of [0, 3, 10032]) {
        const older = sign(alice, kind, BASE, [['t', `old${kind}`]]);
        const newer = sign(alice, kind, BASE + 5, [['t', `new${kind}`]]);
        const bobs = sign(bob, kind, BASE);
        expect(await store.save(older)).toEqual({ status: 'stored', replaced: [] });
        expect(await store.save(bobs)).toEqual({ status: 'stored', replaced: [] });
        expect(await store.save(newer)).toEqual({ status: 'stored', replaced: [older.id] });
        expect(await store.save(older)).toEqual({ status: 'stale', newerId: newer.id });
        expect(ids(await store.query([{ kinds: [kind], authors: [ALICE] }]))).toEqual([newer.id]);
        expect(await store.get(older.id)).toBeUndefined();
        // The replaced event's tags went with it.
        expect(await store.query([{ '#t': [`old${kind}`] }])).toEqual([]);
        expect(ids(await store.query([{ '#t': [`new${kind}`] }]))).toEqual([newer.id]);
      }
    });

    it('breaks replaceable ties at equal created_at by keeping the lowest id', async () => {
      const [x, y] = [sign(alice, 0, BASE), sign(alice, 0, BASE)].sort((a, b) => (a.id < b.id ? -1 : 1)) as [
        NostrEvent,
        NostrEvent,
      ];
      await store.save(y);
      expect(await store.save(x)).toEqual({ status: 'stored', replaced: [y.id] });
      expect(await store.save(y)).toEqual({ status: 'stale', newerId: x.id });
    });

    it('keeps one addressable event per pubkey, kind and d tag', async () => {
      const a = sign(alice, 31990, BASE, [['d', 'alpha']]);
      const b = sign(alice, 31990, BASE, [['d', 'beta']]);
      const noD = sign(alice, 31990, BASE);
      const emptyD = sign(alice, 31990, BASE + 1, [['d', '']]);
      const a2 = sign(alice, 31990, BASE + 1, [['d', 'alpha']]);
      for (const e of [a, b, noD]) expect((await store.save(e)).status).toBe('stored');
      expect(await store.save(a2)).toEqual({ status: 'stored', replaced: [a.id] });
      // A missing d tag and an empty one are the same slot.
      expect(await store.save(emptyD)).toEqual({ status: 'stored', replaced: [noD.id] });
      expect(new Set(ids(await store.query([{ kinds: [31990] }])))).toEqual(
        new Set([a2.id, b.id, emptyD.id]),
      );
      expect(ids(await store.query([{ '#d': ['alpha'] }]))).toEqual([a2.id]);
    });

    it('keeps every regular event, even with equal content and time', async () => {
      const one = sign(alice, 1, BASE, [], 'same');
      const two = sign(alice, 1, BASE, [], 'same');
      await store.save(one);
      await store.save(two);
      expect(await store.count([{ kinds: [1] }])).toBe(one.id === two.id ? 1 : 2);
    });

    it('agrees with nostr-tools matchFilters on random events and filters', async () => {
      const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
      const pubkeys = ['a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64)];
      const tagValues = ['x', 'y', 'z'];
      const eventArb = fc.record({
        id: hex(64),
        pubkey: fc.constantFrom(...pubkeys),
        created_at: fc.integer({ min: BASE, max: BASE + 20 }),
        kind: fc.constantFrom(1, 7, 5065, 6065),
        tags: fc.array(fc.tuple(fc.constantFrom('e', 'p', 't', 'T'), fc.constantFrom(...tagValues)), {
          maxLength: 3,
        }),
        content: fc.constant(''),
        sig: fc.constant('0'.repeat(128)),
      });
      const filterArb = fc.record(
        {
          authors: fc.subarray(pubkeys),
          kinds: fc.subarray([1, 7, 5065, 6065]),
          since: fc.integer({ min: BASE, max: BASE + 20 }),
          until: fc.integer({ min: BASE, max: BASE + 20 }),
          limit: fc.integer({ min: 0, max: 8 }),
          '#t': fc.subarray(tagValues),
          '#p': fc.subarray(tagValues),
        },
        { requiredKeys: [] },
      );
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(eventArb, { selector: (e) => e.id, maxLength: 25 }),
          fc.array(filterArb, { minLength: 1, maxLength: 3 }),
          async (events, filters) => {
            const fresh = await factory({ maxLimit: 50 });
            try {
              for (const e of events) await fresh.save(e as NostrEvent);
              const sorted = [...(events as NostrEvent[])].sort(
                (a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1),
              );
              const expected = new Set<string>();
              for (const f of filters as Filter[]) {
                const { limit, ...rest } = f;
                const matching = sorted.filter((e) => matchFilters([rest], e));
                for (const e of matching.slice(0, limit ?? 50)) expected.add(e.id);
              }
              const got = await fresh.query(filters as Filter[]);
              expect(ids(got)).toEqual(sorted.filter((e) => expected.has(e.id)).map((e) => e.id));
            } finally {
              await fresh.close();
            }
          },
        ),
        { numRuns: 60 },
      );
    });

    it("NIP-09: a kind 5 deletes the author's own events by id, not others', and they cannot be stored again", async () => {
      const mine = sign(alice, 1, BASE + 1);
      const theirs = sign(bob, 1, BASE + 2);
      const later = sign(alice, 1, BASE + 3); // deleted before it arrives
      await store.save(mine);
      await store.save(theirs);
      const request = sign(alice, 5, BASE + 10, [
        ['e', mine.id],
        ['e', theirs.id],
        ['e', later.id],
      ]);
      const outcome = await store.save(request);
      expect(outcome).toEqual({ status: 'stored', replaced: [], deleted: [mine.id] });
      expect(await store.get(mine.id)).toBeUndefined();
      expect(await store.get(theirs.id)).toEqual(theirs);
      expect(ids(await store.query([{ kinds: [1] }]))).toEqual([theirs.id]);
      expect(await store.get(request.id)).toEqual(request); // the request itself is kept and served
      expect(await store.save(mine)).toEqual({ status: 'deleted' });
      expect(await store.save(later)).toEqual({ status: 'deleted' });
      expect(await store.count([{ ids: [mine.id, later.id] }])).toBe(0);
      // A deletion of a deletion request has no effect.
      const undo = sign(alice, 5, BASE + 11, [['e', request.id]]);
      await store.save(undo);
      expect(await store.get(request.id)).toEqual(request);
    });

    it('NIP-09: an `a` tag deletes versions of an address up to its created_at; newer versions are accepted', async () => {
      const v1 = sign(alice, 30023, BASE + 1, [['d', 'post']]);
      const other = sign(alice, 30023, BASE + 1, [['d', 'other']]);
      const profile = sign(alice, 0, BASE + 1);
      await store.save(v1);
      await store.save(other);
      await store.save(profile);
      const request = sign(alice, 5, BASE + 5, [
        ['a', `30023:${ALICE}:post`],
        ['a', `0:${ALICE}:`],
        ['a', `30023:${BOB}:post`], // not alice's: ignored
      ]);
      const outcome = await store.save(request);
      expect(outcome.status).toBe('stored');
      expect(new Set((outcome as { deleted?: string[] }).deleted)).toEqual(new Set([v1.id, profile.id]));
      expect(await store.get(other.id)).toEqual(other);
      expect(await store.save(sign(alice, 30023, BASE + 4, [['d', 'post']]))).toEqual({ status: 'deleted' });
      expect(await store.save(sign(alice, 0, BASE + 5))).toEqual({ status: 'deleted' });
      const v2 = sign(alice, 30023, BASE + 6, [['d', 'post']]);
      expect(await store.save(v2)).toEqual({ status: 'stored', replaced: [] });
      const bobs = sign(bob, 30023, BASE + 1, [['d', 'post']]);
      expect((await store.save(bobs)).status).toBe('stored');
    });

    it('hides a kind from a query unless tagged with an allowed value, before the limit applies', async () => {
      const wraps = [0, 1, 2, 3].map((i) => sign(bob, 1059, BASE + 10 + i, [['p', BOB]]));
      const forAlice = sign(bob, 1059, BASE + 1, [['p', ALICE]]);
      const note = sign(bob, 1, BASE);
      for (const e of [...wraps, forAlice, note]) await store.save(e);
      const rule = { kind: 1059, tag: 'p', values: [ALICE] };
      expect(ids(await store.query([{ limit: 2 }], { hiddenUnlessTagged: rule }))).toEqual([
        forAlice.id,
        note.id,
      ]);
      expect(
        ids(await store.query([{ '#p': [BOB, ALICE], limit: 1 }], { hiddenUnlessTagged: rule })),
      ).toEqual([forAlice.id]);
      expect(ids(await store.query([{}], { hiddenUnlessTagged: { ...rule, values: [] } }))).toEqual([
        note.id,
      ]);
    });

    it('counts (NIP-45) with the same hidden kind rule as queries', async () => {
      const wraps = [0, 1, 2].map((i) => sign(bob, 1059, BASE + 10 + i, [['p', BOB]]));
      const forAlice = sign(bob, 1059, BASE + 1, [['p', ALICE]]);
      const notes = [0, 1].map((i) => sign(bob, 1, BASE + i, [['p', BOB]]));
      for (const e of [...wraps, forAlice, ...notes]) await store.save(e);
      const rule = { kind: 1059, tag: 'p', values: [ALICE] };
      expect(await store.count([{}])).toBe(6);
      expect(await store.count([{}], { hiddenUnlessTagged: rule })).toBe(3);
      expect(await store.count([{ '#p': [BOB] }, { kinds: [1059] }], { hiddenUnlessTagged: rule })).toBe(3);
      expect(await store.count([{ kinds: [1059] }], { hiddenUnlessTagged: { ...rule, values: [] } })).toBe(0);
      expect(await store.count([{ kinds: [1059] }], { hiddenUnlessTagged: { ...rule, values: [BOB] } })).toBe(
        3,
      );
    });

    it('counts at most `max` events per filter, newest first, deduplicated across filters (issue 18)', async () => {
      const notes = Array.from({ length: 5 }, (_, i) => sign(alice, 1, BASE + i, [['t', 'x']]));
      for (const e of [...notes, sign(bob, 1059, BASE + 9, [['p', BOB]])]) await store.save(e);
      expect(await store.count([{}], { max: 3 })).toBe(3);
      expect(await store.count([{ kinds: [1] }], { max: 10 })).toBe(5);
      expect(await store.count([{ '#t': ['x'] }], { max: 2 })).toBe(2); // the tag-driven plan
      expect(await store.count([{ '#t': ['x'] }, { kinds: [1] }], { max: 10 })).toBe(5); // one event, counted once
      const rule = { kind: 1059, tag: 'p', values: [ALICE] };
      expect(await store.count([{}], { max: 10, hiddenUnlessTagged: rule })).toBe(5);
      expect(await store.count([{ '#t': ['nothing'] }], { max: 10 })).toBe(0);
    });

    it('resolves concurrent saves each with its own outcome (group commit)', async () => {
      const events = Array.from({ length: 40 }, (_, i) => sign(alice, 1, BASE + i));
      const outcomes = await Promise.all([...events, events[0]!].map((e) => store.save(e)));
      expect(outcomes.slice(0, 40).every((o) => o.status === 'stored')).toBe(true);
      expect(outcomes[40]).toEqual({ status: 'duplicate' });
      expect(await store.count([{}])).toBe(40);
      const newer = sign(alice, 10002, BASE + 2);
      const older = sign(alice, 10002, BASE + 1);
      const [a, b] = await Promise.all([store.save(newer), store.save(older)]);
      expect(a.status).toBe('stored');
      expect(b).toEqual({ status: 'stale', newerId: newer.id });
    });

    it('rejects use after close', async () => {
      const closing = await factory({ maxLimit: 50 });
      await closing.close();
      await expect(closing.query([{}])).rejects.toThrow(/closed/);
      await expect(closing.save(sign(alice, 1, BASE))).rejects.toThrow(/closed/);
    });
  });
}
