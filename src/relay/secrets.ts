import { randomBytes } from 'node:crypto';
import { isValidIlpAddress } from '../ilp/index.js';

/** Where the write gate finds the SPSP shared secret for a PREPARE's destination. */
export interface SecretStore {
  secretFor(destination: string): Uint8Array | undefined;
}

export interface IssuedAccount {
  account: string;
  /** The address a sender pays: `<base address>.<account>`. */
  destination: string;
  sharedSecret: Uint8Array;
}

/**
 * Shared secrets per account under one base address. A sender is given `<base>.<account>`; anything after the
 * account segment (`<base>.<account>.<more>`) maps to the same account, as STREAM receivers do.
 */
export class AccountSecretStore implements SecretStore {
  private readonly secrets = new Map<string, Uint8Array>();

  constructor(readonly baseAddress: string) {
    if (!isValidIlpAddress(baseAddress)) {
      throw new TypeError(
        `base address '${baseAddress}' is not a valid ILP address (e.g. g.crosstown.relay)`,
      );
    }
  }

  /** Creates an account with a fresh random 32-byte secret (what an SPSP responder hands out). */
  issue(account: string = randomBytes(12).toString('base64url')): IssuedAccount {
    const sharedSecret = new Uint8Array(randomBytes(32));
    this.set(account, sharedSecret);
    return { account, destination: `${this.baseAddress}.${account}`, sharedSecret };
  }

  set(account: string, sharedSecret: Uint8Array): void {
    if (!/^[a-zA-Z0-9_~-]+$/.test(account)) {
      throw new TypeError(`account '${account}' must be one ILP address segment: letters, digits, _ ~ -`);
    }
    if (sharedSecret.length !== 32) throw new TypeError('a shared secret must be 32 bytes');
    this.secrets.set(account, sharedSecret);
  }

  delete(account: string): boolean {
    return this.secrets.delete(account);
  }

  secretFor(destination: string): Uint8Array | undefined {
    const prefix = `${this.baseAddress}.`;
    if (!destination.startsWith(prefix)) return undefined;
    const account = destination.slice(prefix.length).split('.')[0];
    return account ? this.secrets.get(account) : undefined;
  }
}
