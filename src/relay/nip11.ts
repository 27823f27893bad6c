import type { RelayInfo, RelayLimits } from './config.js';

export const SUPPORTED_NIPS = [1, 9, 11, 42];
export const ENCODINGS = ['json', 'toon'] as const;
export type Encoding = (typeof ENCODINGS)[number];

/**
 * The NIP-11 relay information document. `basePricePerByte` is a decimal string (a bigint does not fit a JSON
 * number). `encodings` lists the delivery encodings a connection can opt in to with `?encoding=`.
 */
export function infoDocument(
  info: RelayInfo,
  limits: RelayLimits,
  basePricePerByte: bigint,
  ilpAddress: string,
): Record<string, unknown> {
  return {
    name: info.name ?? 'crosstown relay',
    description:
      info.description ??
      'ILP-gated Nostr relay: reading is free; writing is paid per byte of TOON-encoded event over ILP.',
    ...(info.pubkey ? { pubkey: info.pubkey } : {}),
    ...(info.contact ? { contact: info.contact } : {}),
    supported_nips: SUPPORTED_NIPS,
    software: 'crosstown',
    version: '0.1.0',
    limitation: {
      max_message_length: limits.maxMessageBytes,
      max_subscriptions: limits.maxSubscriptions,
      max_filters: limits.maxFilters,
      max_limit: limits.maxLimit,
      max_subid_length: limits.maxSubIdLength,
      auth_required: false,
      payment_required: true,
      restricted_writes: true,
      created_at_upper_limit: limits.maxFutureSeconds,
      ...(Number.isFinite(limits.maxPastSeconds) ? { created_at_lower_limit: limits.maxPastSeconds } : {}),
    },
    basePricePerByte: basePricePerByte.toString(),
    maxEventBytes: limits.maxEventBytes,
    ilpAddress,
    encodings: [...ENCODINGS],
  };
}
