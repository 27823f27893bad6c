// One sender, one transaction at a time between "pick a nonce" and "broadcast". viem picks the nonce of a send
// from the account's pending transaction count; two overlapping sends from one account (a provider Mayor's closure
// watcher redeeming while the same wallet tops up its own channel) would read the same count and one would be
// refused. Holding a per-account lock only until the node has the transaction keeps sends in order without a
// nonce cache, which would go stale when a devnet is reset under a running process.
import type { Address } from 'viem';

const tails = new Map<string, Promise<unknown>>();

/** Runs `send` (which must resolve once the transaction is broadcast) after every earlier send of `account`. */
export function withSendLock<T>(account: Address, send: () => Promise<T>): Promise<T> {
  const key = account.toLowerCase();
  const before = tails.get(key) ?? Promise.resolve();
  const run = before.then(send, send);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  tails.set(key, tail);
  // Forget the account once its queue is empty, so the map does not grow with every key ever used.
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return run;
}
