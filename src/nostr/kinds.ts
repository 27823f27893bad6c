// NIP-01 kind ranges and the kinds this project uses.

/** Stored by relays as-is: 1, 2, 4-44, 1000-9999. */
export function isRegularKind(kind: number): boolean {
  return kind === 1 || kind === 2 || (kind >= 4 && kind < 45) || (kind >= 1000 && kind < 10000);
}

/** Only the latest per (pubkey, kind) is kept: 0, 3, 10000-19999. */
export function isReplaceableKind(kind: number): boolean {
  return kind === 0 || kind === 3 || (kind >= 10000 && kind < 20000);
}

/** Not stored, only forwarded to current subscribers: 20000-29999. */
export function isEphemeralKind(kind: number): boolean {
  return kind >= 20000 && kind < 30000;
}

/** Only the latest per (pubkey, kind, `d` tag) is kept: 30000-39999. */
export function isAddressableKind(kind: number): boolean {
  return kind >= 30000 && kind < 40000;
}

/** NIP-90 job request "build and test"; the job type is in a `t` tag. */
export const KIND_JOB_REQUEST = 5065;
/** NIP-90 job result (request kind + 1000). */
export const KIND_JOB_RESULT = 6065;
/** NIP-90 job feedback. */
export const KIND_JOB_FEEDBACK = 7000;
/** NIP-89 handler information (a provider's announcement). */
export const KIND_HANDLER_INFO = 31990;
/** A node's ILP peer info (replaceable). */
export const KIND_PEER_INFO = 10032;
/** SPSP handshake request, NIP-44 encrypted (ephemeral). */
export const KIND_SPSP_REQUEST = 23194;
/** SPSP handshake response, NIP-44 encrypted (ephemeral). */
export const KIND_SPSP_RESPONSE = 23195;
/** NIP-59 seal. */
export const KIND_SEAL = 13;
/** NIP-59 gift wrap. */
export const KIND_GIFT_WRAP = 1059;
/** NIP-42 client authentication. */
export const KIND_CLIENT_AUTH = 22242;
