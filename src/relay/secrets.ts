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
  /** RFC 0039 receipt nonce and secret the sender chose in its SPSP query, per account. */
  private readonly receipts = new Map<string, ReceiptSetup>();

  constructor(readonly baseAddress: string) {
    if (!isValidIlpAddress(baseAddress)) {
      throw new TypeError(
        `base address '${baseAddress}' is not a valid ILP address (e.g. g.crosstown.relay)`,
      );
    }
  }

  /** Creates an account with a fresh random 32-byte secret (what an SPSP responder hands out). */
  issue(account: string = randomBytes(12).toString('base64url'), receipt?: ReceiptSetup): IssuedAccount {
    if (receipt && (receipt.nonce.length !== 16 || receipt.secret.length !== 32))
      throw new TypeError('a receipt nonce is 16 bytes and a receipt secret 32 bytes');
    const sharedSecret = new Uint8Array(randomBytes(32));
    this.set(account, sharedSecret);
    if (receipt) {
      this.receipts.set(account, receipt);
    } else {
      this.receipts.delete(account); // a re-issued account does not keep an earlier sender's receipt setup
    }
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
    if (a.receipt) this.receipts.set(a.account, a.receipt);
  }

  private accountName(destination: string): string | undefined {
    const prefix = `${this.baseAddress}.`;
    if (!destination.startsWith(prefix)) return undefined;
    return destination.slice(prefix.length).split('.')[0] || undefined;
  }
}
