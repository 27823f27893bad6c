// Puts the STREAM receiver in front of the write gate: a PREPARE whose data decrypts under its account's STREAM
// key is a payment (a top-up credited to the account's prepaid balance); anything else is a write. A TOON event
// cannot pass the AES-GCM tag check, so the two never mix. Writes skip the decryption attempt (tens of µs): TOON
// is text, and a STREAM packet starts with 28 random bytes (IV and tag) that are all printable with probability
// about 10^-12 (such a packet is refused F01 by the gate, and the sender's next one has a fresh IV).
import { createStreamReceiver, ENCRYPTION_OVERHEAD, type StreamAccount } from '../ilp/stream/index.js';
import type { PrepaidPersistence } from '../store/prepaid-sqlite.js';
import type { HandlePrepare } from './gate.js';
import { PrepaidBalances } from './prepaid.js';
import type { SecretStore } from './secrets.js';

/** A secret store that also names accounts (AccountSecretStore): needed to credit STREAM payments. */
export interface AccountLookup extends SecretStore {
  accountOf(destination: string): StreamAccount | undefined;
  restore(account: StreamAccount): void;
  /** Stops an account from lapsing when unused (it now holds money). */
  keep?(account: string): void;
}

export function hasAccounts(secrets: SecretStore): secrets is AccountLookup {
  const s = secrets as Partial<AccountLookup>;
  return typeof s.accountOf === 'function' && typeof s.restore === 'function';
}

/** Prepaid balances (restored from `persistence`) for a relay whose secret store names accounts. */
export function prepaidFor(
  secrets: SecretStore,
  persistence?: PrepaidPersistence,
): PrepaidBalances | undefined {
  return hasAccounts(secrets) ? new PrepaidBalances(secrets, persistence) : undefined;
}

export function withStreamReceiver(
  gate: HandlePrepare,
  opts: {
    secrets: SecretStore;
    prepaid: PrepaidBalances | undefined;
    address: string;
    asset: { code: string; scale: number };
    now: () => number;
  },
): HandlePrepare {
  const { secrets, prepaid } = opts;
  if (!prepaid || !hasAccounts(secrets)) return gate;
  const receive = createStreamReceiver({
    accountOf: (d) => secrets.accountOf(d),
    receivedOf: (account) => prepaid.receivedOf(account),
    credit: async (account, amount, received) => {
      await prepaid.credit(account, amount, received);
      secrets.keep?.(account.account); // it holds money now: it must not lapse as an unused SPSP account
    },
    assetCode: opts.asset.code,
    assetScale: opts.asset.scale,
    address: opts.address,
  });
  return async (prepare, ctx) => {
    // An expired PREPARE goes to the gate, which refuses it (R00) whatever it carries.
    const nowMs = ctx?.now?.getTime() ?? opts.now();
    if (prepare.expiresAt.getTime() <= nowMs || startsAsText(prepare.data)) return gate(prepare, ctx);
    return (await receive(prepare)) ?? gate(prepare, ctx);
  };
}

/** True when the bytes where a STREAM packet has its IV and auth tag are printable ASCII, tab or newline. */
function startsAsText(data: Uint8Array): boolean {
  const n = Math.min(data.length, ENCRYPTION_OVERHEAD);
  for (let i = 0; i < n; i++) {
    const b = data[i]!;
    if ((b < 0x20 || b > 0x7e) && b !== 0x0a && b !== 0x09 && b !== 0x0d) return false;
  }
  return true;
}
