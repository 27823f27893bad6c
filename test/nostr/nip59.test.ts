import { hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { NostrError } from '../../src/nostr/errors.js';
import { finalizeEvent, getEventHash, verifyEvent } from '../../src/nostr/event.js';
import { generateSecretKey, getPublicKey } from '../../src/nostr/keys.js';
import { KIND_GIFT_WRAP, KIND_SEAL } from '../../src/nostr/kinds.js';
import { encrypt, getConversationKey } from '../../src/nostr/nip44.js';
import {
  createRumor,
  createSeal,
  createWrap,
  type Rumor,
  unwrapEvent,
  wrapEvent,
} from '../../src/nostr/nip59.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { readJsonVector } from './vectors.js';

interface Nip59Example {
  author_sk: string;
  recipient_sk: string;
  ephemeral_wrapper_sk: string;
  rumor: Rumor;
  seal: NostrEvent;
  wrap: NostrEvent;
}
interface Nip17Example {
  expected_plaintext: string;
  wrap_to_receiver: NostrEvent;
  wrap_to_sender: NostrEvent;
  decoded_seal: NostrEvent;
  decoded_rumor: Rumor;
  sender_sk_hex: string;
  receiver_sk_hex: string;
  sender_pk: string;
  receiver_pk: string;
}

const nip59 = readJsonVector<Nip59Example>('nostr/nip59-example.json');
const nip17 = readJsonVector<Nip17Example>('nostr/nip17-example.json');

function expectNip59Error(fn: () => unknown, message?: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NostrError);
    if (message) expect((err as NostrError).message).toMatch(message);
    return;
  }
  throw new Error('expected a NostrError');
}

describe('NIP-59 spec example', () => {
  it('has consistent keys, ids and signatures', () => {
    expect(getPublicKey(hexToBytes(nip59.author_sk))).toBe(nip59.rumor.pubkey);
    expect(getPublicKey(hexToBytes(nip59.ephemeral_wrapper_sk))).toBe(nip59.wrap.pubkey);
    expect(getPublicKey(hexToBytes(nip59.recipient_sk))).toBe(nip59.wrap.tags[0]![1]);
    expect(getEventHash(nip59.rumor)).toBe(nip59.rumor.id);
    expect(verifyEvent(nip59.seal)).toBe(true);
    expect(verifyEvent(nip59.wrap)).toBe(true);
  });

  it('unwraps to the rumor with the recipient key', () => {
    const out = unwrapEvent(nip59.wrap, hexToBytes(nip59.recipient_sk));
    expect(out.rumor).toEqual(nip59.rumor);
    expect(out.seal).toEqual(nip59.seal);
    expect(out.senderPubkey).toBe(nip59.rumor.pubkey);
  });

  it('fails with any other key', () => {
    expectNip59Error(() => unwrapEvent(nip59.wrap, hexToBytes(nip59.author_sk)));
    expectNip59Error(() => unwrapEvent(nip59.wrap, generateSecretKey()));
  });
});

describe('NIP-17 spec example', () => {
  it('unwraps the copy sent to the receiver', () => {
    const out = unwrapEvent(nip17.wrap_to_receiver, hexToBytes(nip17.receiver_sk_hex));
    expect(out.rumor).toEqual(nip17.decoded_rumor);
    expect(out.rumor.content).toBe(nip17.expected_plaintext);
    expect(out.seal).toEqual(nip17.decoded_seal);
    expect(out.senderPubkey).toBe(nip17.sender_pk);
  });

  it("unwraps the sender's self-copy with the sender key", () => {
    const out = unwrapEvent(nip17.wrap_to_sender, hexToBytes(nip17.sender_sk_hex));
    expect(out.rumor.content).toBe(nip17.expected_plaintext);
    expect(out.rumor.pubkey).toBe(nip17.sender_pk);
    expect(out.rumor.tags).toEqual([['p', nip17.receiver_pk]]);
  });

  it('rejects a wrap whose content was altered', () => {
    const w = nip17.wrap_to_receiver;
    expectNip59Error(
      () =>
        unwrapEvent({ ...w, content: `${w.content.slice(0, -4)}AAAA` }, hexToBytes(nip17.receiver_sk_hex)),
      /signature/,
    );
  });
});

describe('wrapEvent / unwrapEvent round trip', () => {
  const alice = generateSecretKey();
  const bob = generateSecretKey();
  const bobPk = getPublicKey(bob);

  it('delivers the rumor and proves the sender', () => {
    const wrap = wrapEvent(
      { kind: 14, tags: [['p', bobPk]], content: 'hi bob', created_at: 1234 },
      alice,
      bobPk,
    );
    expect(wrap.kind).toBe(KIND_GIFT_WRAP);
    expect(wrap.tags).toEqual([['p', bobPk]]);
    expect(wrap.pubkey).not.toBe(getPublicKey(alice));
    expect(verifyEvent(wrap)).toBe(true);
    const out = unwrapEvent(wrap, bob);
    expect(out.rumor.content).toBe('hi bob');
    expect(out.rumor.created_at).toBe(1234);
    expect(out.senderPubkey).toBe(getPublicKey(alice));
    expect(out.seal.kind).toBe(KIND_SEAL);
    // Timestamps of seal and wrap are randomized into the past, never the future.
    const now = Math.floor(Date.now() / 1000);
    expect(wrap.created_at).toBeLessThanOrEqual(now);
    expect(wrap.created_at).toBeGreaterThan(now - 2 * 86400 - 5);
  });

  it('rejects a seal whose signer is not the rumor author (impersonation)', () => {
    const mallory = generateSecretKey();
    const rumor = createRumor({ kind: 14, tags: [], content: 'from alice, honest' }, alice);
    // Mallory seals Alice's rumor with her own key.
    const seal = createSeal(rumor, mallory, bobPk);
    expectNip59Error(() => unwrapEvent(createWrap(seal, bobPk), bob), /not the seal signer/);
  });

  it('rejects a seal with a bad signature', () => {
    const rumor = createRumor({ kind: 14, tags: [], content: 'x' }, alice);
    const seal = createSeal(rumor, alice, bobPk);
    const broken = { ...seal, sig: seal.sig.replace(/^./, seal.sig[0] === '0' ? '1' : '0') };
    expectNip59Error(() => unwrapEvent(createWrap(broken, bobPk), bob), /seal id or signature/);
  });

  it('rejects a rumor whose id does not match its fields', () => {
    const rumor = createRumor({ kind: 14, tags: [], content: 'x' }, alice);
    const seal = createSeal({ ...rumor, content: 'changed' }, alice, bobPk);
    expectNip59Error(() => unwrapEvent(createWrap(seal, bobPk), bob), /rumor id/);
  });

  it('rejects a signed rumor, a wrong seal kind and a wrong wrap kind', () => {
    const signedRumor = finalizeEvent({ kind: 14, tags: [], content: 'x' }, alice);
    const key = getConversationKey(alice, bobPk);
    const sealOfSigned = finalizeEvent(
      { kind: KIND_SEAL, tags: [], content: encrypt(JSON.stringify(signedRumor), key) },
      alice,
    );
    expectNip59Error(() => unwrapEvent(createWrap(sealOfSigned, bobPk), bob), /must not be signed/);

    const rumor = createRumor({ kind: 14, tags: [], content: 'x' }, alice);
    const kind1 = finalizeEvent({ kind: 1, tags: [], content: encrypt(JSON.stringify(rumor), key) }, alice);
    expectNip59Error(() => unwrapEvent(createWrap(kind1, bobPk), bob), /seal must be kind 13/);

    const wrap = wrapEvent({ kind: 14, tags: [], content: 'x' }, alice, bobPk);
    expectNip59Error(() => unwrapEvent({ ...wrap, kind: 1 }, bob), /kind 1059/);
  });
});
