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
  /** Accounts that lapse when unused: last use (ms) and how long they may sit idle. */
  private readonly idle = new Map<string, { lastUsed: number; ttlMs: number }>();

  constructor(
    readonly baseAddress: string,
    private readonly now: () => number = Date.now,
  ) {
    if (!isValidIlpAddress(baseAddress)) {
      throw new TypeError(
        `base address '${baseAddress}' is not a valid ILP address (e.g. g.crosstown.relay)`,
      );
    }
  }

  /**
   * Creates an account with a fresh random 32-byte secret (what an SPSP responder hands out). With
   * `expireUnusedAfterMs` it is forgotten once no PREPARE has named it for that long (anonymous SPSP over HTTP).
   */
  issue(
    account: string = randomBytes(12).toString('base64url'),
    options: { expireUnusedAfterMs?: number } = {},
  ): IssuedAccount {
    const sharedSecret = new Uint8Array(randomBytes(32));
    this.set(account, sharedSecret);
    if (options.expireUnusedAfterMs !== undefined)
      this.idle.set(account, { lastUsed: this.now(), ttlMs: options.expireUnusedAfterMs });
    return { account, destination: `${this.baseAddress}.${account}`, sharedSecret };
  }

  /** Forgets the expiring accounts idle past their time; returns how many expiring accounts remain. */
  sweep(): number {
    const now = this.now();
    for (const [account, { lastUsed, ttlMs }] of this.idle) {
      if (now - lastUsed > ttlMs) this.delete(account);
    }
    return this.idle.size;
  }

  set(account: string, sharedSecret: Uint8Array): void {
    if (!/^[a-zA-Z0-9_~-]+$/.test(account)) {
      throw new TypeError(`account '${account}' must be one ILP address segment: letters, digits, _ ~ -`);
    }
    if (sharedSecret.length !== 32) throw new TypeError('a shared secret must be 32 bytes');
    this.secrets.set(account, sharedSecret);
  }

  delete(account: string): boolean {
    this.idle.delete(account);
    return this.secrets.delete(account);
  }

  secretFor(destination: string): Uint8Array | undefined {
    const prefix = `${this.baseAddress}.`;
    if (!destination.startsWith(prefix)) return undefined;
    const account = destination.slice(prefix.length).split('.')[0];
    if (!account) return undefined;
    const idle = this.idle.get(account);
    if (idle) {
      const now = this.now();
      if (now - idle.lastUsed > idle.ttlMs) {
        this.delete(account);
        return undefined;
      }
      idle.lastUsed = now;
    }
    return this.secrets.get(account);
  }
}
