// AES-256-GCM under a key derived from the passphrase with scrypt (node:crypto only). Salt and nonce are
// fresh per write; the file's header (entry, public key, KDF parameters) is authenticated as associated data,
// so weakening the stored parameters or swapping the public key makes decryption fail.
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { KeystoreError } from './errors.js';

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  n: number;
  r: number;
  p: number;
}

/** 2^15, 8, 1: about 32 MiB and ~100 ms per derivation; the floor for new files. */
export const DEFAULT_SCRYPT: ScryptParams = { n: 2 ** 15, r: 8, p: 1 };
export const MIN_SCRYPT_N = 2 ** 15;
/** Refuse parameters that would need more memory than this (a hostile file could ask for anything). */
const MAX_SCRYPT_MEM = 1024 * 1024 * 1024;

export function checkPassphrase(passphrase: unknown): string {
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw new KeystoreError(
      'PASSPHRASE_REQUIRED',
      'A non-empty passphrase is required to encrypt or decrypt a key.',
    );
  }
  // The same passphrase typed on another keyboard or OS must derive the same key.
  return passphrase.normalize('NFKC');
}

export function deriveKey(passphrase: string, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
  const { n, r, p } = params;
  if (
    !Number.isSafeInteger(n) ||
    n < 2 ||
    (n & (n - 1)) !== 0 ||
    !Number.isSafeInteger(r) ||
    r < 1 ||
    !Number.isSafeInteger(p) ||
    p < 1
  ) {
    throw new KeystoreError(
      'BAD_KEYSTORE_FILE',
      `scrypt parameters n=${n} r=${r} p=${p} are not valid (n must be a power of two).`,
    );
  }
  const mem = 128 * n * r + 128 * r * p + 1024 * 1024;
  if (mem > MAX_SCRYPT_MEM) {
    throw new KeystoreError(
      'BAD_KEYSTORE_FILE',
      `scrypt parameters n=${n} r=${r} need more than 1 GiB of memory: refused.`,
    );
  }
  return new Promise((resolve, reject) =>
    scrypt(passphrase, salt, 32, { N: n, r, p, maxmem: mem * 2 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export interface Sealed {
  salt: Buffer;
  nonce: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

export async function seal(
  plaintext: Uint8Array,
  passphrase: string,
  params: ScryptParams,
  aad: (salt: Buffer) => Buffer,
): Promise<Sealed> {
  const salt = randomBytes(32);
  const nonce = randomBytes(12);
  const key = await deriveKey(passphrase, salt, params);
  try {
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(aad(salt));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { salt, nonce, tag: cipher.getAuthTag(), ciphertext };
  } finally {
    key.fill(0);
  }
}

export async function open(
  sealed: Sealed,
  passphrase: string,
  params: ScryptParams,
  aad: Buffer,
  what: string,
): Promise<Buffer> {
  const key = await deriveKey(passphrase, sealed.salt, params);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.nonce);
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch (err) {
    throw new KeystoreError(
      'WRONG_PASSPHRASE',
      `Wrong passphrase for ${what} (or the file was altered): try again; a lost passphrase cannot be recovered, import the key again instead.`,
      { cause: err },
    );
  } finally {
    key.fill(0);
  }
}
