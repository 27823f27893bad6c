import type { RelayInfo, RelayLimits } from './config.js';

export const SUPPORTED_NIPS = [1, 9, 11, 42, 45];
/** NIP-11 wants a URL for `software`; the package's registry page is the one stable address it has. */
export const SOFTWARE_URL = 'https://www.npmjs.com/package/crosstown';
/** The unit of every amount: base units (10^-18) of the M2M ERC-20 token, never millisats. */
export const FEE_UNIT = 'M2M';
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
    software: info.software ?? SOFTWARE_URL,
    version: '0.1.0',
    ...(info.paymentsUrl ? { payments_url: info.paymentsUrl } : {}),
    // NIP-11 fees: the publication fee is per byte of the TOON-encoded event, so `per_byte` says how to apply
    // it; `unit` names the asset (M2M base units, 18 decimals), so a client cannot take it for millisats.
    fees: {
      publication: [
        {
          amount: jsonAmount(basePricePerByte),
          unit: FEE_UNIT,
          per_byte: true,
          asset_scale: 18,
        },
      ],
    },
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

/** A JSON number when it is exact as one, else a decimal string (a bigint beyond 2^53 would be rounded). */
function jsonAmount(value: bigint): number | string {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}
