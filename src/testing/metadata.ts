import { recordingLogger } from '../skills/logger.js';
import type { SkillContext, SkillMetadata } from '../skills/types.js';
import { peekKind } from '../toon/index.js';

/** A context for tests: identity only, unless you pass hooks (postJob, publish...) to record calls. */
export function testContext(overrides: Partial<SkillContext> = {}): SkillContext {
  return { identityPubkey: 'f'.repeat(64), ...overrides };
}

/**
 * Metadata as the pipeline would build it. Pass `payload` to take the kind from it, or `kind`.
 * The logger records lines in `metadata.logger.records`.
 */
export function testMetadata(
  overrides: Partial<Omit<SkillMetadata, 'logger'>> & { payload?: Uint8Array } = {},
): SkillMetadata & { logger: ReturnType<typeof recordingLogger> } {
  const { payload, ...rest } = overrides;
  const context =
    rest.context ?? testContext(rest.identityPubkey ? { identityPubkey: rest.identityPubkey } : {});
  return {
    kind: payload ? peekKind(payload) : 1,
    receivedAt: Date.now(),
    attempt: 1,
    identityPubkey: context.identityPubkey,
    signal: new AbortController().signal,
    ...rest,
    context,
    logger: recordingLogger(),
  };
}
