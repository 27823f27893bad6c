// Provider pool overhead per job: intake (policy, processing feedback) → worktree → command `true` → result
// event built and signed, minus the command's own time (process spawn included there). Cleanup (worktree and
// branch removal) happens after the result goes out and is shown on its own line.
// The network side is an in-process fake (sign with a real key, "publish" = keep), as in the tests.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ProviderService, WorkRepo } from '../src/mayor/provider/index.js';
import { finalizeEvent } from '../src/nostr/event.js';
import { generateSecretKey, getPublicKey } from '../src/nostr/keys.js';
import { buildJobRequest } from '../src/nostr/nip90.js';
import type { EventTemplate, NostrEvent } from '../src/nostr/types.js';

const JOBS = 150;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

function line(label: string, values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  return `${label.padEnd(44)} p50 ${pct(s, 0.5).toFixed(2)} ms   p99 ${pct(s, 0.99).toFixed(2)} ms`;
}

async function measure(sandbox: 'auto' | 'none'): Promise<void> {
  const providerKey = generateSecretKey();
  const requesterKey = generateSecretKey();
  // When each job's result reached the (fake) paid write path: "result event built" in the brief's terms.
  const resultAt = new Map<string, number>();
  const network = {
    sign: (t: EventTemplate) => finalizeEvent(t, providerKey),
    publishPaid: async (e: NostrEvent) => {
      if (e.kind === 6065) resultAt.set(e.tags.find((t) => t[0] === 'e')![1]!, performance.now());
      return { fee: 0n };
    },
  };
  const { service } = await ProviderService.start({
    home: mkdtempSync(path.join(tmpdir(), 'provider-bench-')),
    pubkey: getPublicKey(providerKey),
    ilpAddress: 'g.bench.provider',
    prices: { 'ci-cd-linux': 1n },
    network,
    sandbox,
    policy: { allowUnsandboxed: true },
  });
  const overhead: number[] = [];
  const total: number[] = [];
  const command: number[] = [];
  const cleanup: number[] = [];
  for (let i = 0; i < JOBS + 10; i++) {
    const template = buildJobRequest({
      jobType: 'ci-cd-linux',
      inputs: [],
      params: { command: 'true' },
      bid: 1n,
      relays: [],
      content: `bench ${i}`,
    });
    const request = finalizeEvent(template, requesterKey);
    const t0 = performance.now();
    const intake = await service.handleJobRequest(request);
    if (intake.status !== 'accepted') throw new Error(`refused: ${JSON.stringify(intake)}`);
    const report = await intake.done;
    const elapsed = performance.now() - t0;
    if (!report.result) throw new Error(report.error);
    if (i < 10) continue; // warm-up
    total.push(elapsed);
    command.push(report.outcome.durationMs);
    overhead.push(resultAt.get(request.id)! - t0 - report.outcome.durationMs);
    cleanup.push(report.cleanupMs ?? 0);
  }
  await service.stop();
  console.log(`sandbox: ${service.sandbox.kind} (${JOBS} jobs, one at a time)`);
  console.log(line('  post → result built, excl. command', overhead));
  console.log(line('  command `true` (spawn + sandbox + exit)', command));
  console.log(line('  cleanup after the result (worktree, branch)', cleanup));
  console.log(line('  end to end, cleanup included', total));
}

export async function run(): Promise<void> {
  // Baseline: the git part alone (worktree add + remove), the floor of the pool's overhead.
  const repo = new WorkRepo(mkdtempSync(path.join(tmpdir(), 'provider-bench-git-')));
  await repo.init();
  const git: number[] = [];
  for (let i = 0; i < 60; i++) {
    const id = i.toString(16).padStart(64, '0');
    const t0 = performance.now();
    await repo.add(id);
    await repo.remove(id);
    if (i >= 10) git.push(performance.now() - t0);
  }
  console.log(line('git worktree add + remove (baseline)', git));
  console.log(
    `load average ${(await import('node:os'))
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on this machine`,
  );
  if (existsSync('/usr/bin/bwrap')) await measure('auto');
  await measure('none');
  console.log('target: pool overhead p50 < 50 ms');
}
