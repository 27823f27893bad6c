// A crash between a prepaid debit and the event's save (real SQLite files: prepaid.db and the event store): the
// debit and its paid-write record committed together, the event did not. After a "restart" (new objects on the
// same files), the replayed PREPARE is fulfilled, the event stored, and nothing charged a second time. An expired
// record is pruned and a refunded write's record removed, so neither makes a later write free.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conditionOf, deriveFulfillment, IlpPacketType, type IlpPrepare } from '../../src/ilp/index.js';
import { finalizeEvent, generateSecretKey } from '../../src/nostr/index.js';
import { encodeEventBytes } from '../../src/toon/index.js';
import { openPrepaidRelay, PREPAID_PRICE } from './prepaid-helpers.js';

const PRICE = PREPAID_PRICE;
const dir = mkdtempSync(join(tmpdir(), 'crosstown-prepaid-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const open = () => openPrepaidRelay(dir);

const note = (content: string, sk = generateSecretKey(), kind = 1, tags: string[][] = []) =>
  finalizeEvent({ kind, created_at: Math.floor(Date.now() / 1000), tags, content }, sk);

function write(
  secret: Uint8Array,
  destination: string,
  content: string | ReturnType<typeof note>,
  expiresInMs = 60_000,
): IlpPrepare {
  const event = typeof content === 'string' ? note(content) : content;
  const data = encodeEventBytes(event);
  return {
    type: IlpPacketType.Prepare,
    amount: 0n,
    expiresAt: new Date(Date.now() + expiresInMs),
    executionCondition: conditionOf(deriveFulfillment(secret, data)),
    destination,
    data,
  };
}

describe('prepaid writes and crashes', () => {
  it('a debit whose save a crash cut: the replay stores the event and charges nothing', async () => {
    const first = await open();
    const acct = first.secrets.issue('alice');
    first.prepaid.credit(first.secrets.accountOf(acct.destination)!, 100_000n);
    const w = write(acct.sharedSecret, acct.destination, 'cut by a crash');
    const price = BigInt(w.data.length) * PRICE;
    // What the gate does before saving, then the process dies: the debit and its record are on disk.
    const paid = { condition: w.executionCondition, expiresAtMs: w.expiresAt.getTime(), nowMs: Date.now() };
    expect(first.prepaid.debit(acct.destination, price, paid)).toBe(true);
    await first.close();

    const second = await open();
    expect(second.prepaid.balance('alice')).toBe(100_000n - price);
    const reply = await second.gate(w);
    expect(reply.type).toBe(IlpPacketType.Fulfill);
    expect(second.prepaid.balance('alice')).toBe(100_000n - price);
    const id = Buffer.from((reply as { data: Uint8Array }).data).toString('hex');
    expect((await second.store.get(id))?.content).toBe('cut by a crash');

    // A refunded write (its author deleted it: NIP-09) keeps no record: it was not paid after all.
    const sk = generateSecretKey();
    const target = note('to be deleted', sk);
    const deletion = write(acct.sharedSecret, acct.destination, note('', sk, 5, [['e', target.id]]));
    expect((await second.gate(deletion)).type).toBe(IlpPacketType.Fulfill);
    const before = second.prepaid.balance('alice');
    const blocked = write(acct.sharedSecret, acct.destination, target);
    expect((await second.gate(blocked)).type).toBe(IlpPacketType.Reject);
    expect(second.prepaid.balance('alice')).toBe(before);
    expect(second.prepaid.paidAlready(blocked.executionCondition, Date.now())).toBe(false);

    // A record pruned after its PREPARE expired never makes a new write free.
    const beforeSoon = second.prepaid.balance('alice');
    const soon = write(acct.sharedSecret, acct.destination, 'expires soon', 300);
    expect((await second.gate(soon)).type).toBe(IlpPacketType.Fulfill);
    expect(second.prepaid.balance('alice')).toBe(beforeSoon - BigInt(soon.data.length) * PRICE);
    await new Promise((r) => setTimeout(r, 400));
    const later = write(acct.sharedSecret, acct.destination, 'later');
    expect((await second.gate(later)).type).toBe(IlpPacketType.Fulfill);
    await second.close();
    const third = await open();
    expect(third.prepaid.paidAlready(soon.executionCondition, Date.now())).toBe(false);
    expect(third.prepaid.paidAlready(later.executionCondition, Date.now())).toBe(true);
    expect(third.prepaid.paidAlready(blocked.executionCondition, Date.now())).toBe(false);
    await third.close();
  });
});
