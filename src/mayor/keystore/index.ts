// Public API of the Mayor's keystore (see docs/mayor-state.md, "Keystore").
export { DEFAULT_SCRYPT, MIN_SCRYPT_N, type ScryptParams } from './crypto.js';
export { KeystoreError, type KeystoreErrorCode } from './errors.js';
export {
  KEYSTORE_TYPE,
  KEYSTORE_VERSION,
  type KeyInfo,
  type KeystoreFile,
  keyInfo,
  keyPath,
  readKey,
  type WriteKeyOptions,
  writeKey,
} from './file.js';
export { KEY_ENTRIES, type KeyEntry, parseSecretKeyHex, publicOf } from './keys.js';
export {
  ensureNostrKey,
  PLAINTEXT_KEY_WARNING,
  type ResolveWalletKeyOptions,
  resolveWalletKey,
  type WalletKey,
} from './resolve.js';
