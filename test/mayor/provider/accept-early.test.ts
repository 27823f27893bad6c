// What a provider makes durable when it accepts a job, now off the main thread and ahead of the result (issue 17):
// - the acceptance (polecats.json) is on disk before the job's command starts and before `processing` is heard;
// - a sealed result's K is made at acceptance and is on disk while the command still runs, and in any case before
//   the sealed result is published (what the requester's payment later needs: docs/decisions.md, issue 19).
// Real git worktrees and child processes, no sandbox (trusted requester); the network side is the in-process
// FakeNetwork of helpers.ts, which here also looks at the disk each time something is published.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPoolState } from '../../../src/mayor/provider/index.js';
import { SEALED_KEYS_FILE, SealedKeyStore } from '../../../src/mayor/provider/sealed-keys.js';
import { ProviderService } from '../../../src/mayor/provider/service.js';
import { finalizeEvent } from '../../../src/nostr/event.js';
import { KIND_JOB_FEEDBACK, KIND_JOB_RESULT } from '../../../src/nostr/kinds.js';
import { buildJobRequest } from '../../../src/nostr/nip90.js';
import { parseSealedResult, paymentModeTag } from '../../../src/nostr/sealed-result.js';
import type { NostrEvent } from '../../../src/nostr/types.js';
import { FakeNetwork, requester, tempHome } from './helpers.js';

/** What was on disk when each event was published. */
class WatchingNetwork extends FakeNetwork {
  readonly atPublish: { kind: number; keysOnDisk: string; poolState: string }[] = [];
  constructor(private readonly home: string) {
    super();
  }
  override async publishPaid(event: NostrEvent): Promise<{ fee: bigint }> {
    const read = (f: string) => {
      try {
        return readFileSync(path.join(this.home, f), 'utf8');
      } catch {
        return '';
      }
    };
    this.atPublish.push({
      kind: event.kind,
      keysOnDisk: read(SEALED_KEYS_FILE),
      poolState: read('polecats.json'),
    });
    return super.publishPaid(event);
  }
}

function atomicRequest(command: string): NostrEvent {
  const template = buildJobRequest({
    jobType: 'ci-cd-linux',
    inputs: [],
    params: { command },
    bid: 1000n,
    relays: [],
    content: '',
  });
  template.tags.push(paymentModeTag('atomic'), ['nonce', Math.random().toString(36).slice(2)]);
  return finalizeEvent(template, requester.secretKey);
}

describe('a provider accepting a job', () => {
  const home = tempHome('provider-accept-');
  const network = new WatchingNetwork(home);
  let service: ProviderService;

  beforeAll(async () => {
    ({ service } = await ProviderService.start({
      home,
      pubkey: network.pubkey,
      ilpAddress: 'g.crosstown.provider',
      prices: { 'ci-cd-linux': 500n },
      network,
      sandbox: 'none',
      policy: { trustedRequesters: [requester.pubkey], maxConcurrentJobs: 4 },
      sealedKeys: SealedKeyStore.open(home),
      poolSize: 1,
      timeoutMs: 20_000,
    }));
  });
  afterAll(() => service.stop());

  it('has the acceptance on disk before `processing` and the command; K on disk while the command runs and before the sealed result', async () => {
    const request = atomicRequest('sleep 1; echo ran');
    const intake = await service.handleJobRequest(request);
    expect(intake.status).toBe('accepted');
    if (intake.status !== 'accepted') return;
    await service.pool.accepted(request.id);
    expect(Object.keys(readPoolState(home).jobs)).toContain(request.id);

    // While the command sleeps: K is already durable (the line is in the file, read by another descriptor).
    await new Promise((r) => setTimeout(r, 500));
    const running = SealedKeyStore.open(home).get(request.id);
    expect(running?.amount).toBe(500n);
    expect(running?.requester).toBe(requester.pubkey);

    const report = await intake.done;
    expect(report.error).toBeUndefined();
    const sealed = parseSealedResult(report.result!);
    // The published result is sealed under the K that was on disk before the command ended.
    expect(sealed?.condition).toBe(running?.condition);
    expect(report.sealed?.condition).toBe(running?.condition);

    const processing = network.atPublish.find((p) => p.kind === KIND_JOB_FEEDBACK);
    expect(processing?.poolState).toContain(request.id);
    const result = network.atPublish.find((p) => p.kind === KIND_JOB_RESULT);
    expect(result?.keysOnDisk).toContain(running!.condition);

    const t = report.timeline!;
    expect(t.accepted).toBeLessThanOrEqual(t.started!);
    expect(t.started).toBeLessThanOrEqual(t.finished!);
    expect(t.finished).toBeLessThanOrEqual(t.signed!);
    expect(t.signed).toBeLessThanOrEqual(t.published!);
    // The job is gone from the pool's memory once it has finished.
    expect(readPoolState(home).jobs).toEqual({});
  }, 30_000);

  it('an uncharged job (cancelled while it waits for a Polecat) goes out clear and unpriced, though a K was made for it', async () => {
    // One Polecat: the first job holds it, the second waits and is cancelled before its command could run.
    const first = atomicRequest('sleep 5');
    const second = atomicRequest('true');
    const running = await service.handleJobRequest(first);
    const waiting = await service.handleJobRequest(second);
    if (running.status !== 'accepted' || waiting.status !== 'accepted')
      throw new Error('expected acceptances');
    expect(SealedKeyStore.open(home).get(second.id)).toBeDefined();
    service.cancel(second.id);
    const report = await waiting.done;
    expect(report.outcome.statusInfo).toMatch(/cancelled/);
    expect(parseSealedResult(report.result!)).toBeUndefined();
    expect(report.result!.tags.some((t) => t[0] === 'amount')).toBe(false);
    service.cancel(first.id);
    await running.done;
  }, 30_000);
});
