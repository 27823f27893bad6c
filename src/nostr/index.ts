// Public API of src/nostr: NIP-01 events and filters, NIP-44, NIP-59, NIP-90 jobs, NIP-89 handler info,
// kind 10032 peer info and the SPSP handshake kinds.
export * from './errors.js';
export * from './event.js';
export * from './filter.js';
export * from './keys.js';
export * from './kinds.js';
export * as nip44 from './nip44.js';
export * from './nip59.js';
export * from './nip89.js';
export * from './nip90.js';
export * from './peer-info.js';
export * from './settlement.js';
export * from './settlement-proof.js';
export * from './spsp.js';
export type * from './types.js';
