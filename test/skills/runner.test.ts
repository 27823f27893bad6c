import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordingLogger } from '../../src/skills/logger.js';
import { SkillPipeline } from '../../src/skills/pipeline.js';
import { SkillRegistry } from '../../src/skills/registry.js';
import { RetryQueue } from '../../src/skills/retry.js';
import { runSkill } from '../../src/skills/runner.js';
import type { Skill, SkillMetadata, SkillResult } from '../../src/skills/types.js';
import { buildSignedToonEvent, testContext, testMetadata } from '../../src/testing/index.js';

const payload = buildSignedToonEvent({ kind: 1, tags: [], content: 'hello' });

function skillWith(
  handle: (p: Uint8Array, m: SkillMetadata) => Promise<SkillResult>,
  extra: Partial<Skill> = {},
): Skill {
  return { name: 'under-test', supportedEventKinds: () => [1], handleToon: handle, ...extra };
}

describe('runSkill isolation', () => {
  it('passes a good result through', async () => {
    const out = await runSkill(
      skillWith(async () => ({ status: 'handled', summary: 'ok' })),
      payload,
      testMetadata({ payload }),
    );
    expect(out).toMatchObject({
      status: 'handled',
      skill: 'under-test',
      retryable: false,
      result: { summary: 'ok' },
    });
  });

  it('a throwing skill becomes a logged, retryable failure naming the skill', async () => {
    const meta = testMetadata({ payload });
    const out = await runSkill(
      skillWith(async () => {
        throw new TypeError('boom');
      }),
      payload,
      meta,
    );
    expect(out).toMatchObject({
      status: 'failed',
      retryable: true,
      failure: { code: 'skill_threw', message: 'TypeError: boom' },
    });
    const line = meta.logger.records.find((r) => r.level === 'error');
    expect(line?.message).toContain('under-test');
    expect(line?.fields?.skill).toBe('under-test');
  });

  it('a synchronous throw (not even async) is caught too', async () => {
    const bad: Skill = {
      name: 'sync',
      supportedEventKinds: () => [1],
      handleToon: () => {
        throw new Error('sync boom');
      },
    };
    expect((await runSkill(bad, payload, testMetadata({ payload }))).failure?.code).toBe('skill_threw');
  });

  it('a hanging skill times out, its signal is aborted, and a late answer is discarded', async () => {
    let aborted = false;
    const hang = skillWith(
      (_p, m) =>
        new Promise((resolve) => {
          m.signal.addEventListener('abort', () => {
            aborted = true;
            setTimeout(() => resolve({ status: 'handled', summary: 'too late' }), 5);
          });
        }),
    );
    const started = Date.now();
    const out = await runSkill(hang, payload, testMetadata({ payload }), { timeoutMs: 50 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(out).toMatchObject({ status: 'failed', retryable: true, failure: { code: 'skill_timeout' } });
    expect(aborted).toBe(true);
  });

  it('a skill-level timeoutMs overrides the runner default', async () => {
    const slow = skillWith(() => new Promise((r) => setTimeout(() => r({ status: 'handled' }), 200)), {
      timeoutMs: 20,
    });
    expect(
      (await runSkill(slow, payload, testMetadata({ payload }), { timeoutMs: 10_000 })).failure?.code,
    ).toBe('skill_timeout');
  });

  it('a malformed result is a failure, a late rejection after timeout is not unhandled', async () => {
    const garbage = skillWith(async () => ({ status: 'done' }) as unknown as SkillResult);
    expect((await runSkill(garbage, payload, testMetadata({ payload }))).failure?.code).toBe(
      'invalid_result',
    );
    const lateReject = skillWith(
      () => new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 30)),
    );
    expect(
      (await runSkill(lateReject, payload, testMetadata({ payload }), { timeoutMs: 5 })).failure?.code,
    ).toBe('skill_timeout');
    await new Promise((r) => setTimeout(r, 60)); // vitest fails the run on an unhandled rejection
  });

  it('a failure the skill marks retry: false is not retryable', async () => {
    const out = await runSkill(
      skillWith(async () => ({ status: 'failed', retry: false, summary: 'tampered' })),
      payload,
      testMetadata({ payload }),
    );
    expect(out).toMatchObject({ status: 'failed', retryable: false });
  });

  it('guardUnhandledRejections keeps a stray rejected promise from killing the process (child process under tsx)', () => {
    const script = join(import.meta.dirname, 'fixtures', 'stray-rejection.ts');
    const out = execFileSync(process.execPath, ['--import', 'tsx', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    const parsed = JSON.parse(out.trim().split('\n').pop()!) as { status: string; logged: string[] };
    expect(parsed.status).toBe('handled');
    expect(parsed.logged[0]).toContain('forgotten promise');
  });
});

describe('RetryQueue', () => {
  const base = { toon: 'kind: 1', kind: 1, skill: 's', error: 'e' };

  it('backs off exponentially with a cap and gives up after maxAttempts', () => {
    const q = new RetryQueue({ maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 150 });
    expect([q.delayFor(1), q.delayFor(2), q.delayFor(3)]).toEqual([100, 150, 150]);
    const e1 = q.recordFailure({ ...base, metadata: { eventId: 'x' }, attempt: 1, now: 1000 });
    expect(e1?.nextAttemptAt).toBe(1100);
    expect(q.takeDue(1099)).toEqual([]);
    expect(q.takeDue(1100).map((e) => e.key)).toEqual(['x']);
    expect(q.size).toBe(0);
    q.recordFailure({ ...base, metadata: { eventId: 'x' }, attempt: 2, now: 2000 });
    expect(q.recordFailure({ ...base, metadata: { eventId: 'x' }, attempt: 3, now: 3000 })).toBeUndefined();
    expect(q.size).toBe(0);
    expect(q.snapshot().dead.map((e) => [e.key, e.attempts])).toEqual([['x', 3]]);
  });

  it('snapshot survives JSON and restores into a new queue', () => {
    const q = new RetryQueue();
    const states: unknown[] = [];
    q.onChange = (s) => states.push(s);
    q.recordFailure({
      ...base,
      toon: 'kind: 7\nx: "é"',
      metadata: { eventId: 'y', relayUrl: 'ws://r' },
      attempt: 1,
      now: 0,
    });
    expect(states).toHaveLength(1);
    const restored = new RetryQueue({}, JSON.parse(JSON.stringify(q.snapshot())));
    const [entry] = restored.takeDue(10_000);
    expect(entry).toMatchObject({
      key: 'y',
      toon: 'kind: 7\nx: "é"',
      metadata: { relayUrl: 'ws://r' },
      attempts: 1,
    });
  });
});

describe('SkillPipeline', () => {
  it('a failing event is not lost: it is queued, and the retry delivers it', async () => {
    let calls = 0;
    const flaky = skillWith(async (_p, m) => {
      calls++;
      if (m.attempt === 1) throw new Error('database locked');
      return { status: 'handled', summary: `attempt ${m.attempt}` };
    });
    const logger = recordingLogger();
    const pipeline = new SkillPipeline({
      registry: new SkillRegistry([flaky]),
      context: testContext(),
      logger,
      retry: new RetryQueue({ baseDelayMs: 10 }),
    });
    const first = await pipeline.dispatch(payload, { eventId: 'e1' });
    expect(first.outcome.status).toBe('failed');
    expect(first.retryAt).toBeGreaterThan(Date.now() - 1);
    expect(pipeline.retry.snapshot().pending[0]?.toon).toBe(new TextDecoder().decode(payload));
    expect(logger.records.some((r) => r.level === 'error' && r.message.includes('under-test'))).toBe(true);
    const retried = await pipeline.runDueRetries(Date.now() + 1000);
    expect(retried.map((d) => d.outcome.result.summary)).toEqual(['attempt 2']);
    expect(calls).toBe(2);
    expect(pipeline.retry.size).toBe(0);
  });

  it('unknown kinds are ignored and garbage is refused without a retry, never a throw', async () => {
    const pipeline = new SkillPipeline({ registry: new SkillRegistry([]), context: testContext() });
    const ignored = await pipeline.dispatch(payload);
    expect(ignored).toMatchObject({
      kind: 1,
      outcome: { status: 'ignored', result: { summary: 'no skill handles kind 1' } },
    });
    const garbage = await pipeline.dispatch(new TextEncoder().encode('[3]: 1,2,3'));
    expect(garbage.outcome).toMatchObject({ status: 'failed', retryable: false });
    expect(pipeline.retry.size).toBe(0);
  });

  it('setRegistry swaps the whole skill set at once', async () => {
    const pipeline = new SkillPipeline({ registry: new SkillRegistry([]), context: testContext() });
    expect((await pipeline.dispatch(payload)).outcome.status).toBe('ignored');
    pipeline.setRegistry(new SkillRegistry([skillWith(async () => ({ status: 'handled' }))]));
    expect((await pipeline.dispatch(payload)).skill).toBe('under-test');
  });

  it('passes metadata: kind, event id, relay, identity, correlation looked up from the job table', async () => {
    let seen: SkillMetadata | undefined;
    const cb: Skill = {
      name: 'cb',
      supportedEventKinds: () => [],
      handleToon: async (_p, m) => {
        seen = m;
        return { status: 'handled' };
      },
    };
    const jobId = 'c'.repeat(64);
    const pipeline = new SkillPipeline({
      registry: new SkillRegistry([cb]),
      context: testContext({ identityPubkey: 'd'.repeat(64) }),
      correlate: (id) => (id === jobId ? { jobId, callbackSkill: 'cb', chainId: 'chain-1' } : undefined),
    });
    const result = buildSignedToonEvent({
      kind: 6065,
      tags: [
        ['e', jobId],
        ['p', 'd'.repeat(64)],
      ],
      content: '',
    });
    const d = await pipeline.dispatch(result, { relayUrl: 'ws://127.0.0.1:7777', receivedAt: 42 });
    expect(d.skill).toBe('cb');
    expect(seen).toMatchObject({
      kind: 6065,
      relayUrl: 'ws://127.0.0.1:7777',
      receivedAt: 42,
      attempt: 1,
      identityPubkey: 'd'.repeat(64),
      correlation: { jobId, callbackSkill: 'cb', chainId: 'chain-1' },
    });
    expect(seen?.eventId).toMatch(/^[0-9a-f]{64}$/);
  });

  it("postNextJobs posts a handled result's next jobs in the same chain, back to the same skill", async () => {
    const posted: unknown[] = [];
    const next = { kind: 5065, tags: [['t', 'deploy']], content: '' };
    const chainer: Skill = {
      name: 'chainer',
      supportedEventKinds: () => [],
      handleToon: async () => ({ status: 'handled', nextJobs: [next, { ...next, content: 'boom' }] }),
    };
    const jobId = 'c'.repeat(64);
    const pipeline = new SkillPipeline({
      registry: new SkillRegistry([chainer]),
      context: testContext({
        postJob: async (template, options) => {
          if (template.content === 'boom') throw new Error('channel empty');
          posted.push([template, options]);
          return { jobId: 'next-1' };
        },
      }),
      correlate: () => ({ jobId, callbackSkill: 'chainer', chainId: 'chain-9' }),
      postNextJobs: true,
    });
    const d = await pipeline.dispatch(
      buildSignedToonEvent({ kind: 6065, tags: [['e', jobId]], content: '' }),
    );
    expect(posted).toEqual([[next, { callbackSkill: 'chainer', chainId: 'chain-9' }]]);
    expect(d.postedJobs).toEqual(['next-1']);
    expect(d.postErrors).toEqual(['posting the next job (kind 5065) failed: channel empty']);
  });
});
