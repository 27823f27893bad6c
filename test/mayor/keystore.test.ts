import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ensureNostrKey,
  KeystoreError,
  keyInfo,
  PLAINTEXT_KEY_WARNING,
  readKey,
  resolveWalletKey,
  writeKey,
} from '../../src/mayor/keystore/index.js';
import { getPublicKey } from '../../src/nostr/keys.js';
import { tempDir } from './state-helpers.js';

// anvil's well-known account 0: a public test key.
const KEY = 'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const ADDRESS = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const PASS = 'correct horse battery staple ✓';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
function dir(): string {
  const t = tempDir('crosstown-keys-');
  cleanups.push(t.cleanup);
  return join(t.dir, 'keys');
}

async function rejection(p: Promise<unknown>): Promise<KeystoreError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KeystoreError);
    return e as KeystoreError;
  }
  throw new Error('expected a rejection');
}

/** Every byte of every file under `d`, concatenated. */
function allBytes(d: string): Buffer {
  const parts: Buffer[] = [];
  for (const e of readdirSync(d, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) parts.push(readFileSync(join(e.parentPath, e.name)));
  }
  return Buffer.concat(parts);
}

describe('keystore', () => {
  it('encrypts the wallet key into a 0600 file and decrypts it with the passphrase', async () => {
    const d = dir();
    const info = await writeKey({ dir: d, entry: 'wallet', secretKey: `0x${KEY}`, passphrase: PASS });
    expect(info.public).toBe(ADDRESS);
    expect(statSync(info.path).mode & 0o777).toBe(0o600);
    expect(statSync(d).mode & 0o777).toBe(0o700);
    const file = JSON.parse(readFileSync(info.path, 'utf8'));
    expect(file).toMatchObject({
      version: 1,
      type: 'crosstown-keystore',
      entry: 'wallet',
      public: ADDRESS,
      kdf: { name: 'scrypt', n: 32768, r: 8, p: 1, dkLen: 32 },
      cipher: { name: 'aes-256-gcm' },
    });
    expect(file.kdf.salt).toMatch(/^[0-9a-f]{64}$/);
    expect(file.cipher.nonce).toMatch(/^[0-9a-f]{24}$/);
    const key = await readKey({ dir: d, entry: 'wallet', passphrase: PASS });
    expect(Buffer.from(key).toString('hex')).toBe(KEY);
    expect(keyInfo(d, 'wallet')?.public).toBe(ADDRESS);
    expect(keyInfo(d, 'nostr')).toBeUndefined();
  });

  it('never writes the key or the passphrase to disk', async () => {
    const d = dir();
    await writeKey({ dir: d, entry: 'wallet', secretKey: KEY, passphrase: PASS });
    const nostr = await ensureNostrKey({ dir: d, passphrase: PASS });
    const bytes = allBytes(d);
    const needles = [
      Buffer.from(KEY, 'hex'),
      Buffer.from(KEY),
      Buffer.from(KEY.toUpperCase()),
      Buffer.from(PASS),
      Buffer.from(PASS.normalize('NFKC')),
      Buffer.from(nostr.secretKey),
      Buffer.from(Buffer.from(nostr.secretKey).toString('hex')),
      Buffer.from(Buffer.from(nostr.secretKey).toString('base64')),
    ];
    for (const n of needles) expect(bytes.includes(n)).toBe(false);
    // The public halves are there (and nothing else that could hold them).
    expect(bytes.includes(Buffer.from(ADDRESS))).toBe(true);
  });

  it('fails clearly on a wrong passphrase, without echoing it', async () => {
    const d = dir();
    await writeKey({ dir: d, entry: 'wallet', secretKey: KEY, passphrase: PASS });
    const err = await rejection(readKey({ dir: d, entry: 'wallet', passphrase: 'hunter2' }));
    expect(err.code).toBe('WRONG_PASSPHRASE');
    expect(err.message).toMatch(/Wrong passphrase/);
    expect(err.message).not.toContain('hunter2');
    expect((await rejection(readKey({ dir: d, entry: 'wallet', passphrase: '' }))).code).toBe(
      'PASSPHRASE_REQUIRED',
    );
  });

  it('authenticates the header: a weakened KDF or swapped address fails to decrypt', async () => {
    const d = dir();
    const info = await writeKey({ dir: d, entry: 'wallet', secretKey: KEY, passphrase: PASS });
    const original = readFileSync(info.path, 'utf8');
    const f = JSON.parse(original);
    writeFileSync(info.path, JSON.stringify({ ...f, public: '0x0000000000000000000000000000000000000001' }));
    expect((await rejection(readKey({ dir: d, entry: 'wallet', passphrase: PASS }))).code).toBe(
      'WRONG_PASSPHRASE',
    );
    writeFileSync(info.path, JSON.stringify({ ...f, kdf: { ...f.kdf, n: 16384 } }));
    expect((await rejection(readKey({ dir: d, entry: 'wallet', passphrase: PASS }))).code).toBe(
      'WRONG_PASSPHRASE',
    );
    writeFileSync(info.path, JSON.stringify({ ...f, kdf: { ...f.kdf, n: 2 ** 30 } }));
    expect((await rejection(readKey({ dir: d, entry: 'wallet', passphrase: PASS }))).message).toMatch(
      /1 GiB/,
    );
    writeFileSync(info.path, '{"type":"something-else"}');
    expect((await rejection(readKey({ dir: d, entry: 'wallet', passphrase: PASS }))).code).toBe(
      'BAD_KEYSTORE_FILE',
    );
  });

  it('uses a fresh salt and nonce per write, refuses to overwrite by accident, refuses weak parameters and bad keys', async () => {
    const d = dir();
    const a = await writeKey({ dir: d, entry: 'wallet', secretKey: KEY, passphrase: PASS });
    const first = JSON.parse(readFileSync(a.path, 'utf8'));
    expect(
      (await rejection(writeKey({ dir: d, entry: 'wallet', secretKey: KEY, passphrase: PASS }))).code,
    ).toBe('KEY_EXISTS');
    await writeKey({ dir: d, entry: 'wallet', secretKey: KEY, passphrase: PASS, overwrite: true });
    const second = JSON.parse(readFileSync(a.path, 'utf8'));
    expect(second.kdf.salt).not.toBe(first.kdf.salt);
    expect(second.cipher.nonce).not.toBe(first.cipher.nonce);
    expect(second.ciphertext).not.toBe(first.ciphertext);
    const weak = writeKey({
      dir: d,
      entry: 'nostr',
      secretKey: KEY,
      passphrase: PASS,
      kdf: { n: 1024, r: 8, p: 1 },
    });
    expect((await rejection(weak)).message).toMatch(/at least n=2\^15/);
    const badKey = await rejection(
      writeKey({ dir: d, entry: 'nostr', secretKey: 'ff'.repeat(32), passphrase: PASS }),
    );
    expect(badKey.code).toBe('INVALID_KEY');
    const shortKey = await rejection(
      writeKey({ dir: d, entry: 'nostr', secretKey: 'abcd', passphrase: PASS }),
    );
    expect(shortKey.message).not.toContain('abcd');
  });

  it('creates the Mayor nostr key once and reads the same key back', async () => {
    const d = dir();
    const a = await ensureNostrKey({ dir: d, passphrase: PASS });
    expect(a.created).toBe(true);
    expect(a.pubkey).toBe(getPublicKey(a.secretKey));
    const b = await ensureNostrKey({ dir: d, passphrase: PASS });
    expect(b.created).toBe(false);
    expect(Buffer.from(b.secretKey).equals(Buffer.from(a.secretKey))).toBe(true);
  });
});

describe('resolveWalletKey', () => {
  it('refuses a plaintext GASTOWN_WALLET_PRIVATE_KEY unless GASTOWN_ALLOW_UNENCRYPTED_KEYS=true', async () => {
    const d = dir();
    const env = { GASTOWN_WALLET_PRIVATE_KEY: `0x${KEY}` };
    const err = await rejection(resolveWalletKey({ dir: d, env }));
    expect(err.code).toBe('PLAINTEXT_KEY_REFUSED');
    expect(err.message).toContain('GASTOWN_ALLOW_UNENCRYPTED_KEYS=true');
    expect(err.message).not.toContain(KEY);
    const refused = await rejection(
      resolveWalletKey({ dir: d, env: { ...env, GASTOWN_ALLOW_UNENCRYPTED_KEYS: '1' } }),
    );
    expect(refused.code).toBe('PLAINTEXT_KEY_REFUSED');
  });

  it('uses the plaintext key when allowed, and warns loudly through the callback', async () => {
    const d = dir();
    const warnings: string[] = [];
    const key = await resolveWalletKey({
      dir: d,
      env: {
        GASTOWN_WALLET_PRIVATE_KEY: KEY,
        GASTOWN_ALLOW_UNENCRYPTED_KEYS: 'true',
        GASTOWN_WALLET_ADDRESS: ADDRESS,
      },
      onWarning: (m) => warnings.push(m),
    });
    expect(key.source).toBe('env-plaintext');
    expect(key.address).toBe(ADDRESS);
    expect(warnings).toEqual([PLAINTEXT_KEY_WARNING]);
    expect(key.warning).toMatch(/^WARNING/);
    expect(warnings[0]).not.toContain(KEY);
  });

  it('prefers the keystore, needs its passphrase, and checks GASTOWN_WALLET_ADDRESS', async () => {
    const d = dir();
    await writeKey({ dir: d, entry: 'wallet', secretKey: KEY, passphrase: PASS });
    expect((await rejection(resolveWalletKey({ dir: d, env: {} }))).code).toBe('PASSPHRASE_REQUIRED');
    const key = await resolveWalletKey({
      dir: d,
      env: { GASTOWN_WALLET_ADDRESS: ADDRESS.toLowerCase() },
      passphrase: PASS,
    });
    expect(key).toMatchObject({ source: 'keystore', address: ADDRESS });
    const other = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
    const mismatch = await rejection(
      resolveWalletKey({ dir: d, env: { GASTOWN_WALLET_ADDRESS: other }, passphrase: PASS }),
    );
    expect(mismatch.code).toBe('ADDRESS_MISMATCH');
    expect((await rejection(resolveWalletKey({ dir: dir(), env: {} }))).code).toBe('NO_KEY');
  });
});
