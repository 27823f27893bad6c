// Sealing a result (issue 19, atomic pay-for-result): the clear kind 6065 template's content (the full
// result: logs, artifacts, details) is encrypted under a fresh key K; the event keeps NIP-90's tags, the price
// and a signed public summary (status, build, test counts), and gains the condition SHA-256(K). The plain
// result never leaves the provider before it is paid: the payment's FULFILL is what reveals K.
import {
  buildSealedSummaryTags,
  type SealedResult,
  sealResult,
  summaryOf,
} from '../../nostr/sealed-result.js';
import type { EventTemplate } from '../../nostr/types.js';

export interface SealedTemplate {
  template: EventTemplate;
  sealed: SealedResult;
}

/** The sealed version of a clear result template for job `jobId` (under `key` when given, else a fresh K). */
export function sealTemplate(
  clear: EventTemplate,
  jobId: string,
  status: 'success' | 'error',
  key?: Uint8Array,
): SealedTemplate {
  const sealed = sealResult(clear.content, jobId, key);
  const summary = summaryOf(status, clear.content);
  return {
    template: {
      ...clear,
      tags: [...clear.tags, ...buildSealedSummaryTags(sealed.condition, summary)],
      content: sealed.ciphertext,
    },
    sealed,
  };
}
