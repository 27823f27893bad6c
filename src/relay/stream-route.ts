// Puts the STREAM receiver in front of the write gate: a PREPARE whose data decrypts under its account's STREAM
// key is a payment (a top-up credited to the account's prepaid balance); anything else is a write. A TOON event
// cannot pass the AES-GCM tag check, so the two never mix; the cost is one failed decryption per write.
import { createStreamReceiver, type StreamAccount } from '../ilp/stream/index.js';
import type { HandlePrepare } from './gate.js';
import { PrepaidBalances } from './prepaid.js';
import type { SecretStore } from './secrets.js';

/** A secret store that also names accounts (AccountSecretStore): needed to credit STREAM payments. */
export interface AccountLookup extends SecretStore {
  accountOf(destination: string): StreamAccount | undefined;
}

export function hasAccounts(secrets: SecretStore): secrets is AccountLookup {
  return typeof (secrets as Partial<AccountLookup>).accountOf === 'function';
}

/** Prepaid balances for a relay whose secret store names accounts; undefined otherwise. */
export function prepaidFor(secrets: SecretStore): PrepaidBalances | undefined {
  return hasAccounts(secrets) ? new PrepaidBalances((d) => secrets.accountOf(d)) : undefined;
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
    credit: (account, amount) => prepaid.credit(account, amount),
    assetCode: opts.asset.code,
    assetScale: opts.asset.scale,
    address: opts.address,
  });
  return async (prepare, ctx) => {
    // An expired PREPARE goes to the gate, which refuses it (R00) whatever it carries.
    const nowMs = ctx?.now?.getTime() ?? opts.now();
    if (prepare.expiresAt.getTime() <= nowMs) return gate(prepare, ctx);
    return (await receive(prepare)) ?? gate(prepare, ctx);
  };
}
