// Prepaid balances of SPSP accounts: money an account received over STREAM (a top-up), spent on later writes to
// the same account that carry less than the price. Only the holder of the account's shared secret can write to it
// (the PREPARE's condition is derived from that secret and the event), so only it can spend the balance.
// With a persistence (the node gives one), an account that holds money is saved with its secret on every change,
// before the PREPARE is answered, and restored on start.
import type { StreamAccount } from '../ilp/stream/index.js';
import type { PrepaidPersistence } from '../store/prepaid-sqlite.js';

export interface PrepaidAccounts {
  /** The account a PREPARE destination pays (AccountSecretStore.accountOf). */
  accountOf(destination: string): StreamAccount | undefined;
  /** Puts back an account saved before a restart. */
  restore(account: StreamAccount): void;
}

export class PrepaidBalances {
  private readonly balances = new Map<string, bigint>();
  /** The secret (and receipt setup) of accounts that hold money, for the persistence. */
  private readonly known = new Map<string, StreamAccount>();

  constructor(
    private readonly accounts: Pick<PrepaidAccounts, 'accountOf'> & Partial<PrepaidAccounts>,
    private readonly persistence?: PrepaidPersistence,
  ) {
    for (const row of persistence?.load() ?? []) {
      const account: StreamAccount = {
        account: row.account,
        sharedSecret: row.sharedSecret,
        ...(row.receipt && { receipt: row.receipt }),
      };
      accounts.restore?.(account);
      this.known.set(row.account, account);
      this.balances.set(row.account, row.balance);
    }
  }

  /** Adds money received by `account` (durable before it returns, with a persistence). */
  credit(account: StreamAccount, amount: bigint): void {
    if (amount < 0n) throw new RangeError('a credit is a non-negative amount');
    this.known.set(account.account, account);
    this.set(account.account, this.balance(account.account) + amount);
  }

  balance(account: string): bigint {
    return this.balances.get(account) ?? 0n;
  }

  /** Balance of the account `destination` pays (0n for none). */
  balanceAt(destination: string): bigint {
    const a = this.accounts.accountOf(destination);
    return a ? this.balance(a.account) : 0n;
  }

  /** Takes `amount` from the account `destination` pays, all or nothing; false when it holds less. */
  debit(destination: string, amount: bigint): boolean {
    const a = this.accounts.accountOf(destination);
    if (!a) return false;
    const have = this.balance(a.account);
    if (amount < 0n || have < amount) return false;
    // The account's current secret: SPSP over Nostr re-issues a Mayor's account (same name) after a restart.
    this.known.set(a.account, a);
    this.set(a.account, have - amount);
    return true;
  }

  /** Gives back a debit whose write was then refused. */
  refund(destination: string, amount: bigint): void {
    const a = this.accounts.accountOf(destination);
    if (a) this.credit(a, amount);
  }

  private set(account: string, balance: bigint): void {
    const known = this.known.get(account);
    // Saved first: if the commit fails, the caller refuses the PREPARE and nothing changed.
    if (this.persistence && known) this.persistence.save({ ...known, balance });
    this.balances.set(account, balance);
  }
}
