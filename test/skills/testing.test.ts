import { describe, expect, it } from 'vitest';
import { verifyEvent } from '../../src/nostr/event.js';
import { unwrapEvent } from '../../src/nostr/nip59.js';
import {
  buildSignedToonEvent,
  getPublicKey,
  giftWrapToon,
  loadTestTOON,
  testMetadata,
  testRecipientSecretKey,
  testSenderSecretKey,
} from '../../src/testing/index.js';
import { decodeEvent, peekKind } from '../../src/toon/index.js';

describe('src/testing helpers', () => {
  it('loadTestTOON reads committed fixtures and names the directory when one is missing', () => {
    expect(peekKind(loadTestTOON('kind1_note.toon'))).toBe(1);
    expect(() => loadTestTOON('nope.toon')).toThrow(/nope\.toon could not be read.*test\/fixtures\/toon/);
  });

  it('buildSignedToonEvent signs with the test key by default', () => {
    const event = decodeEvent(buildSignedToonEvent({ kind: 1, tags: [['t', 'x']], content: 'hi' }));
    expect(verifyEvent(event)).toBe(true);
    expect(event.pubkey).toBe(getPublicKey(testSenderSecretKey()));
  });

  it('giftWrapToon wraps to the recipient; only the recipient opens it', () => {
    const recipient = getPublicKey(testRecipientSecretKey());
    const wrap = decodeEvent(
      giftWrapToon({ kind: 14, tags: [], content: 'secret' }, { recipientPubkey: recipient }),
    );
    expect(wrap.kind).toBe(1059);
    expect(unwrapEvent(wrap, testRecipientSecretKey()).rumor.content).toBe('secret');
    expect(() => unwrapEvent(wrap, testSenderSecretKey())).toThrow();
  });

  it('the committed gift-wrap fixture is addressed to the fixed test recipient', () => {
    const wrap = decodeEvent(loadTestTOON('kind1059_encrypted_dm.toon'));
    expect(wrap.tags).toContainEqual(['p', getPublicKey(testRecipientSecretKey())]);
    expect(verifyEvent(wrap)).toBe(true);
  });

  it('testMetadata takes the kind from a payload and records log lines', () => {
    const payload = buildSignedToonEvent({ kind: 7000, tags: [], content: '' });
    const meta = testMetadata({ payload });
    expect(meta.kind).toBe(7000);
    meta.logger.info('hello', { a: 1 });
    expect(meta.logger.records).toEqual([{ level: 'info', message: 'hello', fields: { a: 1 } }]);
  });
});
