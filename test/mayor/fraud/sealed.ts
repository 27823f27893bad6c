// Sealed results as a provider publishes them (issue 19), for the fraud proof tests: a signed job request, a
// result content sealed under a fresh key, and the signed kind 6065 carrying ciphertext, condition and summary.
import { finalizeEvent } from '../../../src/nostr/event.js';
import { generateSecretKey } from '../../../src/nostr/keys.js';
import { buildJobRequest, buildJobResult } from '../../../src/nostr/nip90.js';
import { buildSealedSummaryTags, type SealedSummary, sealResult } from '../../../src/nostr/sealed-result.js';
import type { NostrEvent } from '../../../src/nostr/types.js';

export const alphaSk = generateSecretKey();
export const betaSk = generateSecretKey();

export function jobRequest(sk = alphaSk, content = ''): NostrEvent {
  return finalizeEvent(
    buildJobRequest({
      kind: 5065,
      jobType: 'ci-cd-linux',
      inputs: [{ data: 'https://example.com/repo.git', type: 'url' }],
      params: {},
      bid: 5000n,
      relays: [],
      content,
    }),
    sk,
  );
}

export interface Sealed {
  request: NostrEvent;
  result: NostrEvent;
  key: Uint8Array;
  plain: string;
}

/**
 * A sealed result. `plain`: what is encrypted; `summary`: what the provider signs publicly; `ciphertext`: replaces
 * the real ciphertext (garbage that does not decrypt); `sealFor`: the job id used as AAD (a ciphertext for
 * another job).
 */
export function sealedResult(
  o: {
    plain?: string;
    summary?: SealedSummary;
    ciphertext?: string;
    sealFor?: string;
    sk?: Uint8Array;
    request?: NostrEvent;
  } = {},
): Sealed {
  const request = o.request ?? jobRequest();
  const plain = o.plain ?? JSON.stringify({ build: 'SUCCESS', tests: { passed: 12, failed: 0 }, logs: 'ok' });
  const summary: SealedSummary = o.summary ?? {
    status: 'success',
    build: 'SUCCESS',
    tests: { passed: 12, failed: 0, total: 12 },
  };
  const sealed = sealResult(plain, o.sealFor ?? request.id);
  const template = buildJobResult({
    request,
    content: o.ciphertext ?? sealed.ciphertext,
    amount: { amount: 5000n },
    status: 'success',
  });
  template.tags.push(...buildSealedSummaryTags(sealed.condition, summary));
  return { request, result: finalizeEvent(template, o.sk ?? betaSk), key: sealed.key, plain };
}
