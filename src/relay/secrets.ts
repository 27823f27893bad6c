import { randomBytes } from 'node:crypto';
import { isValidIlpAddress } from '../ilp/index.js';
import type { ReceiptSetup, StreamAccount } from '../ilp/stream/index.js';

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
  /** RFC 0039 receipt nonce and secret the sender chose in its SPSP query, per account. */
  private readonly receipts = new Map<string, ReceiptSetup>();

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
   * `expireUnusedAfterMs` it is forgotten once no PREPARE has named it for that long (anonymous SPSP over HTTP),
   * unless money was put in it first (`keep`). `receipt`: the RFC 0039 nonce and secret the sender chose.
   */
  issue(
    account: string = randomBytes(12).toString('base64url'),
    options: { expireUnusedAfterMs?: number; receipt?: ReceiptSetup } = {},
  ): IssuedAccount {
    const { receipt } = options;
    if (receipt && (receipt.nonce.length !== 16 || receipt.secret.length !== 32))
      throw new TypeError('a receipt nonce is 16 bytes and a receipt secret 32 bytes');
    const sharedSecret = new Uint8Array(randomBytes(32));
    this.set(account, sharedSecret);
    if (options.expireUnusedAfterMs !== undefined)
      this.idle.set(account, { lastUsed: this.now(), ttlMs: options.expireUnusedAfterMs });
    if (receipt) {
      this.receipts.set(account, receipt);
    } else {
      this.receipts.delete(account); // a re-issued account does not keep an earlier sender's receipt setup
    }
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

  /** An account that holds money (a STREAM top-up) never lapses, however long it sits unused. */
  keep(account: string): void {
    this.idle.delete(account);
  }

  delete(account: string): boolean {
    this.idle.delete(account);
    this.receipts.delete(account);
    return this.secrets.delete(account);
  }

  secretFor(destination: string): Uint8Array | undefined {
    const account = this.accountName(destination);
    return account === undefined ? undefined : this.secrets.get(account);
  }

  /** The account a destination pays, with its secret (and receipt setup): what the STREAM receiver needs. */
  accountOf(destination: string): StreamAccount | undefined {
    const account = this.accountName(destination);
    const sharedSecret = account === undefined ? undefined : this.secrets.get(account);
    if (account === undefined || !sharedSecret) return undefined;
    const receipt = this.receipts.get(account);
    return receipt ? { account, sharedSecret, receipt } : { account, sharedSecret };
  }

  /** Puts back an account saved before a restart (prepaid balances keep their accounts). */
  restore(a: StreamAccount): void {
    this.set(a.account, a.sharedSecret);
    this.idle.delete(a.account); // it holds money: it never lapses
    if (a.receipt) this.receipts.set(a.account, a.receipt);
  }

  private accountName(destination: string): string | undefined {
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
    return account;
  }
}
