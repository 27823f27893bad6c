// NIP-90 jobs as DESIGN §3 "Jobs" fixes them. Request kind 5065 (any 5000-5999 is accepted), result =
// request kind + 1000, feedback 7000. Amounts are M2M base units (10^-18 M2M) as decimal strings in the
// `amount`/`bid` tags, where NIP-90 puts millisats; built tags carry the unit marker "M2M" as their third
// element (docs/decisions.md, issue 18). Parsers take tags with or without it, and refuse a bid in another unit.
// Parsers check shape, not signatures: call verifyEvent first (the relay already does).
import { NostrError } from './errors.js';
import { validateEventShape } from './event.js';
import { KIND_JOB_FEEDBACK, KIND_JOB_REQUEST } from './kinds.js';
import type { EventTemplate, NostrEvent } from './types.js';
import { findTag, formatAmount, isHex64, parseAmount, parseJson } from './validate.js';

export type JobStatus = 'processing' | 'payment-required' | 'error' | 'success' | 'partial';

/** Unit marker of `amount` and `bid` tags: base units of the M2M token, not NIP-90's millisats. */
export const AMOUNT_UNIT = 'M2M';

export interface JobInput {
  data: string;
  /** NIP-90 input type: `url`, `event`, `job`, `text`, or ours (e.g. `git`). */
  type: string;
  relay?: string;
  marker?: string;
}

export interface JobRequest {
  /** Defaults to 5065 when building. */
  kind?: number;
  /** `t` tag: `ci-cd-linux`, `docker-build-amd64`, ... */
  jobType: string;
  inputs: JobInput[];
  params: Record<string, string>;
  /** The most the requester will pay, in base units. */
  bid?: bigint;
  /** A chosen provider's pubkey (`p` tag). */
  provider?: string;
  relays: string[];
  content: string;
}

export interface ParsedJobRequest
  extends Required<Pick<JobRequest, 'kind' | 'jobType' | 'inputs' | 'params'>> {
  id: string;
  requester: string;
  bid?: bigint;
  provider?: string;
  relays: string[];
  content: string;
  event: NostrEvent;
}

export interface JobAmount {
  amount: bigint;
  /** NIP-90's optional bolt11 slot; unused by ILP payments but kept when present (tag: amount, n, invoice, "M2M"). */
  invoice?: string;
}

export interface JobResult {
  /** The signed job request this answers. */
  request: NostrEvent;
  /** Output (DESIGN: gzip+base64 logs and artifacts). */
  content: string;
  amount?: JobAmount;
  status?: JobStatus;
  statusInfo?: string;
  /** Relay hint for the `e` tag. */
  relay?: string;
}

export interface ParsedJobResult {
  id: string;
  kind: number;
  provider: string;
  jobId: string;
  requester: string;
  /** The embedded request, shape-checked and tied to `jobId` when present. */
  request?: NostrEvent;
  amount?: JobAmount;
  status?: JobStatus;
  statusInfo?: string;
  content: string;
  event: NostrEvent;
}

export interface JobFeedback {
  jobId: string;
  requester: string;
  status: JobStatus;
  statusInfo?: string;
  amount?: JobAmount;
  content?: string;
  relay?: string;
}

export interface ParsedJobFeedback extends Omit<JobFeedback, 'relay' | 'content'> {
  id: string;
  provider: string;
  content: string;
  event: NostrEvent;
}

const STATUSES: readonly JobStatus[] = ['processing', 'payment-required', 'error', 'success', 'partial'];

export function buildJobRequest(req: JobRequest): EventTemplate {
  const kind = req.kind ?? KIND_JOB_REQUEST;
  if (!isRequestKind(kind)) fail(`job request kind must be 5000-5999, got ${kind}`);
  if (!req.jobType) fail('job type (t tag) must be a non-empty string');
  const tags: string[][] = [['t', req.jobType]];
  for (const input of req.inputs) {
    const tag = ['i', input.data, input.type];
    if (input.relay !== undefined || input.marker !== undefined) tag.push(input.relay ?? '');
    if (input.marker !== undefined) tag.push(input.marker);
    tags.push(tag);
  }
  for (const [name, value] of Object.entries(req.params)) tags.push(['param', name, value]);
  if (req.bid !== undefined) tags.push(['bid', formatAmount(req.bid, 'bid', 'invalid_job'), AMOUNT_UNIT]);
  if (req.provider !== undefined) {
    if (!isHex64(req.provider)) fail('provider must be a 64-character lowercase hex pubkey');
    tags.push(['p', req.provider]);
  }
  if (req.relays.length > 0) tags.push(['relays', ...req.relays]);
  return { kind, tags, content: req.content };
}

export function parseJobRequest(event: NostrEvent): ParsedJobRequest {
  const e = shape(event);
  if (!isRequestKind(e.kind)) fail(`not a job request: kind ${e.kind} is outside 5000-5999`);
  const jobType = findTag(e.tags, 't')?.[1];
  if (!jobType) fail('job request has no job type: expected a ["t", <job type>] tag');
  const inputs: JobInput[] = [];
  // A Map, so a param named like an Object.prototype member (`__proto__`) is kept, not swallowed.
  const params = new Map<string, string>();
  let bid: bigint | undefined;
  let provider: string | undefined;
  let relays: string[] = [];
  for (const tag of e.tags) {
    switch (tag[0]) {
      case 'i': {
        const [, data, type, relay, marker] = tag;
        if (data === undefined || !type) fail('i tag must be ["i", <data>, <type>, <relay>?, <marker>?]');
        const input: JobInput = { data, type };
        if (relay) input.relay = relay;
        if (marker) input.marker = marker;
        inputs.push(input);
        break;
      }
      case 'param': {
        const [, name, value] = tag;
        if (!name || value === undefined) fail('param tag must be ["param", <name>, <value>]');
        if (params.has(name)) fail(`duplicate param '${name}'`);
        params.set(name, value);
        break;
      }
      case 'bid':
        if (bid !== undefined) fail('more than one bid tag');
        // NIP-90 bids are millisats: a bid naming any unit but ours cannot be priced, so it is refused.
        if (tag[2] !== undefined && tag[2] !== AMOUNT_UNIT)
          fail(`bid unit ${JSON.stringify(tag[2])} is not ${AMOUNT_UNIT}: bids are M2M base units`);
        bid = parseAmount(tag[1], 'bid', 'invalid_job');
        break;
      case 'p':
        if (!isHex64(tag[1])) fail('p tag must hold a 64-character lowercase hex pubkey');
        provider = tag[1];
        break;
      case 'relays':
        relays = tag.slice(1);
        break;
    }
  }
  const out: ParsedJobRequest = {
    id: e.id,
    kind: e.kind,
    requester: e.pubkey,
    jobType,
    inputs,
    params: Object.fromEntries(params),
    relays,
    content: e.content,
    event: e,
  };
  if (bid !== undefined) out.bid = bid;
  if (provider !== undefined) out.provider = provider;
  return out;
}

export function buildJobResult(res: JobResult): EventTemplate {
  const request = parseJobRequest(res.request);
  const tags: string[][] = [
    ['request', JSON.stringify(res.request)],
    res.relay ? ['e', request.id, res.relay] : ['e', request.id],
    ['p', request.requester],
  ];
  for (const tag of res.request.tags) if (tag[0] === 'i') tags.push([...tag]);
  if (res.amount) tags.push(amountTag(res.amount));
  if (res.status) tags.push(statusTag(res.status, res.statusInfo));
  return { kind: request.kind + 1000, tags, content: res.content };
}

export function parseJobResult(event: NostrEvent): ParsedJobResult {
  const e = shape(event);
  if (e.kind < 6000 || e.kind > 6999) fail(`not a job result: kind ${e.kind} is outside 6000-6999`);
  const { jobId, requester } = refs(e, 'job result');
  const out: ParsedJobResult = {
    id: e.id,
    kind: e.kind,
    provider: e.pubkey,
    jobId,
    requester,
    content: e.content,
    event: e,
  };
  const requestTag = findTag(e.tags, 'request');
  if (requestTag) {
    if (requestTag[1] === undefined) fail('request tag must hold the job request JSON');
    const request = shape(parseJson(requestTag[1], 'request tag', 'invalid_job'));
    if (request.id !== jobId) fail(`request tag holds event ${request.id} but the e tag names ${jobId}`);
    if (request.kind + 1000 !== e.kind)
      fail(`result kind ${e.kind} does not answer request kind ${request.kind}`);
    if (request.pubkey !== requester) fail('p tag does not name the author of the embedded request');
    out.request = request;
  }
  const amount = parseAmountTag(e.tags);
  if (amount) out.amount = amount;
  const status = parseStatusTag(e.tags, false);
  if (status) {
    out.status = status.status;
    if (status.info !== undefined) out.statusInfo = status.info;
  }
  return out;
}

export function buildJobFeedback(fb: JobFeedback): EventTemplate {
  if (!isHex64(fb.jobId)) fail('job id must be a 64-character lowercase hex event id');
  if (!isHex64(fb.requester)) fail('requester must be a 64-character lowercase hex pubkey');
  const tags: string[][] = [
    statusTag(fb.status, fb.statusInfo),
    fb.relay ? ['e', fb.jobId, fb.relay] : ['e', fb.jobId],
    ['p', fb.requester],
  ];
  if (fb.amount) tags.push(amountTag(fb.amount));
  return { kind: KIND_JOB_FEEDBACK, tags, content: fb.content ?? '' };
}

export function parseJobFeedback(event: NostrEvent): ParsedJobFeedback {
  const e = shape(event);
  if (e.kind !== KIND_JOB_FEEDBACK) fail(`not job feedback: kind ${e.kind}, expected ${KIND_JOB_FEEDBACK}`);
  const { jobId, requester } = refs(e, 'job feedback');
  const status = parseStatusTag(e.tags, true)!;
  const out: ParsedJobFeedback = {
    id: e.id,
    provider: e.pubkey,
    jobId,
    requester,
    status: status.status,
    content: e.content,
    event: e,
  };
  if (status.info !== undefined) out.statusInfo = status.info;
  const amount = parseAmountTag(e.tags);
  if (amount) out.amount = amount;
  return out;
}

function isRequestKind(kind: number): boolean {
  return Number.isInteger(kind) && kind >= 5000 && kind <= 5999;
}

function shape(x: unknown): NostrEvent {
  try {
    return validateEventShape(x);
  } catch (err) {
    throw new NostrError('invalid_job', `malformed job event: ${(err as Error).message}`, { cause: err });
  }
}

function refs(e: NostrEvent, what: string): { jobId: string; requester: string } {
  const jobId = findTag(e.tags, 'e')?.[1];
  if (!isHex64(jobId)) fail(`${what} has no valid e tag: expected ["e", <64-hex job request id>]`);
  const requester = findTag(e.tags, 'p')?.[1];
  if (!isHex64(requester)) fail(`${what} has no valid p tag: expected ["p", <64-hex requester pubkey>]`);
  return { jobId, requester };
}

function amountTag(a: JobAmount): string[] {
  const amount = formatAmount(a.amount, 'amount', 'invalid_job');
  // The invoice keeps NIP-90's third slot when there is one; the unit marker follows it.
  return a.invoice !== undefined
    ? ['amount', amount, a.invoice, AMOUNT_UNIT]
    : ['amount', amount, AMOUNT_UNIT];
}

/** Reads ["amount", n], ["amount", n, "M2M"], ["amount", n, invoice] and ["amount", n, invoice, "M2M"]. */
function parseAmountTag(tags: string[][]): JobAmount | undefined {
  const tag = findTag(tags, 'amount');
  if (!tag) return undefined;
  const out: JobAmount = { amount: parseAmount(tag[1], 'amount', 'invalid_job') };
  if (tag[2] && tag[2] !== AMOUNT_UNIT) out.invoice = tag[2];
  if (tag[3] !== undefined && tag[3] !== AMOUNT_UNIT)
    fail(`amount unit ${JSON.stringify(tag[3])} is not ${AMOUNT_UNIT}: amounts are M2M base units`);
  return out;
}

function statusTag(status: JobStatus, info?: string): string[] {
  if (!STATUSES.includes(status)) fail(`unknown job status '${status}' (expected ${STATUSES.join(', ')})`);
  return info === undefined ? ['status', status] : ['status', status, info];
}

function parseStatusTag(
  tags: string[][],
  required: boolean,
): { status: JobStatus; info?: string } | undefined {
  const tag = findTag(tags, 'status');
  if (!tag) {
    if (required) fail('job feedback has no status tag: expected ["status", <status>, <info>?]');
    return undefined;
  }
  // NIP-90 text and clients disagree on the spelling; both mean the same.
  const raw = tag[1] === 'payment_required' ? 'payment-required' : tag[1];
  if (!STATUSES.includes(raw as JobStatus)) {
    fail(`unknown job status ${JSON.stringify(tag[1])} (expected ${STATUSES.join(', ')})`);
  }
  return tag[2] === undefined ? { status: raw as JobStatus } : { status: raw as JobStatus, info: tag[2] };
}

function fail(message: string): never {
  throw new NostrError('invalid_job', message);
}
