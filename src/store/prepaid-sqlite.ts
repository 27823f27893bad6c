// Durable prepaid balances (issue 18): an SPSP account that received money over STREAM is kept with its shared
// secret, receipt setup and balance, so a restart (or a SIGKILL) loses neither the money nor the means to spend it.
// Every change is committed (WAL, synchronous=FULL) before the caller answers the PREPARE.
import Database from 'better-sqlite3';

export interface PrepaidRow {
  account: string;
  sharedSecret: Uint8Array;
  receipt?: { nonce: Uint8Array; secret: Uint8Array };
  balance: bigint;
}

export interface PrepaidPersistence {
  load(): PrepaidRow[];
  /** Writes the account's row (insert or update), durable when it returns. */
  save(row: PrepaidRow): void;
  close(): void;
}

export function openPrepaidStore(path: string): PrepaidPersistence {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE IF NOT EXISTS prepaid_accounts (
    account TEXT PRIMARY KEY,
    shared_secret BLOB NOT NULL,
    receipt_nonce BLOB,
    receipt_secret BLOB,
    balance TEXT NOT NULL
  ) STRICT`);
  const upsert = db.prepare(
    `INSERT INTO prepaid_accounts (account, shared_secret, receipt_nonce, receipt_secret, balance)
     VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (account) DO UPDATE SET shared_secret = excluded.shared_secret,
       receipt_nonce = excluded.receipt_nonce, receipt_secret = excluded.receipt_secret, balance = excluded.balance`,
  );
  const all = db.prepare('SELECT * FROM prepaid_accounts');
  return {
    load: () =>
      (
        all.all() as {
          account: string;
          shared_secret: Buffer;
          receipt_nonce: Buffer | null;
          receipt_secret: Buffer | null;
          balance: string;
        }[]
      ).map((r) => ({
        account: r.account,
        sharedSecret: new Uint8Array(r.shared_secret),
        ...(r.receipt_nonce &&
          r.receipt_secret && {
            receipt: { nonce: new Uint8Array(r.receipt_nonce), secret: new Uint8Array(r.receipt_secret) },
          }),
        balance: BigInt(r.balance),
      })),
    save: (row) => {
      upsert.run(
        row.account,
        Buffer.from(row.sharedSecret),
        row.receipt ? Buffer.from(row.receipt.nonce) : null,
        row.receipt ? Buffer.from(row.receipt.secret) : null,
        row.balance.toString(),
      );
    },
    close: () => db.close(),
  };
}
