// The keys of this provider's sealed results (issue 19), one fsynced JSON line per job in
// `<provider home>/sealed-keys.jsonl`, written before the sealed result is published: a provider killed after
// publishing still holds K after its restart and fulfills the requester's payment with it. A torn last line
// (a crash while appending) was never published, so it is skipped.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fsyncAll } from '../state/atomic.js';

export const SEALED_KEYS_FILE = 'sealed-keys.jsonl';

export interface SealedKey {
  jobId: string;
  /** The requester's pubkey: only its payment gets K. */
  requester: string;
  /** Lowercase hex SHA-256(key): the execution condition the payment must carry. */
  condition: string;
  key: Uint8Array;
  /** The price asked in the result (base units): a payment below it is refused. */
  amount: bigint;
}

type Line = { job: string; from: string; c: string; k: string; a: string; at: number };

export class SealedKeyStore {
  private readonly byJob = new Map<string, SealedKey>();
  /** saveDurably writes on their way to the disk, chained so they land in order. */
  private saving: Promise<void> = Promise.resolve();

  private constructor(readonly path: string) {}

  static open(home: string): SealedKeyStore {
    const store = new SealedKeyStore(join(home, SEALED_KEYS_FILE));
    if (existsSync(store.path)) {
      for (const raw of readFileSync(store.path, 'utf8').split('\n')) {
        if (!raw.trim()) continue;
        try {
          const l = JSON.parse(raw) as Line;
          store.byJob.set(l.job, {
            jobId: l.job,
            requester: l.from,
            condition: l.c,
            key: new Uint8Array(Buffer.from(l.k, 'hex')),
            amount: BigInt(l.a),
          });
        } catch {
          // torn write: that result was never published
        }
      }
    }
    return store;
  }

  /** Durable (fsynced) when it returns. A job sealed again (a re-run) replaces its key. */
  save(entry: SealedKey): void {
    const line = this.lineOf(entry);
    mkdirSync(dirname(this.path), { recursive: true });
    const fd = openSync(this.path, 'a');
    try {
      writeSync(fd, `${JSON.stringify(line)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.byJob.set(entry.jobId, entry);
  }

  /**
   * As save(), with the fsync on the thread pool, so the provider's main thread keeps working while K goes to the
   * disk; resolves once durable (and only then is the key kept). Saves are chained in order. The append itself
   * (page cache) is made on this thread: one thread-pool hop, not five, so a busy pool delays K little.
   */
  saveDurably(entry: SealedKey): Promise<void> {
    const line = `${JSON.stringify(this.lineOf(entry))}\n`;
    const run = this.saving.then(async () => {
      mkdirSync(dirname(this.path), { recursive: true });
      const fd = openSync(this.path, 'a');
      try {
        writeSync(fd, line);
        await fsyncAll([fd]);
      } finally {
        closeSync(fd);
      }
      this.byJob.set(entry.jobId, entry);
    });
    this.saving = run.catch(() => undefined);
    return run;
  }

  private lineOf(entry: SealedKey): Line {
    return {
      job: entry.jobId,
      from: entry.requester,
      c: entry.condition,
      k: Buffer.from(entry.key).toString('hex'),
      a: entry.amount.toString(),
      at: Date.now(),
    };
  }

  get(jobId: string): SealedKey | undefined {
    return this.byJob.get(jobId);
  }
}
