// What each keystore entry holds and how its public half is derived (shown without the passphrase).
import { getPublicKey } from '../../nostr/keys.js';
import { KeystoreError } from './errors.js';
import { evmAddressOf } from './evm-address.js';

/** The wallet key (EVM, secp256k1) and the Mayor's Nostr secret key are separate entries. */
export type KeyEntry = 'wallet' | 'nostr';
export const KEY_ENTRIES: readonly KeyEntry[] = ['wallet', 'nostr'];

/** Parses 32 bytes of hex (with or without 0x). The message never repeats the input. */
export function parseSecretKeyHex(text: string, what: string): Uint8Array {
  const hex = text.trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new KeystoreError(
      'INVALID_KEY',
      `${what} is not a 32-byte hex private key (64 hex digits, optional 0x).`,
    );
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/** The public identity of a secret key: the checksummed EVM address (wallet) or the x-only pubkey (nostr). */
export function publicOf(entry: KeyEntry, secretKey: Uint8Array): string {
  if (secretKey.length !== 32) throw new KeystoreError('INVALID_KEY', `The ${entry} key must be 32 bytes.`);
  try {
    if (entry === 'wallet') return evmAddressOf(secretKey);
    return getPublicKey(secretKey);
  } catch (err) {
    throw new KeystoreError(
      'INVALID_KEY',
      `The ${entry} key is not a valid secp256k1 private key (out of range).`,
      {
        cause: err,
      },
    );
  }
}
