import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { finalizeEvent } from '../nostr/event.js';
import { getPublicKey } from '../nostr/keys.js';
import { wrapEvent } from '../nostr/nip59.js';
import type { EventTemplate, NostrEvent } from '../nostr/types.js';
import { encodeEventBytes } from '../toon/index.js';
import { testSenderSecretKey } from './keys.js';

/** Where `loadTestTOON` looks by default: `test/fixtures/toon/` under the current directory (the project root). */
export function defaultFixturesDir(): string {
  return resolve(process.cwd(), 'test/fixtures/toon');
}

/** Reads a `.toon` fixture as the raw bytes a skill receives. */
export function loadTestTOON(name: string, dir = defaultFixturesDir()): Uint8Array {
  const path = resolve(dir, name);
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new Error(
      `TOON fixture ${path} could not be read (${(error as Error).message}); fixtures live in ${dir}`,
      {
        cause: error,
      },
    );
  }
}

/** Signs `template` (default: the fixed test sender key) and returns the event. */
export function signTestEvent(
  template: EventTemplate,
  secretKey: Uint8Array = testSenderSecretKey(),
): NostrEvent {
  return finalizeEvent(template, secretKey);
}

/** Signs `template` and returns it TOON-encoded, exactly as the Mayor hands it to a skill. */
export function buildSignedToonEvent(template: EventTemplate, secretKey?: Uint8Array): Uint8Array {
  return encodeEventBytes(signTestEvent(template, secretKey));
}

export interface GiftWrapOptions {
  /** Who the wrap is for (hex pubkey). */
  recipientPubkey: string;
  /** The author (default: the fixed test sender key). */
  senderSecretKey?: Uint8Array;
}

/** NIP-59 gift-wraps `template` to the recipient and returns the kind 1059 wrap TOON-encoded. */
export function giftWrapToon(template: EventTemplate, options: GiftWrapOptions): Uint8Array {
  return encodeEventBytes(giftWrapEvent(template, options));
}

export function giftWrapEvent(template: EventTemplate, options: GiftWrapOptions): NostrEvent {
  return wrapEvent(template, options.senderSecretKey ?? testSenderSecretKey(), options.recipientPubkey);
}

export { getPublicKey };
