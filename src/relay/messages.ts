// NIP-01 client messages in, relay messages out. Parsing never throws anything but ProtocolError, whose
// `reply` is the frame to send back, so a bad frame is always answered, never fatal.
import { validateFilter } from '../nostr/index.js';
import type { Filter, NostrEvent } from '../nostr/types.js';
import type { RelayLimits } from './config.js';

export type ClientMessage =
  | { type: 'EVENT'; event: unknown }
  | { type: 'REQ'; subId: string; filters: Filter[] }
  | { type: 'COUNT'; subId: string; filters: Filter[] }
  | { type: 'CLOSE'; subId: string }
  | { type: 'AUTH'; event: unknown };

export type RelayMessage =
  | ['EVENT', string, NostrEvent | string]
  | ['OK', string, boolean, string]
  | ['EOSE', string]
  | ['CLOSED', string, string]
  | ['COUNT', string, { count: number; approximate?: boolean }]
  | ['NOTICE', string]
  | ['AUTH', string];

export class ProtocolError extends Error {
  constructor(readonly reply: RelayMessage) {
    super(reply[reply.length - 1] as string);
    this.name = 'ProtocolError';
  }
}

const notice = (message: string) => new ProtocolError(['NOTICE', message]);

export function parseClientMessage(text: string, limits: RelayLimits): ClientMessage {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    throw notice('invalid: message is not valid JSON');
  }
  if (!Array.isArray(msg) || typeof msg[0] !== 'string') {
    throw notice('invalid: a message must be a JSON array starting with its type, e.g. ["REQ", "sub", {}]');
  }
  switch (msg[0]) {
    case 'EVENT':
      if (msg.length !== 2) throw notice('invalid: EVENT takes exactly one event: ["EVENT", {...}]');
      return { type: 'EVENT', event: msg[1] };
    case 'AUTH':
      if (msg.length !== 2) throw notice('invalid: AUTH takes exactly one event: ["AUTH", {...}]');
      return { type: 'AUTH', event: msg[1] };
    case 'REQ':
      return parseReq(msg, limits);
    case 'COUNT': {
      // NIP-45: the same shape and limits as REQ; answered once with a COUNT (or CLOSED), never held open.
      const req = parseReq(msg, limits, 'COUNT') as { subId: string; filters: Filter[] };
      return { type: 'COUNT', subId: req.subId, filters: req.filters };
    }
    case 'CLOSE': {
      const subId = msg[1];
      if (msg.length !== 2 || typeof subId !== 'string') {
        throw notice('invalid: CLOSE takes a subscription id: ["CLOSE", "sub"]');
      }
      return { type: 'CLOSE', subId };
    }
    default:
      throw notice(
        `invalid: unknown message type ${JSON.stringify(msg[0]).slice(0, 40)}; use EVENT, REQ, COUNT, CLOSE or AUTH`,
      );
  }
}

function parseReq(msg: unknown[], limits: RelayLimits, verb: 'REQ' | 'COUNT' = 'REQ'): ClientMessage {
  const subId = msg[1];
  if (typeof subId !== 'string' || subId.length === 0 || subId.length > limits.maxSubIdLength) {
    throw notice(`invalid: ${verb} needs a subscription id of 1 to ${limits.maxSubIdLength} characters`);
  }
  const closed = (reason: string) => new ProtocolError(['CLOSED', subId, reason]);
  const raw = msg.slice(2);
  if (raw.length === 0) throw closed(`invalid: ${verb} needs at least one filter`);
  if (raw.length > limits.maxFilters) {
    throw closed(
      `invalid: ${raw.length} filters; this relay allows at most ${limits.maxFilters} per ${verb}`,
    );
  }
  const filters: Filter[] = [];
  for (const candidate of raw) {
    let filter: Filter;
    try {
      filter = validateFilter(candidate);
    } catch (err) {
      throw closed(`invalid: ${(err as Error).message}`);
    }
    for (const [key, value] of Object.entries(filter)) {
      if (Array.isArray(value) && value.length > limits.maxFilterValues) {
        throw closed(
          `invalid: filter ${key} has ${value.length} values; the limit is ${limits.maxFilterValues}`,
        );
      }
    }
    filters.push(filter);
  }
  return { type: 'REQ', subId, filters };
}

/** The event id of a malformed EVENT, when one can be read, so the OK can name it. */
export function claimedId(event: unknown): string | undefined {
  const id = (event as { id?: unknown } | null)?.id;
  return typeof id === 'string' && /^[0-9a-f]{64}$/.test(id) ? id : undefined;
}
