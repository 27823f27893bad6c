// NIP-89 handler information (kind 31990): how a provider announces the jobs it serves.
// Layout: ["d", identifier], ["k", "<kind>"] per kind served, ["t", jobType] per job type,
// ["price", jobType, "<base units per job>"], ["ilp", <provider ILP address>], ["limit", name, "<integer>"];
// ["payment", mode, ...] lists the payment modes served (issue 19: `atomic`, `after-result`; an advert without
// it is an older provider: `after-result` only);
// content is JSON metadata ({ name, about, picture, ... }, like kind 0). Relays can filter with #k and #t.
import { NostrError } from './errors.js';
import { validateEventShape } from './event.js';
import { KIND_HANDLER_INFO } from './kinds.js';
import type { EventTemplate, NostrEvent } from './types.js';
import { findTag, formatAmount, isIlpAddress, isPlainObject, parseAmount, parseJson } from './validate.js';

export interface HandlerLimits {
  /** Longest a job may run before the provider kills it. */
  timeoutSeconds?: number;
  /** Largest output (compressed) the provider returns. */
  maxOutputBytes?: number;
  /** Jobs run at the same time. */
  concurrency?: number;
}

export interface HandlerMetadata {
  name?: string;
  about?: string;
  picture?: string;
  [key: string]: unknown;
}

export interface HandlerInfo {
  /** `d` tag; one announcement per identifier. */
  identifier: string;
  kinds: number[];
  jobTypes: string[];
  /** Price per job, base units, keyed by job type. */
  prices: Record<string, bigint>;
  ilpAddress: string;
  limits: HandlerLimits;
  metadata: HandlerMetadata;
  /** Payment modes served (`atomic`, `after-result`); omitted when building: no tag (read as after-result). */
  paymentModes?: string[];
}

export interface ParsedHandlerInfo extends HandlerInfo {
  provider: string;
  event: NostrEvent;
  /** Always set when parsed: `['after-result']` for an advert without a payment tag. */
  paymentModes: string[];
}

const LIMIT_KEYS = ['timeoutSeconds', 'maxOutputBytes', 'concurrency'] as const;

export function buildHandlerInfo(info: HandlerInfo): EventTemplate {
  if (!info.identifier) fail('identifier (d tag) must be a non-empty string');
  if (info.kinds.length === 0) fail('a handler must serve at least one kind');
  if (!isIlpAddress(info.ilpAddress)) fail(`invalid ILP address ${JSON.stringify(info.ilpAddress)}`);
  const tags: string[][] = [['d', info.identifier]];
  for (const kind of info.kinds) {
    if (!Number.isInteger(kind) || kind < 0 || kind > 65535)
      fail(`kind ${kind} is not an integer in 0-65535`);
    tags.push(['k', String(kind)]);
  }
  for (const t of info.jobTypes) {
    if (!t) fail('job types must be non-empty strings');
    tags.push(['t', t]);
  }
  for (const [jobType, price] of Object.entries(info.prices)) {
    if (!info.jobTypes.includes(jobType))
      fail(`price given for job type '${jobType}' that is not in jobTypes`);
    tags.push(['price', jobType, formatAmount(price, `price of ${jobType}`, 'invalid_handler_info')]);
  }
  tags.push(['ilp', info.ilpAddress]);
  for (const key of LIMIT_KEYS) {
    const value = info.limits[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 0) fail(`limit ${key} must be a non-negative integer`);
    tags.push(['limit', key, String(value)]);
  }
  if (info.paymentModes !== undefined) {
    if (info.paymentModes.length === 0 || info.paymentModes.some((m) => !m))
      fail('payment modes must be non-empty strings (e.g. atomic, after-result)');
    tags.push(['payment', ...info.paymentModes]);
  }
  return { kind: KIND_HANDLER_INFO, tags, content: JSON.stringify(info.metadata) };
}

export function parseHandlerInfo(event: NostrEvent): ParsedHandlerInfo {
  let e: NostrEvent;
  try {
    e = validateEventShape(event);
  } catch (err) {
    throw new NostrError('invalid_handler_info', `malformed handler info: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (e.kind !== KIND_HANDLER_INFO) fail(`not handler info: kind ${e.kind}, expected ${KIND_HANDLER_INFO}`);
  const identifier = findTag(e.tags, 'd')?.[1];
  if (!identifier) fail('handler info has no d tag');
  const ilpAddress = findTag(e.tags, 'ilp')?.[1];
  if (!isIlpAddress(ilpAddress))
    fail(`handler info has no valid ilp tag (got ${JSON.stringify(ilpAddress)})`);
  const kinds: number[] = [];
  const jobTypes: string[] = [];
  const prices = new Map<string, bigint>();
  const limits: HandlerLimits = {};
  for (const tag of e.tags) {
    const [name, a, b] = tag;
    if (name === 'k') {
      if (a === undefined || !/^(0|[1-9][0-9]{0,4})$/.test(a) || Number(a) > 65535)
        fail(`k tag ${JSON.stringify(a)} is not a kind`);
      kinds.push(Number(a));
    } else if (name === 't') {
      if (!a) fail('t tag must hold a job type');
      jobTypes.push(a);
    } else if (name === 'price') {
      if (!a) fail('price tag must be ["price", <job type>, <amount>]');
      if (prices.has(a)) fail(`more than one price for job type '${a}'`);
      prices.set(a, parseAmount(b, `price of ${a}`, 'invalid_handler_info'));
    } else if (name === 'limit' && (LIMIT_KEYS as readonly string[]).includes(a ?? '')) {
      // Unknown limit names are ignored so newer providers stay readable.
      const value = b !== undefined && /^(0|[1-9][0-9]*)$/.test(b) ? Number(b) : Number.NaN;
      if (!Number.isSafeInteger(value))
        fail(`limit ${a} must be a non-negative integer, got ${JSON.stringify(b)}`);
      limits[a as (typeof LIMIT_KEYS)[number]] = value;
    }
  }
  if (kinds.length === 0) fail('handler info has no k tag: it must name the kinds it serves');
  for (const jobType of prices.keys()) {
    if (!jobTypes.includes(jobType)) fail(`price given for job type '${jobType}' without a matching t tag`);
  }
  let metadata: HandlerMetadata = {};
  if (e.content !== '') {
    const parsed = parseJson(e.content, 'handler metadata', 'invalid_handler_info');
    if (!isPlainObject(parsed)) fail('handler metadata (content) must be a JSON object');
    metadata = parsed;
  }
  const priceRecord = Object.fromEntries(prices);
  const paymentTag = findTag(e.tags, 'payment');
  const paymentModes = paymentTag && paymentTag.length > 1 ? paymentTag.slice(1) : ['after-result'];
  return {
    identifier,
    kinds,
    jobTypes,
    prices: priceRecord,
    ilpAddress,
    limits,
    metadata,
    paymentModes,
    provider: e.pubkey,
    event: e,
  };
}

function fail(message: string): never {
  throw new NostrError('invalid_handler_info', message);
}
