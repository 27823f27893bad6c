// When attach() follows the payer's record (payer-records.ts), and what a resync may then accept: real files, no
// network (the end-to-end cases with a real node are in test/mayor/payer-records.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PayerLog } from '../../../src/mayor/runtime/payer-log.js';
import { followPayerRecords, type PayerRecordsOptions } from '../../../src/mayor/runtime/payer-records.js';
import { PAYER_LOG_FILE, type StateRepo } from '../../../src/mayor/state/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const CH = `0x${'ab'.repeat(32)}` as const;
const NODE = '31337:0xcontract:0xnode';

/** A state directory whose record follows NODE and CH at cumulative 100, owing `aa` and unsure of `bb`. */
function recorded(): { state: StateRepo; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'crosstown-payer-records-'));
  dirs.push(dir);
  const log = PayerLog.open(join(dir, PAYER_LOG_FILE));
  log.track(NODE, CH, 100n, [{ condition: 'aa', amount: 5n }]);
  log.sent('bb', 6n);
  log.close();
  return { state: { dir } as StateRepo, dir };
}

const base = (state: StateRepo): PayerRecordsOptions => ({
  state,
  warn: () => {},
  node: NODE,
  channelId: CH,
  channelSource: 'state',
  cumulative: 100n,
  firstChannel: false,
});

describe('followPayerRecords', () => {
  it('follows the record of this node and channel: owed packets, checked resyncs, nothing unchecked', () => {
    const r = followPayerRecords(base(recorded().state));
    expect(r.owed).toEqual([{ condition: 'aa', amount: 5n }]);
    expect(r.resyncOptions(false)).toEqual({
      maxOwed: 0n,
      maxUnexplained: 0n,
      expected: [{ condition: 'bb', amount: 6n }],
      unknownBefore: [{ condition: 'bb', amount: 6n }],
      sentDuring: [],
    });
  });

  it('of a named payment, the node may list one attempt of unknown fate, and none once another went through', () => {
    const r = followPayerRecords(base(recorded().state));
    const log = r.log!;
    log.sent('c1', 9n, 'job-1:p');
    log.sent('c1', 9n, 'job-1:p'); // pay() retried the same PREPARE: two attempts, one can have gone through
    log.sent('c2', 9n, 'job-2:p');
    log.sent('c2', 9n, 'job-2:p');
    log.paid('job-2:p', new Uint8Array(32)); // the second attempt's FULFILL came: the first cannot be owed too
    const used = r.resyncOptions(false);
    expect(used.expected).toEqual([
      { condition: 'bb', amount: 6n },
      { condition: 'c1', amount: 9n },
    ]);
    // After the resync, the attempts it was not allowed to list are not owed either.
    r.resynced(used, CH, 100n, []);
    expect(log.unknown()).toEqual([]);
    // An attempt sent during a resync, still in flight when it ends, is not taken for one the resync settled (the node
    // listed the earlier one with the same condition and amount, and it was merged meanwhile): found by a review.
    log.sent('c4', 8n);
    const during = r.resyncOptions(true);
    log.fulfilled('c4', 8n); // listed and merged by the resync
    const sentDuring = r.sending('c4', 8n);
    r.resynced(during, CH, 100n, []);
    expect(log.unknown()).toEqual([{ condition: 'c4', amount: 8n }]);
    log.rejected('c4', 8n); // its answer
    sentDuring();
    // Nor one sent during the resync that got no answer before it ended (found by a second review).
    log.sent('c5', 8n);
    const next = r.resyncOptions(true);
    log.fulfilled('c5', 8n); // listed and merged by the resync
    const unanswered = r.sending('c5', 8n);
    unanswered(); // no answer (a timeout): of unknown fate, no longer in flight
    r.resynced(next, CH, 100n, []);
    r.finished(next);
    expect(log.unknown()).toEqual([{ condition: 'c5', amount: 8n }]);
    log.rejected('c5', 8n);
    // An attempt in flight does not take the place of the earlier one whose answer never came (found by a review).
    log.sent('c3', 9n, 'job-3:p');
    const answered = r.sending('c3', 9n, 'job-3:p');
    expect(r.resyncOptions(true).expected).toEqual([{ condition: 'c3', amount: 9n }]);
    answered();
  });

  it('a PREPARE still in flight is not of unknown fate: a resync meanwhile does not accept it, nor forget it', () => {
    const r = followPayerRecords(base(recorded().state));
    const answered = r.sending('cc', 7n);
    const during = r.resyncOptions(true);
    expect(during.expected).toEqual([{ condition: 'bb', amount: 6n }]);
    r.resynced(during, CH, 100n, []);
    expect(r.log!.unknown()).toEqual([{ condition: 'cc', amount: 7n }]); // bb not listed: not owed; cc kept
    answered();
    expect(r.resyncOptions(true).expected).toEqual([{ condition: 'cc', amount: 7n }]);
  });

  it('a record below the channel record (an OS crash lost its tail) is not followed until a resync settled it', () => {
    const { state } = recorded();
    const r = followPayerRecords({ ...base(state), cumulative: 150n });
    expect(r.owed).toEqual([]);
    expect(r.resyncOptions(false)).toEqual({ maxOwed: 10n ** 18n });
    // The node's word, taken once, is what the record follows from then on, here and after a restart.
    r.resynced(r.resyncOptions(false), CH, 160n, [{ condition: 'dd', amount: 9n }]);
    expect(r.resyncOptions(true)).toMatchObject({ maxOwed: 0n, maxUnexplained: 0n });
    r.log!.close();
    const again = followPayerRecords({ ...base(state), cumulative: 160n });
    expect(again.owed).toEqual([{ condition: 'dd', amount: 9n }]);
    expect(again.resyncOptions(false)).toMatchObject({ maxOwed: 0n });
  });

  it("another node's record is not followed; a first channel to a node follows a fresh one", () => {
    const { state } = recorded();
    const other = followPayerRecords({ ...base(state), node: '1:0xc:0xother' });
    expect(other.owed).toEqual([]);
    expect(other.resyncOptions(false)).toEqual({ maxOwed: 10n ** 18n });
    other.log!.close();
    const first = followPayerRecords({
      ...base(state),
      node: '1:0xc:0xother',
      channelSource: 'opened',
      firstChannel: true,
      cumulative: 0n,
    });
    expect(first.owed).toEqual([]);
    expect(first.resyncOptions(true)).toEqual({
      maxOwed: 0n,
      maxUnexplained: 0n,
      expected: [],
      unknownBefore: [],
      sentDuring: [],
    });
  });

  it('lines of a run that did not follow the record never complete the stale one (no resync succeeded)', () => {
    const { state } = recorded();
    const r = followPayerRecords({ ...base(state), cumulative: 150n }); // the record lost an accepted claim
    r.sending('ee', 10n)();
    r.log!.fulfilled('ee', 10n);
    r.log!.accepted(160n, ['ee']); // a background claim of this run
    r.log!.close();
    const again = followPayerRecords({ ...base(state), cumulative: 160n });
    expect(again.owed).toEqual([]); // not the stale `aa` the lost claim paid
    expect(again.resyncOptions(false)).toEqual({ maxOwed: 10n ** 18n });
  });

  it('a first channel to a node (a chain reset: --reset-channel-state) owes nothing the record held', () => {
    const { state } = recorded();
    const fresh = followPayerRecords({
      ...base(state),
      channelId: `0x${'cd'.repeat(32)}`,
      channelSource: 'opened',
      firstChannel: true,
      cumulative: 0n,
    });
    expect(fresh.owed).toEqual([]);
    expect(fresh.log!.owed()).toEqual([]);
    expect(fresh.log!.unknown()).toEqual([]);
    expect(fresh.resyncOptions(true)).toEqual({
      maxOwed: 0n,
      maxUnexplained: 0n,
      expected: [],
      unknownBefore: [],
      sentDuring: [],
    });
  });

  it('an explicit max resync owed is kept, with or without the record', () => {
    const r = followPayerRecords({ ...base(recorded().state), maxResyncOwed: 50n });
    expect(r.resyncOptions(false)).toMatchObject({ maxOwed: 50n });
  });
});
