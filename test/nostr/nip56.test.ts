// NIP-56 reports (kind 1984) against hand-made vectors: the NIP's own example layouts, events signed by
// nostr-tools (an independent implementation) and malformed reports.
import { finalizeEvent as toolsFinalize, verifyEvent as toolsVerify } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { NostrError } from '../../src/nostr/errors.js';
import { finalizeEvent, verifyEvent } from '../../src/nostr/event.js';
import { getPublicKey } from '../../src/nostr/keys.js';
import { buildReport, KIND_REPORT, parseReport } from '../../src/nostr/nip56.js';
import type { NostrEvent } from '../../src/nostr/types.js';

const sk = new Uint8Array(32).fill(7);
const reporter = getPublicKey(sk);
const reported = `${'a'.repeat(63)}1`;
const victim = 'b'.repeat(64);
const noteId = 'c'.repeat(64);

/** Signs with nostr-tools: the vectors do not come from the code under test. */
const signed = (tags: string[][], content = ''): NostrEvent =>
  toolsFinalize({ kind: 1984, created_at: 1_700_000_000, tags, content }, sk) as NostrEvent;

function expectInvalid(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NostrError);
    expect((err as NostrError).code).toBe('invalid_report');
    expect((err as NostrError).message).toMatch(message);
    return;
  }
  throw new Error('expected a NostrError');
}

describe('NIP-56 reports', () => {
  it('reads the NIP example layouts, signed by another implementation', () => {
    const profile = parseReport(signed([['p', reported, 'nudity']]));
    expect(profile).toMatchObject({ reporter, reported, type: 'nudity', content: '' });
    expect(profile.eventId).toBeUndefined();

    const note = parseReport(
      signed(
        [
          ['e', noteId, 'illegal'],
          ['p', reported],
        ],
        "He's insulting the king!",
      ),
    );
    expect(note).toMatchObject({
      reported,
      type: 'illegal',
      eventId: noteId,
      content: "He's insulting the king!",
    });

    // The impersonator is the p tag with the report type, not the first p tag listed after it.
    const imp = parseReport(
      signed([
        ['p', victim],
        ['p', reported, 'impersonation'],
      ]),
    );
    expect(imp.reported).toBe(reported);
    expect(imp.type).toBe('impersonation');
  });

  it('builds the layout NIP-56 and NIP-32 describe, verifiable by nostr-tools', () => {
    const template = buildReport({
      reported,
      type: 'other',
      eventId: noteId,
      label: { namespace: 'crosstown.fraud', value: 'sealed-result' },
      tags: [['key', 'd'.repeat(64)]],
      content: 'why',
      created_at: 1_700_000_000,
    });
    expect(template).toEqual({
      kind: 1984,
      tags: [
        ['p', reported, 'other'],
        ['e', noteId, 'other'],
        ['L', 'crosstown.fraud'],
        ['l', 'sealed-result', 'crosstown.fraud'],
        ['key', 'd'.repeat(64)],
      ],
      content: 'why',
      created_at: 1_700_000_000,
    });
    const ours = finalizeEvent(template, sk);
    // Same id and a signature the other implementation accepts.
    expect(toolsVerify({ ...ours })).toBe(true);
    expect(ours.id).toBe(signed(template.tags, 'why').id);
    const back = parseReport(ours);
    expect(back.label).toEqual({ namespace: 'crosstown.fraud', value: 'sealed-result' });
    expect(back.eventId).toBe(noteId);
    expect(verifyEvent(ours)).toBe(true);
  });

  it('reads an unknown report type as other', () => {
    expect(parseReport(signed([['p', reported, 'rude']])).type).toBe('other');
    expect(parseReport(signed([['p', reported]])).type).toBe('other');
  });

  it('refuses what is not a report', () => {
    expectInvalid(() => parseReport({ ...signed([['p', reported, 'spam']]), kind: 1 }), /not a report/);
    expectInvalid(() => parseReport(signed([['e', noteId, 'spam']])), /needs \["p"/);
    expectInvalid(() => parseReport(signed([['p', 'XYZ', 'spam']])), /needs \["p"/);
    expectInvalid(
      () =>
        parseReport(
          signed([
            ['p', reported, 'spam'],
            ['e', 'short'],
          ]),
        ),
      /e tag/,
    );
    expectInvalid(() => parseReport({ kind: KIND_REPORT } as unknown as NostrEvent), /malformed report/);
    expectInvalid(() => buildReport({ reported: 'nope', type: 'spam' }), /pubkey/);
    expectInvalid(() => buildReport({ reported, type: 'rude' as 'spam' }), /report type/);
    expectInvalid(() => buildReport({ reported, type: 'spam', eventId: 'x' }), /event id/);
  });
});
