import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditError, CSV_HEADER, openPaymentAudit } from '../../src/mayor/audit/index.js';
import { openStateRepo, type StateRepo } from '../../src/mayor/state/index.js';
import { gitOut, tempDir } from './state-helpers.js';

const M2M = 10n ** 18n;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(): Promise<{ state: StateRepo; dir: string }> {
  const t = tempDir('crosstown-audit-');
  cleanups.push(t.cleanup);
  const dir = join(t.dir, 'mayor');
  const state = await openStateRepo({ dir });
  cleanups.push(() => state.close());
  return { state, dir };
}

const T0 = Date.parse('2026-11-25T10:00:00Z');

describe('payment audit', () => {
  it('appends one JSON line per payment with amounts as base-unit strings, and commits each', async () => {
    const { state, dir } = await setup();
    const audit = openPaymentAudit({ state, now: () => T0 });
    const entry = audit.record({
      direction: 'out',
      jobId: 'job-5abc123',
      amount: 8_750_000_000_000_000n,
      bytes: 875,
      status: 'fulfilled',
      counterparty: 'g.crosstown.relay',
      channelId: `0x${'ab'.repeat(32)}`,
    });
    expect(entry.time).toBe(T0);
    await state.flush();
    const lines = readFileSync(join(dir, 'payment_log.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({
      time: '2026-11-25T10:00:00.000Z',
      direction: 'out',
      jobId: 'job-5abc123',
      amount: '8750000000000000',
      bytes: 875,
      status: 'fulfilled',
      counterparty: 'g.crosstown.relay',
      channelId: `0x${'ab'.repeat(32)}`,
    });
    expect(gitOut(dir, ['log', '-1', '--format=%s']).trim()).toBe(
      'payment out 0.00875 M2M fulfilled job job-5abc123',
    );
    expect(gitOut(dir, ['status', '--porcelain'])).toBe('');
  });

  it('rejects invalid payments with a typed error', async () => {
    const { state } = await setup();
    const audit = openPaymentAudit({ state });
    const base = { direction: 'in' as const, amount: 1n, status: 'fulfilled' as const, counterparty: 'x' };
    expect(() => audit.record({ ...base, amount: -1n })).toThrow(AuditError);
    expect(() => audit.record({ ...base, amount: 1.5 as unknown as bigint })).toThrow(/bigint/);
    expect(() => audit.record({ ...base, direction: 'up' as 'in' })).toThrow(/"in" or "out"/);
    expect(() => audit.record({ ...base, status: 'ok' as 'failed' })).toThrow(/fulfilled, rejected, failed/);
    expect(() => audit.record({ ...base, counterparty: '' })).toThrow(/counterparty/);
    expect(() => audit.record({ ...base, bytes: 1.5 })).toThrow(/bytes/);
    expect(await audit.list()).toEqual([]);
  });

  it('rotates daily (UTC) and deletes logs older than 30 days', async () => {
    const { state, dir } = await setup();
    let now = T0 - 40 * 86_400_000;
    const audit = openPaymentAudit({ state, now: () => now });
    // One payment a day for 41 days.
    for (let d = 0; d <= 40; d++) {
      now = T0 - (40 - d) * 86_400_000;
      audit.record({ direction: 'out', amount: BigInt(d + 1), status: 'fulfilled', counterparty: 'relay' });
      await state.flush();
    }
    await state.flush();
    const files = readdirSync(dir).filter((f) => f.startsWith('payment_log'));
    expect(files).toContain('payment_log.jsonl');
    const rotated = files.filter((f) => f !== 'payment_log.jsonl').sort();
    expect(rotated).toHaveLength(30); // 2026-10-26 .. 2026-11-24
    expect(rotated[0]).toBe('payment_log-2026-10-26.jsonl');
    expect(rotated.at(-1)).toBe('payment_log-2026-11-24.jsonl');
    expect(readFileSync(join(dir, 'payment_log.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
    const kept = await audit.list();
    expect(kept).toHaveLength(31);
    expect(kept[0]!.amount).toBe(11n);
    // The deleted files stay in git history.
    expect(gitOut(dir, ['log', '--format=%B'])).toContain('audit: delete payment_log-2026-10-16.jsonl');
    const deletedIn = gitOut(dir, ['rev-list', '-n1', 'HEAD', '--', 'payment_log-2026-10-16.jsonl']).trim();
    expect(gitOut(dir, ['show', `${deletedIn}^:payment_log-2026-10-16.jsonl`])).toContain('"amount":"1"');
    expect(gitOut(dir, ['status', '--porcelain'])).toBe('');
  });

  it('rotates on open when the day changed while the Mayor was down', async () => {
    const { state, dir } = await setup();
    const a = openPaymentAudit({ state, now: () => T0 });
    a.record({ direction: 'in', amount: 5n, status: 'fulfilled', counterparty: 'c' });
    await state.flush();
    const b = openPaymentAudit({ state, now: () => T0 + 86_400_000 });
    await state.flush();
    expect(existsSync(join(dir, 'payment_log-2026-11-25.jsonl'))).toBe(true);
    expect(existsSync(join(dir, 'payment_log.jsonl'))).toBe(false);
    expect((await b.list()).map((p) => p.amount)).toEqual([5n]);
  });

  it('exports CSV and JSON with from/to filters, and computes stats in integer base units', async () => {
    const { state } = await setup();
    let now = T0;
    const audit = openPaymentAudit({ state, now: () => now });
    const rows = [
      { h: 0, direction: 'out', amount: 8_750_000_000_000_000n, status: 'fulfilled', bytes: 875 },
      { h: 1, direction: 'out', amount: 2n * M2M, status: 'fulfilled' },
      { h: 2, direction: 'in', amount: 3n * M2M, status: 'fulfilled' },
      { h: 3, direction: 'out', amount: 1n, status: 'rejected' },
      { h: 4, direction: 'in', amount: 2n, status: 'failed' },
    ] as const;
    for (const r of rows) {
      now = T0 + r.h * 3_600_000;
      audit.record({
        direction: r.direction,
        amount: r.amount,
        status: r.status,
        counterparty: 'peer',
        jobId: `j${r.h}`,
      });
    }
    const all = await audit.stats();
    expect(all.count).toBe(5);
    expect(all.total).toBe(8_750_000_000_000_000n + 5n * M2M + 3n);
    expect(all.average).toBe((8_750_000_000_000_000n + 5n * M2M + 3n) / 5n);
    expect(all.byDirection.out).toEqual({
      count: 3,
      total: 2_008_750_000_000_000_001n,
      average: 2_008_750_000_000_000_001n / 3n,
    });
    expect(all.byStatus.rejected.count).toBe(1);
    expect(all.byStatus.failed.total).toBe(2n);
    expect(all.netFulfilled).toBe(3n * M2M - 2_008_750_000_000_000_000n);

    const range = { from: '2026-11-25T11:00:00Z', to: new Date(T0 + 3 * 3_600_000) };
    const csv = await audit.exportCsv(range);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(CSV_HEADER.join(','));
    expect(lines.slice(1)).toEqual([
      '2026-11-25T11:00:00.000Z,out,j1,2000000000000000000,2,,fulfilled,peer,',
      '2026-11-25T12:00:00.000Z,in,j2,3000000000000000000,3,,fulfilled,peer,',
    ]);
    const json = JSON.parse(await audit.exportJson({ to: T0 + 3_600_000 }));
    expect(json).toEqual([
      {
        time: '2026-11-25T10:00:00.000Z',
        direction: 'out',
        jobId: 'j0',
        amount: '8750000000000000',
        status: 'fulfilled',
        counterparty: 'peer',
      },
    ]);
    expect((await audit.stats({ from: T0 + 3 * 3_600_000 })).count).toBe(2);
    await expect(audit.list({ from: 'yesterday' })).rejects.toMatchObject({ code: 'INVALID_RANGE' });
    await expect(audit.list({ from: T0 + 1, to: T0 })).rejects.toThrow(/swap them/);
  });

  it('quotes CSV fields and defuses spreadsheet formulas', async () => {
    const { state } = await setup();
    const audit = openPaymentAudit({ state, now: () => T0 });
    audit.record({ direction: 'in', amount: 1n, status: 'fulfilled', counterparty: '=HYPERLINK("x"),1' });
    const csv = await audit.exportCsv();
    expect(csv.split('\r\n')[1]).toBe(
      '2026-11-25T10:00:00.000Z,in,,1,0.000000000000000001,,fulfilled,"\'=HYPERLINK(""x""),1",',
    );
  });
});
