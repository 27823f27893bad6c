// Kind 10032 peer info: a node's ILP endpoint, published as a replaceable event (latest per author wins).
// Layout: content is a JSON object, strictly validated:
//   { "ilpAddress": "g.crosstown.node", "btpUrl": "ws://127.0.0.1:7768",
//     "settlement": { "chainId": 31337, "token": "0x…", "channelContract": "0x…", "settlementAddress": "0x…" },
//     "basePricePerByte": "10000000000000" }      (bigint base units as a decimal string)
// plus one tag, ["ilp", <ilpAddress>], so the address shows without parsing the content.
import { NostrError } from './errors.js';
import { validateEventShape } from './event.js';
import { KIND_PEER_INFO } from './kinds.js';
import { parseSettlement, type SettlementInfo } from './settlement.js';
import type { EventTemplate, NostrEvent } from './types.js';
import {
  findTag,
  formatAmount,
  isIlpAddress,
  isPlainObject,
  parseAmount,
  parseJson,
  rejectUnknownKeys,
} from './validate.js';

export interface PeerInfo {
  ilpAddress: string;
  btpUrl: string;
  settlement: SettlementInfo;
  basePricePerByte: bigint;
}

export interface ParsedPeerInfo extends PeerInfo {
  pubkey: string;
  event: NostrEvent;
}

const KEYS = ['ilpAddress', 'btpUrl', 'settlement', 'basePricePerByte'] as const;

export function buildPeerInfo(info: PeerInfo): EventTemplate {
  // Validate by round-tripping through the parser's checks, so builder and parser cannot disagree.
  const body = {
    ilpAddress: info.ilpAddress,
    btpUrl: info.btpUrl,
    settlement: info.settlement,
    basePricePerByte: formatAmount(info.basePricePerByte, 'basePricePerByte', 'invalid_peer_info'),
  };
  checkBody(body);
  return { kind: KIND_PEER_INFO, tags: [['ilp', info.ilpAddress]], content: JSON.stringify(body) };
}

export function parsePeerInfo(event: NostrEvent): ParsedPeerInfo {
  let e: NostrEvent;
  try {
    e = validateEventShape(event);
  } catch (err) {
    throw new NostrError('invalid_peer_info', `malformed peer info: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (e.kind !== KIND_PEER_INFO) fail(`not peer info: kind ${e.kind}, expected ${KIND_PEER_INFO}`);
  const info = checkBody(parseJson(e.content, 'peer info content', 'invalid_peer_info'));
  const tagged = findTag(e.tags, 'ilp')?.[1];
  if (tagged !== undefined && tagged !== info.ilpAddress) {
    fail(`ilp tag ${tagged} disagrees with content ilpAddress ${info.ilpAddress}`);
  }
  return { ...info, pubkey: e.pubkey, event: e };
}

function checkBody(x: unknown): PeerInfo {
  if (!isPlainObject(x)) fail('peer info content must be a JSON object');
  rejectUnknownKeys(x, KEYS, 'peer info', 'invalid_peer_info');
  if (!isIlpAddress(x.ilpAddress))
    fail(`ilpAddress ${JSON.stringify(x.ilpAddress)} is not a valid ILP address`);
  if (!isBtpUrl(x.btpUrl))
    fail(`btpUrl ${JSON.stringify(x.btpUrl)} must be a btp+ws://, btp+wss://, ws:// or wss:// URL`);
  return {
    ilpAddress: x.ilpAddress,
    btpUrl: x.btpUrl,
    settlement: parseSettlement(x.settlement, 'invalid_peer_info'),
    basePricePerByte: parseAmount(x.basePricePerByte, 'basePricePerByte', 'invalid_peer_info'),
  };
}

/** A BTP endpoint: `btp+ws://` / `btp+wss://` (what interledgerjs plugins take) or plain `ws://` / `wss://`. */
export function isBtpUrl(x: unknown): x is string {
  if (typeof x !== 'string') return false;
  try {
    const url = new URL(x);
    return ['ws:', 'wss:', 'btp+ws:', 'btp+wss:'].includes(url.protocol);
  } catch {
    return false;
  }
}

function fail(message: string): never {
  throw new NostrError('invalid_peer_info', message);
}
