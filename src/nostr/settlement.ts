import { NostrError, type NostrErrorCode } from './errors.js';
import { isEvmAddress, isPlainObject, rejectUnknownKeys } from './validate.js';

/** Where and how a peer settles: an ERC-20 payment channel contract on one EVM chain. */
export interface SettlementInfo {
  chainId: number;
  /** ERC-20 token (M2M) address. */
  token: `0x${string}`;
  /** Payment channel contract address. */
  channelContract: `0x${string}`;
  /** The peer's on-chain address that sends and receives channel funds. */
  settlementAddress: `0x${string}`;
}

const KEYS = ['chainId', 'token', 'channelContract', 'settlementAddress'] as const;

/** Strictly checks a settlement object read from JSON. */
export function parseSettlement(x: unknown, code: NostrErrorCode): SettlementInfo {
  if (!isPlainObject(x)) throw new NostrError(code, 'settlement must be a JSON object');
  rejectUnknownKeys(x, KEYS, 'settlement', code);
  if (!Number.isSafeInteger(x.chainId) || (x.chainId as number) <= 0) {
    throw new NostrError(code, 'settlement.chainId must be a positive integer (e.g. 84532 for Base Sepolia)');
  }
  for (const key of ['token', 'channelContract', 'settlementAddress'] as const) {
    if (!isEvmAddress(x[key]))
      throw new NostrError(code, `settlement.${key} must be a 0x-prefixed 20-byte hex address`);
  }
  return {
    chainId: x.chainId as number,
    token: x.token as `0x${string}`,
    channelContract: x.channelContract as `0x${string}`,
    settlementAddress: x.settlementAddress as `0x${string}`,
  };
}

/**
 * The text a requester signs (EIP-191 personal_sign) with its settlement key to prove that it controls the
 * settlement address it declares in an SPSP request: it names the address, the requester's Nostr key and the
 * node it is for, so the proof cannot be reused by another identity or at another node.
 */
export function settlementProofMessage(p: {
  settlementAddress: string;
  requesterPubkey: string;
  nodePubkey: string;
}): string {
  return [
    'crosstown: I control this settlement address',
    `address: ${p.settlementAddress.toLowerCase()}`,
    `nostr pubkey: ${p.requesterPubkey}`,
    `node: ${p.nodePubkey}`,
  ].join('\n');
}
