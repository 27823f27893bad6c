import { hexToBytes } from '@noble/hashes/utils.js';

// Fixed, public test keys. Never use them for anything real: everyone who reads this file has them.

/** The default author of test events. */
export const TEST_SENDER_SECRET_KEY_HEX = '7f7ff03d123792d6ac594bfa67bf6d0c0ab55b6b1fdb6249303fe861f1ccba9a';
/** The recipient of the committed gift-wrap fixture (the "Mayor" in skill tests). */
export const TEST_RECIPIENT_SECRET_KEY_HEX =
  'c9a7bc7ab1e66c1a8d1f36e39bd9ea2fc72bc0c7fb7fd5a3b8d3f7e60bb5d2f1';

export function testSenderSecretKey(): Uint8Array {
  return hexToBytes(TEST_SENDER_SECRET_KEY_HEX);
}

export function testRecipientSecretKey(): Uint8Array {
  return hexToBytes(TEST_RECIPIENT_SECRET_KEY_HEX);
}
