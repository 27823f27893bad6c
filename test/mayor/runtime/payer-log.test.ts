// The payer's record of the packets it pays for (payer-log.ts), on real files: what a restart reads back.
import { appendFileSync, closeSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PayerLog } from '../../../src/mayor/runtime/payer-log.js';

const dir = mkdtempSync(join(tmpdir(), 'crosstown-payer-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `log-${n++}.jsonl`);
const CH = `0x${'ab'.repeat(32)}` as const;
const NODE = '31337:0xcontract:0xnode';

describe('PayerLog', () => {
  it("a named payment the node listed with its fulfillment keeps it (a sealed result's key), read back after a restart", () => {
    const path = fresh();
    const log = PayerLog.open(path);
    log.track(NODE, CH, 0n);
    const key = 'ab'.repeat(32);
    log.sent('c1', 5n, 'job-1:p');
    log.sent('c1', 5n, 'job-1:p');
    log.fulfilled('c1', 5n); // the node's word alone (a resync that took it, without records to check)
    expect(log.fate('job-1:p')).toEqual({ fate: 'paid', record: {} });
    log.fulfilled('c1', 5n, key); // listed again, now with its fulfillment
    const expectKey = { fate: 'paid', record: { fulfillment: new Uint8Array(Buffer.from(key, 'hex')) } };
    expect(log.fate('job-1:p')).toEqual(expectKey);
    log.close();
    expect(PayerLog.open(path).fate('job-1:p')).toEqual(expectKey);
  });

  it('reads back the channel, what is owed and what is of unknown fate, after a crash at any line', () => {
    const path = fresh();
    const log = PayerLog.open(path);
    log.track(NODE, CH, 100n, [{ condition: 'aa', amount: 5n }]);
    log.sent('bb', 7n);
    log.fulfilled('bb', 7n);
    log.sent('cc', 9n); // its answer never came
    log.sent('dd', 3n);
    log.rejected('dd', 3n);
    log.sent('ee', 4n);
    log.fulfilled('ee', 4n);
    log.accepted(104n, ['ee']); // a claim paid ee only
    // The process dies mid-append.
    appendFileSync(path, '{"t":"fulfilled","c":"cc","a');
    const back = PayerLog.open(path);
    expect(back.channel).toBe(CH);
    expect(back.cumulative).toBe(104n);
    expect(back.owed()).toEqual([
      { condition: 'aa', amount: 5n },
      { condition: 'bb', amount: 7n },
    ]);
    expect(back.unknown()).toEqual([{ condition: 'cc', amount: 9n }]);
    // Opening rewrote it with only what is live, and reads the same again.
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(4);
    const again = PayerLog.open(path);
    expect([again.cumulative, again.owed(), again.unknown()]).toEqual([104n, back.owed(), back.unknown()]);
  });

  it('a packet sent twice with the same condition is two packets; an outcome settles one of them', () => {
    const path = fresh();
    const log = PayerLog.open(path);
    log.track(NODE, CH, 0n, []);
    log.sent('aa', 5n);
    log.sent('aa', 5n);
    log.fulfilled('aa', 5n);
    const back = PayerLog.open(path);
    expect(back.owed()).toEqual([{ condition: 'aa', amount: 5n }]);
    expect(back.unknown()).toEqual([{ condition: 'aa', amount: 5n }]);
  });

  it('after a resync, packets of unknown fate the node did not list are forgotten; others sent meanwhile are kept', () => {
    const path = fresh();
    const log = PayerLog.open(path);
    log.track(NODE, CH, 0n, []);
    log.sent('aa', 5n);
    const asked = log.unknown();
    log.sent('bb', 6n); // sent while the status request was in flight
    log.notOwed(asked);
    expect(PayerLog.open(path).unknown()).toEqual([{ condition: 'bb', amount: 6n }]);
  });

  it("a named payment: paid with its fulfillment, paid by the node's word, of unknown fate, or none", () => {
    const path = fresh();
    const log = PayerLog.open(path);
    log.track(NODE, CH, 0n, []);
    const k = new Uint8Array(32).fill(7);
    log.sent('aa', 5n, 'job1:p');
    log.paid('job1:p', k);
    log.fulfilled('aa', 5n);
    log.sent('bb', 6n, 'job2:p'); // its answer never came
    log.sent('cc', 7n, 'job3:p');
    log.rejected('cc', 7n);
    const back = PayerLog.open(path);
    expect(back.fate('job1:p')).toEqual({ fate: 'paid', record: { fulfillment: k } });
    expect(back.fate('job2:p')).toEqual({ fate: 'unknown' });
    expect(back.fate('job3:p')).toEqual({ fate: 'none' });
    // The node lists job 2's packet as owed (a resync): it went through, without its fulfillment.
    back.fulfilled('bb', 6n);
    back.close(); // one process at a time holds the file (the state repository's lock)
    const next = PayerLog.open(path);
    expect(next.fate('job2:p')).toEqual({ fate: 'paid', record: {} });
    // A claim paying both packets does not forget that they were paid.
    next.accepted(11n, ['aa', 'bb']);
    next.close();
    const after = PayerLog.open(path);
    expect(after.owed()).toEqual([]);
    expect(after.fate('job1:p')).toEqual({ fate: 'paid', record: { fulfillment: k } });
  });

  it('tracking another node starts over', () => {
    const path = fresh();
    const log = PayerLog.open(path);
    log.track(NODE, CH, 10n, []);
    log.sent('aa', 5n);
    log.fulfilled('aa', 5n);
    const other = `0x${'cd'.repeat(32)}` as const;
    log.track('31337:0xcontract:0xother', other, 0n);
    const back = PayerLog.open(path);
    expect([back.channel, back.cumulative, back.owed(), back.unknown()]).toEqual([other, 0n, [], []]);
  });

  it("another channel to the same node keeps what is owed, of unknown fate and paid (the node's list spans channels)", () => {
    const path = fresh();
    const log = PayerLog.open(path);
    log.track(NODE, CH, 10n, []);
    log.sent('aa', 5n);
    log.fulfilled('aa', 5n);
    log.sent('bb', 6n, 'job:p');
    log.paid('job:p', new Uint8Array(32).fill(1));
    const other = `0x${'cd'.repeat(32)}` as const;
    log.track(NODE, other, 0n);
    log.close();
    const back = PayerLog.open(path);
    expect([back.channel, back.cumulative, back.owed()]).toEqual([
      other,
      0n,
      [{ condition: 'aa', amount: 5n }],
    ]);
    expect(back.unknown()).toEqual([{ condition: 'bb', amount: 6n }]);
    expect(back.fate('job:p').fate).toBe('paid');
  });

  it("a claim pays the oldest packet of a condition, as the payer's ledger does, whatever the amounts", () => {
    const path = fresh();
    const log = PayerLog.open(path);
    log.track(NODE, CH, 0n, []);
    log.fulfilled('cc', 10n);
    log.fulfilled('cc', 20n);
    log.accepted(10n, ['cc']);
    log.fulfilled('cc', 10n);
    log.close();
    expect(PayerLog.open(path).owed()).toEqual([
      { condition: 'cc', amount: 20n },
      { condition: 'cc', amount: 10n },
    ]);
  });

  it('a write that fails warns once and the payment goes on', () => {
    const warnings: string[] = [];
    const path = fresh();
    const log = PayerLog.open(path, (m) => warnings.push(m));
    // The file can no longer be appended to (here: a directory took its place, which also cannot be removed).
    rmSync(path);
    mkdirSync(path);
    log.sent('aa', 5n);
    log.sent('bb', 5n);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /after a restart the node's word about what we owe is taken up to max resync owed/,
    );
    expect(log.unknown()).toHaveLength(2);
  });
});

describe('PayerLog: a write that fails', () => {
  it('removes the file, so that a restart does not follow a record that lacks lines', () => {
    const path = fresh();
    const warnings: string[] = [];
    const log = PayerLog.open(path, (m) => warnings.push(m));
    log.track(NODE, CH, 0n, []);
    log.sent('aa', 5n);
    // The next write fails (the descriptor is gone, as with EBADF/EIO), after an accepted claim was not recorded.
    closeSync((log as unknown as { fd: number }).fd);
    log.fulfilled('aa', 5n);
    expect(existsSync(path)).toBe(false);
    expect(warnings[0]).toMatch(/it was removed; after a restart/);
    log.accepted(5n, ['aa']); // nothing more is written
    expect(existsSync(path)).toBe(false);
  });
});
