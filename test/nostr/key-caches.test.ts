// Issue 17: finalizeEvent remembers the signer's pubkey, gift wraps remember seal conversation keys, and unwrap uses
// the wasm verifier once loaded. None of that may change an answer: a key array changed in place signs as the new
// key, and a tampered seal or wrap is still refused with the wasm verifier.
import { describe, expect, it } from 'vitest';
import { finalizeEvent, verifyEvent } from '../../src/nostr/event.js';
import { generateSecretKey, getPublicKey } from '../../src/nostr/keys.js';
import { unwrapEvent, wrapEvent } from '../../src/nostr/nip59.js';
import { loadedWasmVerifier, loadWasmVerifier } from '../../src/nostr/verify-fast.js';

const template = { kind: 1, tags: [], content: 'hello', created_at: 1_700_000_000 };

describe('remembered keys', () => {
  it('a secret key array changed in place signs as the new key', () => {
    const sk = generateSecretKey();
    const first = finalizeEvent(template, sk);
    expect(first.pubkey).toBe(getPublicKey(sk));
    sk.set(generateSecretKey());
    const second = finalizeEvent(template, sk);
    expect(second.pubkey).toBe(getPublicKey(sk));
    expect(second.pubkey).not.toBe(first.pubkey);
    expect(verifyEvent(second)).toBe(true);
  });

  it('seals to and from changed keys still open only for the right recipient', async () => {
    await loadWasmVerifier();
    expect(loadedWasmVerifier()).toBeDefined();
    const sender = generateSecretKey();
    const recipient = generateSecretKey();
    const other = generateSecretKey();
    for (let i = 0; i < 3; i++) {
      const wrap = wrapEvent({ ...template, content: `m${i}` }, sender, getPublicKey(recipient));
      const opened = unwrapEvent(wrap, recipient);
      expect(opened.rumor.content).toBe(`m${i}`);
      expect(opened.senderPubkey).toBe(getPublicKey(sender));
      expect(() => unwrapEvent(wrap, other)).toThrow();
    }
    // The sender's key array now holds another key: the seal is signed and encrypted by that key.
    const old = getPublicKey(sender);
    sender.set(generateSecretKey());
    const wrap = wrapEvent(template, sender, getPublicKey(recipient));
    const opened = unwrapEvent(wrap, recipient);
    expect(opened.senderPubkey).toBe(getPublicKey(sender));
    expect(opened.senderPubkey).not.toBe(old);
  });

  it('the wasm verifier refuses a wrap whose signature was tampered with', async () => {
    await loadWasmVerifier();
    const recipient = generateSecretKey();
    const wrap = wrapEvent(template, generateSecretKey(), getPublicKey(recipient));
    const last = wrap.sig.at(-1) === '0' ? '1' : '0';
    const bad = { ...wrap, sig: `${wrap.sig.slice(0, -1)}${last}` };
    expect(() => unwrapEvent(bad, recipient)).toThrow(/signature is invalid/);
  });
});
