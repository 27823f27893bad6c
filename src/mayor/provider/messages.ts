// Event templates the provider publishes besides results: its NIP-89 announcement and NIP-90 feedback.

import { KIND_JOB_REQUEST } from '../../nostr/kinds.js';
import { buildHandlerInfo, type HandlerLimits, type HandlerMetadata } from '../../nostr/nip89.js';
import { buildJobFeedback } from '../../nostr/nip90.js';
import type { EventTemplate, Filter } from '../../nostr/types.js';

export interface AdvertisementInput {
  identifier: string;
  /** Job types with their price per job (base units); only the available ones. */
  prices: Record<string, bigint>;
  ilpAddress: string;
  limits: HandlerLimits;
  metadata: HandlerMetadata;
  /** Payment modes served (issue 19). */
  paymentModes?: string[];
}

/** Kind 31990: serves kind 5065 for the given job types at the given prices. */
export function buildAdvertisement(input: AdvertisementInput): EventTemplate {
  return buildHandlerInfo({
    identifier: input.identifier,
    kinds: [KIND_JOB_REQUEST],
    jobTypes: Object.keys(input.prices),
    prices: input.prices,
    ilpAddress: input.ilpAddress,
    limits: input.limits,
    metadata: input.metadata,
    ...(input.paymentModes && { paymentModes: input.paymentModes }),
  });
}

/** What the runtime subscribes to: job requests of the served types (`#t`), optionally since a time. */
export function jobRequestFilter(jobTypes: readonly string[], since?: number): Filter {
  const filter: Filter = { kinds: [KIND_JOB_REQUEST], '#t': [...jobTypes] };
  if (since !== undefined) filter.since = since;
  return filter;
}

export function processingFeedback(
  jobId: string,
  requester: string,
  info = 'accepted; running in a Polecat worktree',
): EventTemplate {
  return buildJobFeedback({ jobId, requester, status: 'processing', statusInfo: info });
}

export function errorFeedback(jobId: string, requester: string, reason: string): EventTemplate {
  return buildJobFeedback({ jobId, requester, status: 'error', statusInfo: reason });
}
