import { describe, expect, it } from 'vitest';
import { finalizeEvent } from '../../src/nostr/event.js';
import { generateSecretKey, getPublicKey } from '../../src/nostr/keys.js';
import { encrypt, getConversationKey } from '../../src/nostr/nip44.js';
import { createRumor, createSeal, createWrap, unwrapEvent } from '../../src/nostr/nip59.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { encryptedDmSkill } from '../../src/skills/builtin/encrypted-dm.js';
import { jobRequestSkill } from '../../src/skills/builtin/job-request.js';
import { decodeSkillEvent, UNSIGNED_RUMOR_SIG } from '../../src/skills/event.js';
import { recordingLogger } from '../../src/skills/logger.js';
import { SkillPipeline } from '../../src/skills/pipeline.js';
import { SkillRegistry } from '../../src/skills/registry.js';
import type { SkillMetadata } from '../../src/skills/types.js';
import {
  giftWrapToon,
  loadTestTOON,
  getPublicKey as pub,
  testContext,
  testMetadata,
  testRecipientSecretKey,
  testSenderSecretKey,
} from '../../src/testing/index.js';
import { encodeEventBytes } from '../../src/toon/index.js';

const mayorKey = testRecipientSecretKey();
const mayor = pub(mayorKey);
const sender = pub(testSenderSecretKey());

describe('encrypted-dm skill (kind 1059, journey 4)', () => {
  it('decrypts the committed fixture: "Analyze this private repo"', async () => {
    const toonPayload = loadTestTOON('kind1059_encrypted_dm.toon');
    const skill = encryptedDmSkill({ secretKey: mayorKey });
    const result = await skill.handleToon(
      toonPayload,
      testMetadata({ payload: toonPayload, identityPubkey: mayor }),
    );
    expect(result.status).toBe('handled');
    expect(result.decryptedContent).toContain('Analyze this private repo');
    expect(result.senderPubkey).toBe(sender);
    expect(skill.supportedEventKinds()).toEqual([1059]);
  });

  it('routes the decrypted rumor by its own kind, marked private with the sender', async () => {
    const seen: { job?: string; meta?: SkillMetadata } = {};
    const registry = new SkillRegistry([
      encryptedDmSkill({ secretKey: mayorKey }),
      jobRequestSkill({
        provider: async (job, meta) => {
          seen.job = job.content;
          seen.meta = meta;
          return { status: 'handled', summary: `accepted ${job.jobType}` };
        },
      }),
    ]);
    const pipeline = new SkillPipeline({ registry, context: testContext({ identityPubkey: mayor }) });
    const d = await pipeline.dispatch(loadTestTOON('kind1059_encrypted_dm.toon'), {
      relayUrl: 'ws://127.0.0.1:1',
    });
    expect(d.skill).toBe('encrypted-dm');
    expect(d.outcome.status).toBe('handled');
    expect(d.outcome.result.summary).toMatch(/^private kind 5065 from [0-9a-f]{8}: accepted ci-cd-linux$/);
    expect(seen.job).toContain('Analyze this private repo');
    expect(seen.meta?.kind).toBe(5065);
    expect(seen.meta?.private?.senderPubkey).toBe(sender);
    expect(seen.meta?.relayUrl).toBe('ws://127.0.0.1:1');
  });

  it('can open wraps through the host hook so the key stays in the Mayor', async () => {
    const wrap = giftWrapToon({ kind: 1, tags: [], content: 'psst' }, { recipientPubkey: mayor });
    const ctx = testContext({ identityPubkey: mayor, unwrapGiftWrap: (w) => unwrapEvent(w, mayorKey) });
    const out = await encryptedDmSkill().handleToon(wrap, testMetadata({ payload: wrap, context: ctx }));
    expect(out.decryptedContent).toBe('psst');
  });

  describe('tampered wraps are rejected with a logged reason, never a crash or a retry', () => {
    const cases: Array<[string, () => NostrEvent, RegExp]> = [
      [
        'bad MAC (ciphertext flipped, wrap re-signed)',
        () => {
          const oneTime = generateSecretKey();
          const seal = createSeal(
            createRumor({ kind: 1, tags: [], content: 'x' }, testSenderSecretKey()),
            testSenderSecretKey(),
            mayor,
          );
          const ct = Buffer.from(encrypt(JSON.stringify(seal), getConversationKey(oneTime, mayor)), 'base64');
          ct[40] = ct[40]! ^ 1;
          return finalizeEvent({ kind: 1059, tags: [['p', mayor]], content: ct.toString('base64') }, oneTime);
        },
        /mac/i,
      ],
      [
        'seal signer is not the rumor author',
        () => {
          const impostor = generateSecretKey();
          const rumor = createRumor(
            { kind: 1, tags: [], content: 'I am the sender, honest' },
            testSenderSecretKey(),
          );
          return createWrap(createSeal(rumor, impostor, mayor), mayor);
        },
        /impersonation/,
      ],
      [
        'wrong recipient (p tag names someone else)',
        () =>
          createWrap(
            createSeal(
              createRumor({ kind: 1, tags: [], content: 'x' }, testSenderSecretKey()),
              testSenderSecretKey(),
              sender,
            ),
            sender,
          ),
        /not to us/,
      ],
      [
        'p tag says us but encrypted to someone else',
        () => {
          const other = getPublicKey(generateSecretKey());
          const oneTime = generateSecretKey();
          const seal = createSeal(
            createRumor({ kind: 1, tags: [], content: 'x' }, testSenderSecretKey()),
            testSenderSecretKey(),
            other,
          );
          return finalizeEvent(
            {
              kind: 1059,
              tags: [['p', mayor]],
              content: encrypt(JSON.stringify(seal), getConversationKey(oneTime, other)),
            },
            oneTime,
          );
        },
        /mac|invalid/i,
      ],
      [
        'wrap content changed without re-signing',
        () => {
          const wrap = createWrap(
            createSeal(
              createRumor({ kind: 1, tags: [], content: 'x' }, testSenderSecretKey()),
              testSenderSecretKey(),
              mayor,
            ),
            mayor,
          );
          return { ...wrap, created_at: wrap.created_at + 1 };
        },
        /signature/,
      ],
    ];
    for (const [label, make, reason] of cases) {
      it(label, async () => {
        const logger = recordingLogger();
        const pipeline = new SkillPipeline({
          registry: new SkillRegistry([encryptedDmSkill({ secretKey: mayorKey })]),
          context: testContext({ identityPubkey: mayor }),
          logger,
        });
        const d = await pipeline.dispatch(encodeEventBytes(make()));
        expect(d.outcome.status).toBe('failed');
        expect(d.outcome.retryable).toBe(false);
        expect(d.outcome.result.summary).toMatch(reason);
        expect(
          logger.records.some(
            (r) => r.level === 'warn' && reason.test(r.message) && r.fields?.skill === 'encrypted-dm',
          ),
        ).toBe(true);
        expect(pipeline.retry.size).toBe(0);
      });
    }
  });

  it('a rumor placeholder signature never passes as a signed public event', () => {
    const rumor = createRumor({ kind: 1, tags: [], content: 'x' }, testSenderSecretKey());
    const payload = encodeEventBytes({ ...rumor, sig: UNSIGNED_RUMOR_SIG });
    expect(
      decodeSkillEvent(payload, { kind: 1, private: { senderPubkey: sender, wrapId: 'w' } }).content,
    ).toBe('x');
    expect(() => decodeSkillEvent(payload, { kind: 1 })).toThrow(/signature/);
    expect(() =>
      decodeSkillEvent(payload, { kind: 1, private: { senderPubkey: mayor, wrapId: 'w' } }),
    ).toThrow(/sender/);
  });
});
