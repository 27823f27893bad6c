// Prepaid balances of SPSP accounts: money an account received over STREAM (a top-up), spent on later writes to
// the same account that carry less than the price. Only the holder of the account's shared secret can write to it
// (the PREPARE's condition is derived from that secret and the event), so only it can spend the balance.
// With a persistence (the node gives one), an account that holds money is saved with its secret on every change,
// before the PREPARE is answered, and restored on start.
// A write paid from a balance is remembered by its PREPARE's condition until the PREPARE expires, saved in the same
// transaction as the debit: a replayed PREPARE (before or after a restart) is charged nothing.
import type { StreamAccount } from '../ilp/stream/index.js';
import type { PaidWriteChange, PrepaidPersistence } from '../store/prepaid-sqlite.js';
import { ReplayGuard } from './replay-guard.js';

/** The PREPARE a debit pays for: remembered as paid until it expires. */
export interface PaidPrepare {
  condition: Uint8Array;
  expiresAtMs: number;
  nowMs: number;
}

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
  /** What each account received per STREAM stream under the secret it was received with (its receipts' totals). */
  private readonly received = new Map<string, Received>();
  /** Conditions of writes paid from a balance, until their PREPARE expires. */
  private readonly paidWrites = new ReplayGuard();

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
      if (row.streams) this.received.set(row.account, { secret: row.sharedSecret, streams: row.streams });
      this.balances.set(row.account, row.balance);
    }
    const now = Date.now();
    for (const w of persistence?.loadPaidWrites(now) ?? [])
      this.paidWrites.add(w.condition, w.expiresAtMs, now);
  }

  /** Whether a write with this condition was already paid from a balance (and its PREPARE has not expired). */
  paidAlready(condition: Uint8Array, nowMs: number): boolean {
    return this.paidWrites.has(condition, nowMs);
  }

  /**
   * Adds money received by `account` (durable before it returns, with a persistence). `streams`: the account's
   * total per STREAM stream id with this money counted, kept with it so receipts continue after a restart.
   */
  credit(account: StreamAccount, amount: bigint, streams?: ReadonlyMap<bigint, bigint>): void {
    if (amount < 0n) throw new RangeError('a credit is a non-negative amount');
    this.known.set(account.account, account);
    const before = this.received.get(account.account);
    if (streams)
      this.received.set(account.account, { secret: account.sharedSecret, streams: new Map(streams) });
    try {
      this.set(account.account, this.balance(account.account) + amount);
    } catch (err) {
      if (before) this.received.set(account.account, before);
      else this.received.delete(account.account);
      throw err;
    }
  }

  /**
   * The totals per stream id `account` received before, under its current secret (a re-issued account, with a new
   * secret and receipt setup, starts again at 0, as its new sender's verifier expects).
   */
  receivedOf(account: StreamAccount): ReadonlyMap<bigint, bigint> | undefined {
    const r = this.received.get(account.account);
    return r && sameBytes(r.secret, account.sharedSecret) ? r.streams : undefined;
  }

  balance(account: string): bigint {
    return this.balances.get(account) ?? 0n;
  }

  /** Balance of the account `destination` pays (0n for none). */
  balanceAt(destination: string): bigint {
    const a = this.accounts.accountOf(destination);
    return a ? this.balance(a.account) : 0n;
  }

  /**
   * Takes `amount` from the account `destination` pays, all or nothing; false when it holds less. `paid`: the
   * PREPARE this pays for, recorded as paid with the debit (durably, with a persistence).
   */
  debit(destination: string, amount: bigint, paid?: PaidPrepare): boolean {
    const a = this.accounts.accountOf(destination);
    if (!a) return false;
    const have = this.balance(a.account);
    if (amount < 0n || have < amount) return false;
    // The account's current secret: SPSP over Nostr re-issues a Mayor's account (same name) after a restart.
    this.known.set(a.account, a);
    const add = paid && { condition: paid.condition, expiresAtMs: paid.expiresAtMs };
    this.set(a.account, have - amount, add ? { add, nowMs: paid.nowMs } : undefined);
    if (paid) this.paidWrites.add(paid.condition, paid.expiresAtMs, paid.nowMs);
    return true;
  }

  /** Gives back a debit whose write was then refused (`condition`: the write it paid for, no longer paid). */
  refund(destination: string, amount: bigint, condition?: Uint8Array): void {
    const a = this.accounts.accountOf(destination);
    if (!a) return;
    this.known.set(a.account, a);
    const change = condition && { remove: condition, nowMs: Date.now() };
    this.set(a.account, this.balance(a.account) + amount, change || undefined);
    if (condition) this.paidWrites.delete(condition);
  }

  private set(account: string, balance: bigint, writes?: PaidWriteChange): void {
    const known = this.known.get(account);
    // Saved first: if the commit fails, the caller refuses the PREPARE and nothing changed.
    if (this.persistence && known) {
      const streams = this.receivedOf(known);
      this.persistence.save({ ...known, balance, ...(streams && { streams }) }, writes);
    }
    this.balances.set(account, balance);
  }
}

interface Received {
  secret: Uint8Array;
  streams: ReadonlyMap<bigint, bigint>;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
