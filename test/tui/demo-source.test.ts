import { describe, expect, it } from 'vitest';
import { type DashboardState, DemoDashboardSource } from '../../src/tui/index.js';
import { JOB_PRICE, M2M, result } from './helpers.js';

describe('DemoDashboardSource', () => {
  it('notifies with a new state object on every change, and stops after unsubscribe', () => {
    const source = new DemoDashboardSource();
    const seen: DashboardState[] = [];
    const off = source.subscribe((s) => seen.push(s));
    const before = source.snapshot();
    source.setConnector('connected');
    expect(seen).toHaveLength(1);
    expect(seen[0]).not.toBe(before);
    expect(seen[0]).toBe(source.snapshot());
    expect(before.connector.status).toBe('disconnected'); // old snapshots are not mutated
    off();
    source.setConnector('error', 'gone');
    expect(seen).toHaveLength(1);
  });

  it('posting a job records it, pays for it and logs it', () => {
    const source = new DemoDashboardSource({}, { now: () => 1000 });
    source.setChannel({
      id: '0xc',
      deposit: 50n * M2M,
      spent: 0n,
      remaining: 50n * M2M,
      lowBalanceThreshold: M2M,
    });
    const id = source.postJob({ jobType: 'docker-build-amd64', bytes: 875, price: JOB_PRICE });
    const s = source.snapshot();
    expect(s.jobs).toEqual([
      {
        id,
        jobType: 'docker-build-amd64',
        state: 'posted',
        bytes: 875,
        price: JOB_PRICE,
        postedAt: 1000,
        provider: undefined,
      },
    ]);
    expect(s.channel!.remaining).toBe(49_991_250_000_000_000_000n);
    expect(s.channel!.spent).toBe(JOB_PRICE);
    expect(s.activity.at(-1)).toEqual({
      at: 1000,
      kind: 'post',
      text: `Posted ${id}: docker-build-amd64 (875 bytes, 0.00875 M2M)`,
      amount: JOB_PRICE,
    });
  });

  it('delivers results: success and failure become result, error becomes failed', () => {
    const source = new DemoDashboardSource();
    const a = source.postJob({ jobType: 't', bytes: 1, price: 1n });
    const b = source.postJob({ jobType: 't', bytes: 1, price: 1n });
    expect(a).not.toBe(b);
    source.deliverResult(a, result());
    source.deliverResult(b, result({ status: 'error', summary: 'no docker' }));
    const [ja, jb] = source.snapshot().jobs;
    expect(ja).toMatchObject({ state: 'routed', provider: 'bob' });
    expect(jb).toMatchObject({ state: 'failed' });
    expect(() => source.deliverResult('job-nope', result())).toThrow(/no job "job-nope"/);
  });

  it('refresh resolves or rejects as configured', async () => {
    await expect(new DemoDashboardSource().refresh()).resolves.toBeUndefined();
    await expect(new DemoDashboardSource({}, { refreshError: 'down' }).refresh()).rejects.toThrow('down');
  });
});
