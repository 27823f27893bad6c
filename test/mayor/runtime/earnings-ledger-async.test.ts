// A claim of the node is written to earnings.jsonl off the main thread (acceptedDurably): when its promise resolves
// the line is on disk and applied, lines keep their order, and a close() meanwhile waits for the line, so a
// restarted provider still has every claim it acknowledged (a real file in a temporary directory, reopened).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { EARNINGS_FILE, EarningsLedger } from '../../../src/mayor/runtime/earnings-ledger.js';

const CH: Hex = `0x${'e'.repeat(64)}`;
const SIG: Hex = `0x${'f'.repeat(130)}`;
const cond = (i: number) => i.toString(16).padStart(64, '0');

describe('EarningsLedger.acceptedDurably', () => {
  it('is applied when it resolves, in order, and survives a reopen', async () => {
    const home = mkdtempSync(join(tmpdir(), 'earnings-async-'));
    const ledger = EarningsLedger.open(home);
    for (let i = 1; i <= 3; i++) ledger.owe(cond(i), 10n, `job${i}`, 'alpha');
    const first = ledger.acceptedDurably({ channelId: CH, cumulativeAmount: 10n, signature: SIG }, [cond(1)]);
    const second = ledger.acceptedDurably({ channelId: CH, cumulativeAmount: 30n, signature: SIG }, [
      cond(2),
      cond(3),
    ]);
    // Not applied before it is durable.
    expect(ledger.summary().claimed).toBe(0n);
    await first;
    expect(ledger.summary().claimed).toBe(10n);
    await second;
    expect(ledger.summary()).toMatchObject({ claimed: 30n, unclaimed: 0n });
    ledger.close();
    const again = EarningsLedger.open(home);
    expect(again.summary()).toMatchObject({ earned: 30n, claimed: 30n, unclaimed: 0n });
    again.close();
  });

  it('a close() while a line is on its way closes the file after it', async () => {
    const home = mkdtempSync(join(tmpdir(), 'earnings-async-'));
    const ledger = EarningsLedger.open(home);
    ledger.owe(cond(1), 5n, 'job1', 'alpha');
    const pending = ledger.acceptedDurably({ channelId: CH, cumulativeAmount: 5n, signature: SIG }, [
      cond(1),
    ]);
    ledger.close();
    await pending;
    const lines = readFileSync(join(home, EARNINGS_FILE), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).t)).toEqual(['owed', 'claim']);
    const again = EarningsLedger.open(home);
    expect(again.claims()).toEqual([{ channelId: CH, cumulativeAmount: 5n, signature: SIG }]);
    again.close();
  });
});
