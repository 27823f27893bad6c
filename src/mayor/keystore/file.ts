// Keystore files: `<dir>/<entry>.json`, mode 0600 in a 0700 directory, written atomically.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ensureDir, writeFileAtomic } from '../state/atomic.js';
import { checkPassphrase, DEFAULT_SCRYPT, MIN_SCRYPT_N, open, type ScryptParams, seal } from './crypto.js';
import { KeystoreError } from './errors.js';
import { KEY_ENTRIES, type KeyEntry, parseSecretKeyHex, publicOf } from './keys.js';

export const KEYSTORE_TYPE = 'crosstown-keystore';
export const KEYSTORE_VERSION = 1;

/** The on-disk JSON of one entry. Everything but `ciphertext` is public. */
export interface KeystoreFile {
  version: 1;
  type: typeof KEYSTORE_TYPE;
  entry: KeyEntry;
  /** Wallet: checksummed address. Nostr: x-only pubkey hex. */
  public: string;
  kdf: { name: 'scrypt'; n: number; r: number; p: number; dkLen: 32; salt: string };
  cipher: { name: 'aes-256-gcm'; nonce: string; tag: string };
  ciphertext: string;
  createdAt: string;
}

/** What can be known about an entry without the passphrase. */
export interface KeyInfo {
  entry: KeyEntry;
  public: string;
  path: string;
  createdAt: string;
  kdf: ScryptParams;
}

export function keyPath(dir: string, entry: KeyEntry): string {
  if (!KEY_ENTRIES.includes(entry)) {
    throw new KeystoreError(
      'INVALID_KEY',
      `Unknown keystore entry "${entry}": use ${KEY_ENTRIES.join(' or ')}.`,
    );
  }
  return join(dir, `${entry}.json`);
}

/** Associated data: the header fields, in a fixed order. */
function aadFor(
  f: Pick<KeystoreFile, 'version' | 'type' | 'entry' | 'public'>,
  kdf: ScryptParams,
  salt: string,
): Buffer {
  return Buffer.from(
    JSON.stringify([f.type, f.version, f.entry, f.public, 'scrypt', kdf.n, kdf.r, kdf.p, 32, salt]),
    'utf8',
  );
}

export interface WriteKeyOptions {
  dir: string;
  entry: KeyEntry;
  /** 32 bytes, or 64 hex digits (optional 0x). */
  secretKey: Uint8Array | string;
  passphrase: string;
  /** Stronger scrypt parameters; n below 2^15 is refused. */
  kdf?: ScryptParams;
  /** Replace an existing entry (default: refuse, so a key is never lost by accident). */
  overwrite?: boolean;
}

/** Encrypts and stores a key. Returns its public info. */
export async function writeKey(options: WriteKeyOptions): Promise<KeyInfo> {
  const passphrase = checkPassphrase(options.passphrase);
  const path = keyPath(options.dir, options.entry);
  if (!options.overwrite && existsSync(path)) {
    throw new KeystoreError(
      'KEY_EXISTS',
      `${path} already holds a ${options.entry} key: remove it first or pass overwrite to replace it.`,
    );
  }
  const kdf = options.kdf ?? DEFAULT_SCRYPT;
  if (kdf.n < MIN_SCRYPT_N || kdf.r < 8 || kdf.p < 1) {
    throw new KeystoreError('INVALID_KEY', `scrypt parameters must be at least n=2^15 r=8 p=1.`);
  }
  const secret =
    typeof options.secretKey === 'string'
      ? parseSecretKeyHex(options.secretKey, `The ${options.entry} key`)
      : Uint8Array.from(options.secretKey);
  try {
    const header = {
      version: KEYSTORE_VERSION,
      type: KEYSTORE_TYPE,
      entry: options.entry,
      public: publicOf(options.entry, secret),
    } as const;
    const sealed = await seal(secret, passphrase, kdf, (salt) => aadFor(header, kdf, salt.toString('hex')));
    const file: KeystoreFile = {
      ...header,
      kdf: { name: 'scrypt', n: kdf.n, r: kdf.r, p: kdf.p, dkLen: 32, salt: sealed.salt.toString('hex') },
      cipher: { name: 'aes-256-gcm', nonce: sealed.nonce.toString('hex'), tag: sealed.tag.toString('hex') },
      ciphertext: sealed.ciphertext.toString('hex'),
      createdAt: new Date().toISOString(),
    };
    ensureDir(options.dir);
    writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
    return { entry: options.entry, public: header.public, path, createdAt: file.createdAt, kdf };
  } finally {
    secret.fill(0);
  }
}

/** How to get a wallet for the Mayor whose keystore is `dir` (<home>/keys/<name>). */
export function configureHint(dir: string): string {
  const name = basename(dir);
  const flag = name === 'mayor' ? '' : ` --name ${name}`;
  return `create one with \`crosstown wallet configure --generate${flag}\` (or import yours with \`crosstown wallet configure${flag}\`)`;
}

function readFile(path: string, entry: KeyEntry): KeystoreFile {
  if (!existsSync(path)) {
    throw new KeystoreError('NO_KEY', `No ${entry} key at ${path}: ${configureHint(dirname(path))}.`);
  }
  let f: KeystoreFile;
  try {
    f = JSON.parse(readFileSync(path, 'utf8')) as KeystoreFile;
  } catch (err) {
    throw new KeystoreError('BAD_KEYSTORE_FILE', `${path} is not a keystore JSON file.`, { cause: err });
  }
  const hex = (v: unknown, len?: number) =>
    typeof v === 'string' &&
    /^[0-9a-f]*$/.test(v) &&
    v.length % 2 === 0 &&
    (len === undefined || v.length === len * 2);
  if (
    f?.type !== KEYSTORE_TYPE ||
    f.version !== KEYSTORE_VERSION ||
    f.entry !== entry ||
    f.kdf?.name !== 'scrypt' ||
    f.cipher?.name !== 'aes-256-gcm' ||
    !hex(f.kdf.salt) ||
    !hex(f.cipher.nonce, 12) ||
    !hex(f.cipher.tag, 16) ||
    !hex(f.ciphertext) ||
    typeof f.public !== 'string'
  ) {
    throw new KeystoreError(
      'BAD_KEYSTORE_FILE',
      `${path} is not a version ${KEYSTORE_VERSION} crosstown ${entry} keystore file: restore it from a backup or import the key again.`,
    );
  }
  return f;
}

/** Public info of an entry, or undefined when there is none. Needs no passphrase. */
export function keyInfo(dir: string, entry: KeyEntry): KeyInfo | undefined {
  const path = keyPath(dir, entry);
  if (!existsSync(path)) return undefined;
  const f = readFile(path, entry);
  return {
    entry,
    public: f.public,
    path,
    createdAt: f.createdAt,
    kdf: { n: f.kdf.n, r: f.kdf.r, p: f.kdf.p },
  };
}

/** Decrypts an entry. Wrong passphrase: KeystoreError WRONG_PASSPHRASE. */
export async function readKey(options: {
  dir: string;
  entry: KeyEntry;
  passphrase: string;
}): Promise<Uint8Array> {
  const passphrase = checkPassphrase(options.passphrase);
  const path = keyPath(options.dir, options.entry);
  const f = readFile(path, options.entry);
  const kdf = { n: f.kdf.n, r: f.kdf.r, p: f.kdf.p };
  const plain = await open(
    {
      salt: Buffer.from(f.kdf.salt, 'hex'),
      nonce: Buffer.from(f.cipher.nonce, 'hex'),
      tag: Buffer.from(f.cipher.tag, 'hex'),
      ciphertext: Buffer.from(f.ciphertext, 'hex'),
    },
    passphrase,
    kdf,
    aadFor(f, kdf, f.kdf.salt),
    path,
  );
  const secret = Uint8Array.from(plain);
  plain.fill(0);
  if (secret.length !== 32 || publicOf(options.entry, secret) !== f.public) {
    throw new KeystoreError(
      'BAD_KEYSTORE_FILE',
      `${path} decrypted to a key that does not match its public key.`,
    );
  }
  return secret;
}
