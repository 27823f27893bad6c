// Mayor state: open time with 1,000 job correlations, sustained transitions/s through the group-commit
// queue (baseline: one commit per transition, awaited), and payment audit append rate.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPaymentAudit } from '../src/mayor/audit/index.js';
import { type JobStatus, openStateRepo, type StateRepo } from '../src/mayor/state/index.js';

const CYCLE: JobStatus[] = ['posted', 'result-received', 'routed', 'paid'];
const tick = () => new Promise<void>((r) => setImmediate(r));

interface Sustained {
  transitions: number;
  durableRate: number;
  commits: number;
  meanBatch: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Offers `rate` transitions/s for `ms` milliseconds (jobs walk posting -> ... -> paid), never waiting on git;
 * measures each transition's put-to-durable latency and the durable throughput.
 */
async function sustained(repo: StateRepo, prefix: string, rate: number, ms: number): Promise<Sustained> {
  const latencies: number[] = [];
  const before = repo.stats();
  const start = performance.now();
  let n = 0;
  let job = 0;
  while (performance.now() - start < ms) {
    // Catch up to the schedule, then yield so the commit loop runs alongside.
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    for (; n < due; n++) {
      const id = `${prefix}-${job}`;
      const step = n % (CYCLE.length + 1);
      if (step === 0)
        repo.jobs.put({ id, status: 'posting', kind: 5065, jobType: 'ci-cd-linux', callbackSkill: 'cb' });
      else repo.jobs.put({ id, status: CYCLE[step - 1]!, amount: 1000n });
      if (step === CYCLE.length) job++;
      const at = performance.now();
      void repo.flush().then(() => latencies.push(performance.now() - at));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await repo.flush();
  const elapsed = (performance.now() - start) / 1000;
  const commits = repo.stats().commits - before.commits;
  latencies.sort((a, b) => a - b);
  return {
    transitions: n,
    durableRate: n / elapsed,
    commits,
    meanBatch: n / commits,
    p50Ms: latencies[Math.floor(latencies.length / 2)]!,
    p99Ms: latencies[Math.floor(latencies.length * 0.99)]!,
  };
}

export async function run(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'crosstown-bench-'));
  try {
    // 1. Open a repository holding 1,000 job correlations.
    const dir = join(root, 'mayor');
    const seed = await openStateRepo({ dir });
    for (let i = 0; i < 1000; i++) {
      seed.jobs.put({
        id: `seed-${i}`,
        status: 'posting',
        kind: 5065,
        jobType: 'ci-cd-linux',
        callbackSkill: 'cb',
        bid: 10n ** 16n,
      });
      if (i % 2) seed.jobs.put({ id: `seed-${i}`, status: 'posted' });
    }
    await seed.close();
    const opens: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const r = await openStateRepo({ dir });
      opens.push(performance.now() - t);
      await r.close();
    }
    opens.sort((a, b) => a - b);
    console.log(
      `open with 1,000 jobs: median ${opens[2]!.toFixed(0)} ms, max ${opens[4]!.toFixed(0)} ms (target < 1000 ms)`,
    );

    // 2. Baseline: each transition waits for its own commit.
    const repo = await openStateRepo({ dir });
    const baseN = 20;
    let t = performance.now();
    for (let i = 0; i < baseN; i++) {
      repo.jobs.put({
        id: `base-${i}`,
        status: 'posting',
        kind: 5065,
        jobType: 'ci-cd-linux',
        callbackSkill: 'cb',
      });
      await repo.flush();
    }
    const baseRate = baseN / ((performance.now() - t) / 1000);
    console.log(`one commit per transition (awaited): ${baseRate.toFixed(0)} transitions/s`);

    // 3. Sustained with group commit: transitions never wait; commits batch whatever arrived meanwhile.
    for (const rate of [100, 500, 2000]) {
      const r = await sustained(repo, `sus${rate}`, rate, 3000);
      console.log(
        `group commit, ${rate}/s offered for 3 s: ${r.durableRate.toFixed(0)} transitions/s durable ` +
          `(${(r.durableRate / baseRate).toFixed(1)}x baseline; target >= 100/s), ${r.commits} commits, ` +
          `mean batch ${r.meanBatch.toFixed(1)}, put-to-durable p50 ${r.p50Ms.toFixed(0)} ms p99 ${r.p99Ms.toFixed(0)} ms`,
      );
    }

    // 4. Payment audit: record() cost (in memory + queue) and durable rate.
    const audit = openPaymentAudit({ state: repo });
    const payments = 2000;
    t = performance.now();
    for (let i = 0; i < payments; i++) {
      audit.record({
        direction: i % 2 ? 'in' : 'out',
        jobId: `sus-${i}`,
        amount: 8_750_000_000_000_000n,
        bytes: 875,
        status: 'fulfilled',
        counterparty: 'g.crosstown.relay',
      });
    }
    const recordMs = performance.now() - t;
    await repo.flush();
    const durableMs = performance.now() - t;
    console.log(
      `audit: record() ${((recordMs * 1e3) / payments).toFixed(1)} µs/payment; ${payments} payments durable in ` +
        `${durableMs.toFixed(0)} ms = ${(payments / (durableMs / 1000)).toFixed(0)} payments/s`,
    );
    t = performance.now();
    let paced = 0;
    const end = performance.now() + 2000;
    while (performance.now() < end) {
      audit.record({ direction: 'out', amount: 1n, status: 'fulfilled', counterparty: 'relay' });
      paced++;
      await tick();
    }
    await repo.flush();
    console.log(
      `audit sustained (one payment per event-loop turn, 2 s): ${(paced / ((performance.now() - t) / 1000)).toFixed(0)} payments/s durable`,
    );
    await repo.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
