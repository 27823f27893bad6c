// The providers this Mayor no longer buys from: `blocked-providers.json` in its state directory, replaced
// atomically (tmp + fsync + rename, src/mayor/state/atomic.ts) on every change, so a crash leaves the old list or
// the new one. The state repository's next commit picks the file up (`git add -A`), so it is in the git history
// too. Each entry keeps why (the mismatch), the fraud report that proves it, and whether that report reached
// the relay (an unpublished one is published again on the next start).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { NostrEvent } from '../../nostr/types.js';
import { isHex64, isPlainObject } from '../../nostr/validate.js';
import { ensureDir, writeFileAtomic } from '../state/atomic.js';

export const BLOCKLIST_FILE = 'blocked-providers.json';

export interface BlockedProvider {
  pubkey: string;
  /** Why, in words (the mismatch the Mayor saw). */
  reason: string;
  /** Unix milliseconds. */
  at: number;
  jobId?: string;
  resultEventId?: string;
  /** The id of the fraud report (kind 1984), when one was signed. */
  reportId?: string;
  /** The signed report, kept until it is on the relay. */
  report?: NostrEvent;
  /** The report reached the relay (or there is none to publish). */
  published: boolean;
}

export class BlocklistError extends Error {
  readonly code = 'BLOCKLIST_CORRUPT';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BlocklistError';
  }
}

export class Blocklist {
  private readonly entries = new Map<string, BlockedProvider>();

  private constructor(readonly path: string) {}

  /** Reads `<dir>/blocked-providers.json` (an empty list when there is none). */
  static open(dir: string): Blocklist {
    const list = new Blocklist(join(dir, BLOCKLIST_FILE));
    if (!existsSync(list.path)) return list;
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(list.path, 'utf8'));
    } catch (err) {
      throw new BlocklistError(
        `${list.path} is not valid JSON: restore it from the state repository (git checkout -- ${BLOCKLIST_FILE})`,
        { cause: err },
      );
    }
    const providers = isPlainObject(doc) ? doc.providers : undefined;
    if (!Array.isArray(providers))
      throw new BlocklistError(`${list.path} has no "providers" list: restore it from the state repository`);
    for (const p of providers) {
      if (!isPlainObject(p) || !isHex64(p.pubkey) || typeof p.reason !== 'string')
        throw new BlocklistError(
          `${list.path} holds an entry without a pubkey and reason: restore it from git`,
        );
      list.entries.set(p.pubkey, p as unknown as BlockedProvider);
    }
    return list;
  }

  has(pubkey: string): boolean {
    return this.entries.has(pubkey);
  }

  get(pubkey: string): BlockedProvider | undefined {
    return this.entries.get(pubkey);
  }

  list(): BlockedProvider[] {
    return [...this.entries.values()];
  }

  /** Reports signed but not yet on the relay. */
  unpublished(): BlockedProvider[] {
    return this.list().filter((e) => !e.published && e.report);
  }

  /** Adds (or replaces) a provider's entry; durable when this returns. The first block of a provider wins. */
  block(entry: BlockedProvider): BlockedProvider {
    if (!isHex64(entry.pubkey)) throw new BlocklistError('a blocked provider needs a 64 hex pubkey');
    this.entries.set(entry.pubkey, entry);
    this.save();
    return entry;
  }

  markPublished(pubkey: string): void {
    const e = this.entries.get(pubkey);
    if (!e || e.published) return;
    const { report: _sent, ...rest } = e;
    this.entries.set(pubkey, { ...rest, published: true });
    this.save();
  }

  /** The operator's way back (a provider that fixed its software, or a block made in error). */
  unblock(pubkey: string): boolean {
    if (!this.entries.delete(pubkey)) return false;
    this.save();
    return true;
  }

  private save(): void {
    ensureDir(resolve(this.path, '..'));
    writeFileAtomic(this.path, `${JSON.stringify({ version: 1, providers: this.list() }, null, 2)}\n`);
  }
}

const open = new Map<string, Blocklist>();

/** One Blocklist per state directory in this process: the fraud handler and the result intake share it. */
export function blocklistFor(dir: string): Blocklist {
  const key = resolve(dir);
  let list = open.get(key);
  if (!list) {
    list = Blocklist.open(key);
    open.set(key, list);
  }
  return list;
}
