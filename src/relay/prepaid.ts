// Prepaid balances of SPSP accounts: money an account received over STREAM (a top-up), spent on later writes to
// the same account that carry less than the price. Only the holder of the account's shared secret can write to it
// (the PREPARE's condition is derived from that secret and the event), so only it can spend the balance.
// In memory, like the account secrets themselves (docs/decisions.md, issue 18).

export class PrepaidBalances {
  private readonly balances = new Map<string, bigint>();

  constructor(
    /** The account a PREPARE destination pays (AccountSecretStore.accountOf). */
    private readonly accountOf: (destination: string) => { account: string } | undefined,
  ) {}

  credit(account: string, amount: bigint): void {
    if (amount < 0n) throw new RangeError('a credit is a non-negative amount');
    this.balances.set(account, (this.balances.get(account) ?? 0n) + amount);
  }

  balance(account: string): bigint {
    return this.balances.get(account) ?? 0n;
  }

  /** Balance of the account `destination` pays (0n for none). */
  balanceAt(destination: string): bigint {
    const a = this.accountOf(destination);
    return a ? this.balance(a.account) : 0n;
  }

  /** Takes `amount` from the account `destination` pays, all or nothing; false when it holds less. */
  debit(destination: string, amount: bigint): boolean {
    const a = this.accountOf(destination);
    if (!a) return false;
    const have = this.balance(a.account);
    if (amount < 0n || have < amount) return false;
    this.balances.set(a.account, have - amount);
    return true;
  }

  /** Gives back a debit whose write was then refused. */
  refund(destination: string, amount: bigint): void {
    const a = this.accountOf(destination);
    if (a) this.credit(a.account, amount);
  }
}
