// Where the Mayor's keys come from at start: the encrypted keystore, or (only when the operator explicitly
// allows it) a plaintext wallet key in GASTOWN_WALLET_PRIVATE_KEY, with a loud warning.
import { generateSecretKey } from '../../nostr/keys.js';
import { KeystoreError } from './errors.js';
import { configureHint, keyInfo, readKey, writeKey } from './file.js';
import { parseSecretKeyHex, publicOf } from './keys.js';

export const PLAINTEXT_KEY_WARNING =
  'WARNING: using the plaintext wallet key from GASTOWN_WALLET_PRIVATE_KEY because GASTOWN_ALLOW_UNENCRYPTED_KEYS=true. ' +
  'Anyone who can read this environment (process listings, shell history, crash dumps) can spend from this wallet. ' +
  'Import it into the encrypted keystore (crosstown wallet configure) and unset both variables.';

export interface ResolveWalletKeyOptions {
  /** Keystore directory. */
  dir: string;
  /** Needed when the keystore holds the wallet key. */
  passphrase?: string;
  /** Default process.env. */
  env?: Record<string, string | undefined>;
  /** Receives the plaintext-key warning (also returned). Default: console.error. */
  onWarning?: (message: string) => void;
}

export interface WalletKey {
  secretKey: Uint8Array;
  /** Checksummed address. */
  address: string;
  source: 'keystore' | 'env-plaintext';
  warning?: string;
}

/**
 * The wallet key: from the keystore when it has one (passphrase required), otherwise from
 * GASTOWN_WALLET_PRIVATE_KEY only if GASTOWN_ALLOW_UNENCRYPTED_KEYS=true. GASTOWN_WALLET_ADDRESS, when set,
 * must match.
 */
export async function resolveWalletKey(options: ResolveWalletKeyOptions): Promise<WalletKey> {
  const env = options.env ?? process.env;
  let key: WalletKey;
  if (keyInfo(options.dir, 'wallet')) {
    if (options.passphrase === undefined) {
      throw new KeystoreError(
        'PASSPHRASE_REQUIRED',
        `The wallet key in ${options.dir} is encrypted: a passphrase is needed to unlock it.`,
      );
    }
    const secretKey = await readKey({ dir: options.dir, entry: 'wallet', passphrase: options.passphrase });
    key = { secretKey, address: publicOf('wallet', secretKey), source: 'keystore' };
  } else if (env.GASTOWN_WALLET_PRIVATE_KEY) {
    if (env.GASTOWN_ALLOW_UNENCRYPTED_KEYS !== 'true') {
      throw new KeystoreError(
        'PLAINTEXT_KEY_REFUSED',
        'GASTOWN_WALLET_PRIVATE_KEY holds a plaintext private key, which crosstown refuses: import it into the ' +
          'encrypted keystore (crosstown wallet configure) and unset the variable, or set GASTOWN_ALLOW_UNENCRYPTED_KEYS=true ' +
          'to use it anyway (not recommended).',
      );
    }
    const secretKey = parseSecretKeyHex(env.GASTOWN_WALLET_PRIVATE_KEY, 'GASTOWN_WALLET_PRIVATE_KEY');
    key = {
      secretKey,
      address: publicOf('wallet', secretKey),
      source: 'env-plaintext',
      warning: PLAINTEXT_KEY_WARNING,
    };
    (options.onWarning ?? ((m: string) => console.error(m)))(PLAINTEXT_KEY_WARNING);
  } else {
    throw new KeystoreError('NO_KEY', `No wallet key in ${options.dir}: ${configureHint(options.dir)}.`);
  }
  const expected = env.GASTOWN_WALLET_ADDRESS;
  if (expected && expected.toLowerCase() !== key.address.toLowerCase()) {
    key.secretKey.fill(0);
    throw new KeystoreError(
      'ADDRESS_MISMATCH',
      `GASTOWN_WALLET_ADDRESS is ${expected} but the wallet key belongs to ${key.address}: fix the variable or use the matching key.`,
    );
  }
  return key;
}

/** The Mayor's Nostr secret key; created (random) and stored encrypted on first use. */
export async function ensureNostrKey(options: {
  dir: string;
  passphrase: string;
}): Promise<{ secretKey: Uint8Array; pubkey: string; created: boolean }> {
  if (keyInfo(options.dir, 'nostr')) {
    const secretKey = await readKey({ dir: options.dir, entry: 'nostr', passphrase: options.passphrase });
    return { secretKey, pubkey: publicOf('nostr', secretKey), created: false };
  }
  const secretKey = generateSecretKey();
  await writeKey({ dir: options.dir, entry: 'nostr', secretKey, passphrase: options.passphrase });
  return { secretKey, pubkey: publicOf('nostr', secretKey), created: true };
}
