// The private-job helpers (src/mayor/runtime/private-jobs.ts): the NIP-59 spec example opens with openWrap,
// a wrapped signed event keeps its id (the job id on both sides), and every way a wrap can be wrong comes
// back as a reason instead of an exception.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { answeredJob, giftWrapSigned, isJobAnswerKind, openWrap } from '../../src/mayor/runtime/index.js';
import { finalizeEvent, verifyEvent } from '../../src/nostr/event.js';
import { generateSecretKey, getPublicKey } from '../../src/nostr/keys.js';
import type { NostrEvent } from '../../src/nostr/types.js';

const VECTORS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/vectors');
const example = JSON.parse(readFileSync(path.join(VECTORS, 'nostr/nip59-example.json'), 'utf8')) as {
  recipient_sk: string;
  rumor: { id: string; pubkey: string; content: string };
  wrap: NostrEvent;
};
const key = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

describe('openWrap', () => {
  it('opens the NIP-59 spec example (vector) and names the author', () => {
    const sk = key(example.recipient_sk);
    const r = openWrap(example.wrap, sk, getPublicKey(sk));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.opened.rumor.id).toBe(example.rumor.id);
    expect(r.opened.rumor.content).toBe(example.rumor.content);
    expect(r.opened.senderPubkey).toBe(example.rumor.pubkey);
  });

  it('refuses, with a reason, a wrap for someone else, a changed byte, a wrong kind', () => {
    const sk = key(example.recipient_sk);
    const me = getPublicKey(sk);
    const other = generateSecretKey();
    const notForMe = openWrap(example.wrap, other, getPublicKey(other));
    expect(notForMe).toEqual({ ok: false, reason: expect.stringMatching(/not to us/) });
    const flipped = {
      ...example.wrap,
      content: `${example.wrap.content.slice(0, 50)}A${example.wrap.content.slice(51)}`,
    };
    expect(openWrap(flipped, sk, me)).toEqual({
      ok: false,
      reason: expect.stringMatching(/id or signature/),
    });
    expect(openWrap({ ...example.wrap, kind: 4 }, sk, me)).toEqual({
      ok: false,
      reason: 'kind 4 is not a gift wrap',
    });
  });
});

describe('giftWrapSigned', () => {
  it('keeps the signed event id as the rumor id, never ships the signature, and only the recipient opens it', () => {
    const author = generateSecretKey();
    const recipient = generateSecretKey();
    const event = finalizeEvent(
      {
        kind: 6065,
        tags: [
          ['e', 'ab'.repeat(32)],
          ['p', getPublicKey(recipient)],
        ],
        content: '{"build":"SUCCESS"}',
      },
      author,
    );
    const wrap = giftWrapSigned(event, author, getPublicKey(recipient));
    expect(wrap.kind).toBe(1059);
    expect(verifyEvent(wrap)).toBe(true);
    expect(wrap.pubkey).not.toBe(getPublicKey(author)); // one-time key
    expect(JSON.stringify(wrap)).not.toContain(event.sig);
    const r = openWrap(wrap, recipient, getPublicKey(recipient));
    expect(r.ok && r.opened.rumor.id).toBe(event.id);
    expect(r.ok && 'sig' in r.opened.rumor).toBe(false);
    expect(r.ok && answeredJob(r.opened.rumor)).toBe('ab'.repeat(32));
    const eve = generateSecretKey();
    expect(openWrap(wrap, eve, getPublicKey(recipient)).ok).toBe(false);
  });

  it('knows which private kinds are answers to our jobs', () => {
    expect([6065, 7000, 5065, 14].map(isJobAnswerKind)).toEqual([true, true, false, false]);
  });
});
