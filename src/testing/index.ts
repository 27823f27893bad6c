// Test helpers for skill authors: fixtures, signed TOON events, gift wraps, metadata.
export {
  TEST_RECIPIENT_SECRET_KEY_HEX,
  TEST_SENDER_SECRET_KEY_HEX,
  testRecipientSecretKey,
  testSenderSecretKey,
} from './keys.js';
export { testContext, testMetadata } from './metadata.js';
export {
  buildSignedToonEvent,
  defaultFixturesDir,
  type GiftWrapOptions,
  getPublicKey,
  giftWrapEvent,
  giftWrapToon,
  loadTestTOON,
  signTestEvent,
} from './toon.js';
