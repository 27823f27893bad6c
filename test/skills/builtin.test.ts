import { gzipSync } from 'node:zlib';
import { finalizeEvent as ntFinalize } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { generateSecretKey, getPublicKey } from '../../src/nostr/keys.js';
import { buildJobFeedback, buildJobRequest, buildJobResult } from '../../src/nostr/nip90.js';
import { ciCdCallbackSkill } from '../../src/skills/builtin/ci-cd-callback.js';
import { encodeCiResultContent } from '../../src/skills/builtin/ci-result.js';
import { jobFeedbackSkill } from '../../src/skills/builtin/job-feedback.js';
import { jobRequestSkill } from '../../src/skills/builtin/job-request.js';
import { builtinSkills } from '../../src/skills/builtins.js';
import { compressLogs, decompressLogs } from '../../src/skills/logs.js';
import { SkillPipeline } from '../../src/skills/pipeline.js';
import { SkillRegistry } from '../../src/skills/registry.js';
import { signTestEvent, testContext, testMetadata } from '../../src/testing/index.js';
import { encodeEventBytes } from '../../src/toon/index.js';

const requesterKey = generateSecretKey();
const requester = getPublicKey(requesterKey);
const providerKey = generateSecretKey();
const provider = getPublicKey(providerKey);

const request = signTestEvent(
  buildJobRequest({
    jobType: 'ci-cd-linux',
    inputs: [{ data: 'https://example.com/repo.git', type: 'url' }],
    params: { arch: 'amd64' },
    bid: 100_000n,
    relays: [],
    content: '',
  }),
  requesterKey,
);
const requestToon = encodeEventBytes(request);

describe('job-request (5xxx)', () => {
  it('refuses with a reason when no provider is configured', async () => {
    const out = await jobRequestSkill().handleToon(
      requestToon,
      testMetadata({ payload: requestToon, identityPubkey: provider }),
    );
    expect(out.status).toBe('ignored');
    expect(out.summary).toMatch(/no provider is configured/);
  });

  it('hands the parsed request to the provider hook', async () => {
    const seen: unknown[] = [];
    const skill = jobRequestSkill({
      provider: async (job) => {
        seen.push([job.jobType, job.bid, job.params.arch, job.requester]);
        return { status: 'handled', summary: 'accepted' };
      },
      jobTypes: ['ci-cd-linux'],
    });
    const out = await skill.handleToon(
      requestToon,
      testMetadata({ payload: requestToon, identityPubkey: provider }),
    );
    expect(out.summary).toBe('accepted');
    expect(seen).toEqual([['ci-cd-linux', 100_000n, 'amd64', requester]]);
    // Our own request echoed back by the relay is not a job for us.
    const own = await skill.handleToon(
      requestToon,
      testMetadata({ payload: requestToon, identityPubkey: requester }),
    );
    expect(own.status).toBe('ignored');
  });

  it('only serves configured job types, and rejects a forged signature', async () => {
    const skill = jobRequestSkill({
      provider: async () => ({ status: 'handled' }),
      jobTypes: ['docker-build-amd64'],
    });
    const out = await skill.handleToon(
      requestToon,
      testMetadata({ payload: requestToon, identityPubkey: provider }),
    );
    expect(out).toMatchObject({
      status: 'ignored',
      summary: expect.stringMatching(/ci-cd-linux is not served/),
    });
    const forged = encodeEventBytes({ ...request, content: 'changed' });
    await expect(
      skill.handleToon(forged, testMetadata({ payload: forged, identityPubkey: provider })),
    ).rejects.toThrow(/signature/);
  });
});

function resultToon(content: string, status: 'success' | 'error' = 'success'): Uint8Array {
  return encodeEventBytes(
    signTestEvent(buildJobResult({ request, content, amount: { amount: 875n }, status }), providerKey),
  );
}

describe('ci-cd-callback (6xxx)', () => {
  it('summarises build, tests and logs: "Build: SUCCESS | Tests: 47/47 passed"', async () => {
    const payload = resultToon(
      encodeCiResultContent({ build: 'SUCCESS', tests: { passed: 47, failed: 0 }, logText: 'PASS all\n' }),
    );
    const out = await ciCdCallbackSkill().handleToon(
      payload,
      testMetadata({ payload, identityPubkey: requester }),
    );
    expect(out.status).toBe('handled');
    expect(out.summary).toBe('Build: SUCCESS | Tests: 47/47 passed');
    expect(out.data).toMatchObject({
      jobId: request.id,
      provider,
      status: 'success',
      logs: 'PASS all\n',
      amount: '875',
    });
  });

  it('derives the build from the status tag and reports failed tests', async () => {
    const payload = resultToon(JSON.stringify({ tests: { passed: 40, failed: 7 } }), 'error');
    const out = await ciCdCallbackSkill().handleToon(
      payload,
      testMetadata({ payload, identityPubkey: requester }),
    );
    expect(out.summary).toBe('Build: FAILURE | Tests: 40/47 passed');
  });

  it('refuses a gzip bomb past the size cap but still records the result', async () => {
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024)).toString('base64');
    const payload = resultToon(JSON.stringify({ build: 'SUCCESS', logs: bomb }));
    const out = await ciCdCallbackSkill({ maxLogBytes: 64 * 1024 }).handleToon(
      payload,
      testMetadata({ payload, identityPubkey: requester }),
    );
    expect(out.status).toBe('handled');
    expect(out.data?.logsError).toMatch(/more than 65536 bytes/);
    expect(out.data?.logs).toBeUndefined();
  });

  it('ignores results for other requesters unless correlated, and posts the next job of a chain', async () => {
    const payload = resultToon(JSON.stringify({ build: 'SUCCESS' }));
    const stranger = await ciCdCallbackSkill().handleToon(
      payload,
      testMetadata({ payload, identityPubkey: 'e'.repeat(64) }),
    );
    expect(stranger.status).toBe('ignored');
    const next = { kind: 5065, tags: [['t', 'deploy']], content: '' };
    const skill = ciCdCallbackSkill({ next: (r) => (r.build === 'SUCCESS' ? [next] : []) });
    const out = await skill.handleToon(
      payload,
      testMetadata({
        payload,
        correlation: { jobId: request.id, callbackSkill: 'ci-cd-callback', chainId: 'c' },
      }),
    );
    expect(out.nextJobs).toEqual([next]);
  });

  it('logs round-trip; non-base64 and non-gzip are refused', () => {
    expect(decompressLogs(compressLogs('línea 1\n'))).toBe('línea 1\n');
    expect(() => decompressLogs('not base64!')).toThrow(/not base64/);
    expect(() => decompressLogs(Buffer.from('plain').toString('base64'))).toThrow(/not valid gzip/);
  });
});

describe('job-feedback (7000)', () => {
  it('reports status and amount of feedback on our jobs', async () => {
    const fb = signTestEvent(
      buildJobFeedback({
        jobId: request.id,
        requester,
        status: 'payment-required',
        amount: { amount: 500n },
      }),
      providerKey,
    );
    const payload = encodeEventBytes(fb);
    const out = await jobFeedbackSkill().handleToon(
      payload,
      testMetadata({ payload, identityPubkey: requester }),
    );
    expect(out.summary).toBe(`Job ${request.id.slice(0, 8)}: payment-required (amount 500)`);
    expect(out.data).toMatchObject({ status: 'payment-required', amount: '500', provider });
  });
});

describe('job-feedback from a generic NIP-90 DVM (issue 18)', () => {
  it('takes its `partial` feedback, signed by nostr-tools, as a report (not a failure)', async () => {
    const fb = ntFinalize(
      {
        kind: 7000,
        created_at: Math.floor(Date.now() / 1000),
        tags: [
          ['status', 'partial', 'first 10 of 40 tests'],
          ['e', request.id],
          ['p', requester],
        ],
        content: '10/40 passed so far',
      },
      providerKey,
    );
    const payload = encodeEventBytes(fb);
    const out = await jobFeedbackSkill().handleToon(
      payload,
      testMetadata({ payload, identityPubkey: requester }),
    );
    expect(out.status).toBe('handled');
    expect(out.summary).toBe(`Job ${request.id.slice(0, 8)}: partial: first 10 of 40 tests`);
    expect(out.data).toMatchObject({ status: 'partial', statusInfo: 'first 10 of 40 tests', provider });
  });
});

describe('builtinSkills', () => {
  it('cover 5xxx, 6xxx, 7000 and 1059 without conflicts', async () => {
    const reg = new SkillRegistry(builtinSkills());
    expect([5065, 5999, 6065, 7000, 1059].map((k) => reg.lookup(k)?.name)).toEqual([
      'job-request',
      'job-request',
      'ci-cd-callback',
      'job-feedback',
      'encrypted-dm',
    ]);
    const pipeline = new SkillPipeline({
      registry: reg,
      context: testContext({ identityPubkey: requester }),
    });
    const payload = resultToon(encodeCiResultContent({ build: 'SUCCESS', tests: { passed: 3, failed: 0 } }));
    expect((await pipeline.dispatch(payload)).outcome.result.summary).toBe(
      'Build: SUCCESS | Tests: 3/3 passed',
    );
  });
});
