// SPSP over Nostr (DESIGN §3 "ILP"): kind 23194 request / 23195 response, both ephemeral. The content is
// NIP-44 encrypted JSON between the two parties; a `p` tag names the recipient and the response's `e` tag
// names the request. Parsers verify the signature, the addressing and the JSON shape strictly
// (unknown fields are rejected), because the response carries the shared secret for ILP conditions.
import { NostrError } from './errors.js';
import { finalizeEvent, verifyEvent } from './event.js';
import { getPublicKey } from './keys.js';
import { KIND_SPSP_REQUEST, KIND_SPSP_RESPONSE } from './kinds.js';
import { decrypt, encrypt, getConversationKey } from './nip44.js';
import { isBtpUrl } from './peer-info.js';
import { parseSettlement, type SettlementInfo } from './settlement.js';
import type { NostrEvent } from './types.js';
import {
  findTag,
  formatAmount,
  isEvmAddress,
  isHex64,
  isIlpAddress,
  isPlainObject,
  parseAmount,
  parseJson,
  rejectUnknownKeys,
} from './validate.js';

export interface SpspRequest {
  /** The requester's correlation id (1-128 characters). */
  requestId: string;
  /** The requester's on-chain address, for the channel the connector may open towards it. */
  settlementAddress?: `0x${string}`;
  /**
   * EIP-191 signature by `settlementAddress` over settlementProofMessage(address, requester pubkey, recipient
   * pubkey): proves the requester controls the address (a node refuses an address without it).
   */
  settlementProof?: `0x${string}`;
  /** Chain ids the requester can settle on, most preferred first. */
  supportedChains?: number[];
}

export interface SpspResponse {
  /** Where the requester sends packets (ILP address). */
  destinationAccount: string;
  /** 32 bytes, standard base64: the key for fulfillments/conditions. */
  sharedSecret: string;
  /** The relay's write price per byte of event data, base units. */
  basePricePerByte: bigint;
  settlement: SettlementInfo;
  /** The requester's own ILP address under the connector. */
  ilpAddress: string;
  btpUrl: string;
  btpToken: string;
}

export interface ParsedSpspRequest {
  request: SpspRequest;
  senderPubkey: string;
  event: NostrEvent;
}

export interface ParsedSpspResponse {
  response: SpspResponse;
  senderPubkey: string;
  /** The request event this answers (`e` tag). */
  requestEventId: string;
  event: NostrEvent;
}

const REQUEST_KEYS = ['requestId', 'settlementAddress', 'settlementProof', 'supportedChains'] as const;
const RESPONSE_KEYS = [
  'destinationAccount',
  'sharedSecret',
  'basePricePerByte',
  'settlement',
  'ilpAddress',
  'btpUrl',
  'btpToken',
] as const;
// 32 bytes in standard padded base64 is 43 characters and one '='; the last character carries 4 bits.
const SECRET_B64 = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export function buildSpspRequest(
  senderSecretKey: Uint8Array,
  recipientPubkey: string,
  request: SpspRequest,
  createdAt?: number,
): NostrEvent {
  const body = checkRequest({ ...request });
  return seal(senderSecretKey, recipientPubkey, KIND_SPSP_REQUEST, [['p', recipientPubkey]], body, createdAt);
}

export function parseSpspRequest(event: NostrEvent, recipientSecretKey: Uint8Array): ParsedSpspRequest {
  const body = open(event, recipientSecretKey, KIND_SPSP_REQUEST);
  return { request: checkRequest(body), senderPubkey: event.pubkey, event };
}

/** Answers `requestEvent` (a verified 23194 event) with an encrypted 23195 to its author. */
export function buildSpspResponse(
  senderSecretKey: Uint8Array,
  requestEvent: NostrEvent,
  response: SpspResponse,
  createdAt?: number,
): NostrEvent {
  checkResponse({
    ...response,
    basePricePerByte: formatAmount(response.basePricePerByte, 'basePricePerByte', 'invalid_spsp'),
  });
  const body = { ...response, basePricePerByte: response.basePricePerByte.toString(10) };
  const tags = [
    ['p', requestEvent.pubkey],
    ['e', requestEvent.id],
  ];
  return seal(senderSecretKey, requestEvent.pubkey, KIND_SPSP_RESPONSE, tags, body, createdAt);
}

/** Opens a 23195; when `expectedRequestId` is given, the `e` tag must name it. */
export function parseSpspResponse(
  event: NostrEvent,
  recipientSecretKey: Uint8Array,
  expectedRequestId?: string,
): ParsedSpspResponse {
  const body = open(event, recipientSecretKey, KIND_SPSP_RESPONSE);
  const requestEventId = findTag(event.tags, 'e')?.[1];
  if (!isHex64(requestEventId)) fail('SPSP response has no valid e tag naming the request event');
  if (expectedRequestId !== undefined && requestEventId !== expectedRequestId) {
    fail(`SPSP response answers request ${requestEventId}, expected ${expectedRequestId}`);
  }
  return { response: checkResponse(body), senderPubkey: event.pubkey, requestEventId, event };
}

function seal(
  secretKey: Uint8Array,
  recipientPubkey: string,
  kind: number,
  tags: string[][],
  body: unknown,
  createdAt?: number,
): NostrEvent {
  if (!isHex64(recipientPubkey)) fail('recipient pubkey must be 64 lowercase hex characters');
  const content = encrypt(JSON.stringify(body), getConversationKey(secretKey, recipientPubkey));
  return finalizeEvent(
    createdAt === undefined ? { kind, tags, content } : { kind, tags, content, created_at: createdAt },
    secretKey,
  );
}

function open(event: NostrEvent, recipientSecretKey: Uint8Array, kind: number): Record<string, unknown> {
  if (event.kind !== kind) fail(`expected kind ${kind}, got ${event.kind}`);
  if (!verifyEvent(event)) fail('SPSP event id or signature is invalid');
  const me = getPublicKey(recipientSecretKey);
  const to = findTag(event.tags, 'p')?.[1];
  if (to !== me) fail(`SPSP event is addressed to ${String(to)}, not to this key (${me})`);
  // NIP-44 errors (bad MAC etc.) propagate with their own codes.
  const json = decrypt(event.content, getConversationKey(recipientSecretKey, event.pubkey));
  const body = parseJson(json, 'SPSP content', 'invalid_spsp');
  if (!isPlainObject(body)) fail('SPSP content must be a JSON object');
  return body;
}

function checkRequest(x: Record<string, unknown>): SpspRequest {
  rejectUnknownKeys(x, REQUEST_KEYS, 'SPSP request', 'invalid_spsp');
  if (typeof x.requestId !== 'string' || x.requestId.length === 0 || x.requestId.length > 128) {
    fail('SPSP request requestId must be a string of 1-128 characters');
  }
  const out: SpspRequest = { requestId: x.requestId };
  if (x.settlementAddress !== undefined) {
    if (!isEvmAddress(x.settlementAddress))
      fail('SPSP request settlementAddress must be a 0x 20-byte hex address');
    out.settlementAddress = x.settlementAddress;
  }
  if (x.settlementProof !== undefined) {
    if (typeof x.settlementProof !== 'string' || !/^0x[0-9a-fA-F]{130}$/.test(x.settlementProof))
      fail('SPSP request settlementProof must be a 0x 65-byte hex signature');
    if (out.settlementAddress === undefined) fail('SPSP request settlementProof needs a settlementAddress');
    out.settlementProof = x.settlementProof as `0x${string}`;
  }
  if (x.supportedChains !== undefined) {
    const chains = x.supportedChains;
    if (!Array.isArray(chains) || !chains.every((c) => Number.isSafeInteger(c) && c > 0)) {
      fail('SPSP request supportedChains must be an array of positive integer chain ids');
    }
    out.supportedChains = [...chains];
  }
  return out;
}

function checkResponse(x: Record<string, unknown>): SpspResponse {
  rejectUnknownKeys(x, RESPONSE_KEYS, 'SPSP response', 'invalid_spsp');
  for (const key of RESPONSE_KEYS) if (x[key] === undefined) fail(`SPSP response is missing '${key}'`);
  if (!isIlpAddress(x.destinationAccount))
    fail('SPSP response destinationAccount must be a valid ILP address');
  if (typeof x.sharedSecret !== 'string' || !SECRET_B64.test(x.sharedSecret)) {
    fail('SPSP response sharedSecret must be 32 bytes in standard padded base64 (44 characters)');
  }
  if (!isIlpAddress(x.ilpAddress)) fail('SPSP response ilpAddress must be a valid ILP address');
  if (!isBtpUrl(x.btpUrl)) fail('SPSP response btpUrl must be a btp+ws://, btp+wss://, ws:// or wss:// URL');
  if (typeof x.btpToken !== 'string' || x.btpToken.length === 0)
    fail('SPSP response btpToken must be a non-empty string');
  return {
    destinationAccount: x.destinationAccount,
    sharedSecret: x.sharedSecret,
    basePricePerByte: parseAmount(x.basePricePerByte, 'basePricePerByte', 'invalid_spsp'),
    settlement: parseSettlement(x.settlement, 'invalid_spsp'),
    ilpAddress: x.ilpAddress,
    btpUrl: x.btpUrl,
    btpToken: x.btpToken,
  };
}

function fail(message: string): never {
  throw new NostrError('invalid_spsp', message);
}
