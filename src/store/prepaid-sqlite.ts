// Durable prepaid balances (issue 18): an SPSP account that received money over STREAM is kept with its shared
// secret, receipt setup and balance, so a restart (or a SIGKILL) loses neither the money nor the means to spend it.
// Every change is committed (WAL, synchronous=FULL) before the caller answers the PREPARE.
// A write paid from a balance is recorded by its PREPARE's condition in the same transaction as the debit, until
// the PREPARE expires: a replay after a restart is then recognised as paid and charged nothing (issue 18).
import Database from 'better-sqlite3';

export interface PrepaidRow {
  account: string;
  sharedSecret: Uint8Array;
  receipt?: { nonce: Uint8Array; secret: Uint8Array };
  balance: bigint;
  /** Total received per STREAM stream id under `sharedSecret` (what its receipts prove). */
  streams?: ReadonlyMap<bigint, bigint>;
}

/** A write paid from a balance: its PREPARE's condition, remembered until the PREPARE expires. */
export interface PaidWrite {
  condition: Uint8Array;
  expiresAtMs: number;
}

/** What a balance change does to the paid writes, in the same transaction. */
export interface PaidWriteChange {
  /** The debit paid this write. Entries expired by `nowMs` are pruned with it. */
  add?: PaidWrite;
  /** The refund gives this write's charge back: it was not paid after all. */
  remove?: Uint8Array;
  nowMs: number;
}

export interface PrepaidPersistence {
  load(): PrepaidRow[];
  /** Paid writes whose PREPARE has not expired at `nowMs`. */
  loadPaidWrites(nowMs: number): PaidWrite[];
  /** Writes the account's row (insert or update) and the paid-write change, in one transaction durable when it returns. */
  save(row: PrepaidRow, writes?: PaidWriteChange): void;
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
  ) STRICT;
  CREATE TABLE IF NOT EXISTS prepaid_writes (
    condition BLOB PRIMARY KEY,
    expires_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX IF NOT EXISTS prepaid_writes_expiry ON prepaid_writes (expires_at)`);
  // Added after the first release: a prepaid.db made before has no column for the streams' totals yet.
  const columns = db.prepare('PRAGMA table_info(prepaid_accounts)').all() as { name: string }[];
  if (!columns.some((c) => c.name === 'streams'))
    db.exec('ALTER TABLE prepaid_accounts ADD COLUMN streams TEXT');
  const upsert = db.prepare(
    `INSERT INTO prepaid_accounts (account, shared_secret, receipt_nonce, receipt_secret, balance, streams)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (account) DO UPDATE SET shared_secret = excluded.shared_secret,
       receipt_nonce = excluded.receipt_nonce, receipt_secret = excluded.receipt_secret, balance = excluded.balance,
       streams = excluded.streams`,
  );
  const all = db.prepare('SELECT * FROM prepaid_accounts');
  const addWrite = db.prepare('INSERT OR REPLACE INTO prepaid_writes (condition, expires_at) VALUES (?, ?)');
  const removeWrite = db.prepare('DELETE FROM prepaid_writes WHERE condition = ?');
  const pruneWrites = db.prepare('DELETE FROM prepaid_writes WHERE expires_at <= ?');
  const liveWrites = db.prepare('SELECT condition, expires_at FROM prepaid_writes WHERE expires_at > ?');
  const save = db.transaction((row: PrepaidRow, writes?: PaidWriteChange) => {
    upsert.run(
      row.account,
      Buffer.from(row.sharedSecret),
      row.receipt ? Buffer.from(row.receipt.nonce) : null,
      row.receipt ? Buffer.from(row.receipt.secret) : null,
      row.balance.toString(),
      row.streams ? encodeStreams(row.streams) : null,
    );
    if (writes?.add) {
      pruneWrites.run(writes.nowMs);
      addWrite.run(Buffer.from(writes.add.condition), writes.add.expiresAtMs);
    }
    if (writes?.remove) removeWrite.run(Buffer.from(writes.remove));
  });
  return {
    load: () =>
      (
        all.all() as {
          account: string;
          shared_secret: Buffer;
          receipt_nonce: Buffer | null;
          receipt_secret: Buffer | null;
          balance: string;
          streams: string | null;
        }[]
      ).map((r) => ({
        account: r.account,
        sharedSecret: new Uint8Array(r.shared_secret),
        ...(r.receipt_nonce &&
          r.receipt_secret && {
            receipt: { nonce: new Uint8Array(r.receipt_nonce), secret: new Uint8Array(r.receipt_secret) },
          }),
        balance: BigInt(r.balance),
        ...(r.streams !== null && { streams: decodeStreams(r.streams) }),
      })),
    loadPaidWrites: (nowMs) =>
      (liveWrites.all(nowMs) as { condition: Buffer; expires_at: number }[]).map((r) => ({
        condition: new Uint8Array(r.condition),
        expiresAtMs: r.expires_at,
      })),
    save: (row, writes) => save(row, writes),
    close: () => db.close(),
  };
}

/** `{"<stream id>": "<total>"}`, decimal strings: JSON has no 64-bit integers. */
function encodeStreams(streams: ReadonlyMap<bigint, bigint>): string {
  return JSON.stringify(
    Object.fromEntries([...streams].map(([id, total]) => [id.toString(), total.toString()])),
  );
}

function decodeStreams(json: string): Map<bigint, bigint> {
  const o = JSON.parse(json) as Record<string, string>;
  return new Map(Object.entries(o).map(([id, total]) => [BigInt(id), BigInt(total)]));
}
