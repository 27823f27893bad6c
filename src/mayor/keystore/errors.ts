/** Why a keystore operation failed. Messages never contain a key or a passphrase. */
export type KeystoreErrorCode =
  | 'WRONG_PASSPHRASE'
  | 'PASSPHRASE_REQUIRED'
  | 'NO_KEY'
  | 'KEY_EXISTS'
  | 'INVALID_KEY'
  | 'BAD_KEYSTORE_FILE'
  | 'PLAINTEXT_KEY_REFUSED'
  | 'ADDRESS_MISMATCH';

export class KeystoreError extends Error {
  override name = 'KeystoreError';
  readonly code: KeystoreErrorCode;
  constructor(code: KeystoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
