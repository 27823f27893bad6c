// On-disk JSON for state records: bigint amounts become decimal strings, files are pretty-printed so that
// `git log -p` reads as a history of the Mayor's decisions. Parsing validates, so a hand-edited or damaged
// file is reported with its path instead of poisoning the in-memory view.
import type { Filter } from '../../nostr/types.js';
import { StateError } from './errors.js';
import {
  type ChainRecord,
  type ChainStatus,
  type ChannelRecord,
  JOB_STATUSES,
  type JobRecord,
  type JobStatus,
  type SubscriptionRecord,
} from './types.js';

/** Ids become file names: letters, digits, `_` and `-` only, so no id can escape its folder. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export function assertId(what: string, id: unknown): asserts id is string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new StateError(
      'INVALID_RECORD',
      `${what} id ${JSON.stringify(id)} is not valid: use 1 to 128 letters, digits, '_' or '-' (it becomes a file name).`,
    );
  }
}

function bad(where: string, msg: string): never {
  throw new StateError('INVALID_RECORD', `${where}: ${msg}`);
}

function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`;
}

function amount(where: string, field: string, v: unknown): bigint {
  if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v);
  return bad(where, `${field} must be a string of base units (digits only), got ${JSON.stringify(v)}`);
}

function optAmount(where: string, field: string, v: unknown): bigint | undefined {
  return v === undefined ? undefined : amount(where, field, v);
}

function str(where: string, field: string, v: unknown): string {
  if (typeof v === 'string' && v.length > 0) return v;
  return bad(where, `${field} must be a non-empty string, got ${JSON.stringify(v)}`);
}

function optStr(where: string, field: string, v: unknown): string | undefined {
  return v === undefined ? undefined : str(where, field, v);
}

function int(where: string, field: string, v: unknown): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  return bad(where, `${field} must be a non-negative integer, got ${JSON.stringify(v)}`);
}

function obj(where: string, v: unknown): Record<string, unknown> {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  return bad(where, 'expected a JSON object');
}

function status(where: string, v: unknown): JobStatus {
  if (typeof v === 'string' && (JOB_STATUSES as readonly string[]).includes(v)) return v as JobStatus;
  return bad(where, `status must be one of ${JOB_STATUSES.join(', ')}, got ${JSON.stringify(v)}`);
}

/** Drops undefined fields so records compare and serialize cleanly. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export function encodeJob(job: JobRecord): string {
  return toJson(job);
}

export function decodeJob(where: string, raw: unknown): JobRecord {
  const o = obj(where, raw);
  assertId('job', o.id);
  if (o.repostedAs !== undefined) assertId(`${where} repostedAs: job`, o.repostedAs);
  const history = Array.isArray(o.history)
    ? o.history.map((h, i) => {
        const e = obj(`${where} history[${i}]`, h);
        return Object.freeze({ status: status(where, e.status), at: int(where, 'history.at', e.at) });
      })
    : bad(where, 'history must be an array');
  return Object.freeze(
    compact<JobRecord>({
      id: o.id,
      kind: int(where, 'kind', o.kind),
      jobType: str(where, 'jobType', o.jobType),
      callbackSkill: str(where, 'callbackSkill', o.callbackSkill),
      status: status(where, o.status),
      createdAt: int(where, 'createdAt', o.createdAt),
      updatedAt: int(where, 'updatedAt', o.updatedAt),
      history: Object.freeze(history) as JobRecord['history'],
      price: optAmount(where, 'price', o.price),
      bid: optAmount(where, 'bid', o.bid),
      amount: optAmount(where, 'amount', o.amount),
      resultEventId: optStr(where, 'resultEventId', o.resultEventId),
      provider: optStr(where, 'provider', o.provider),
      chainId: optStr(where, 'chainId', o.chainId),
      settlementChainId:
        o.settlementChainId === undefined ? undefined : int(where, 'settlementChainId', o.settlementChainId),
      error: optStr(where, 'error', o.error),
      repostedAs: optStr(where, 'repostedAs', o.repostedAs),
    }),
  );
}

const CHAIN_STATUSES: readonly ChainStatus[] = ['running', 'done', 'failed', 'cancelled'];

export function encodeChain(chain: ChainRecord): string {
  return toJson(chain);
}

export function decodeChain(where: string, raw: unknown): ChainRecord {
  const o = obj(where, raw);
  assertId('chain', o.id);
  if (!Array.isArray(o.steps) || o.steps.length === 0) bad(where, 'steps must be a non-empty array');
  const steps = (o.steps as unknown[]).map((s, i) => {
    const w = `${where} step ${i}`;
    const e = obj(w, s);
    let params: Record<string, string> | undefined;
    if (e.params !== undefined) {
      params = {};
      for (const [k, v] of Object.entries(obj(w, e.params)))
        params[k] = typeof v === 'string' ? v : bad(w, `param ${k} must be a string`);
    }
    if (e.jobId !== undefined) assertId('job', e.jobId);
    return Object.freeze(
      compact({
        jobType: str(w, 'jobType', e.jobType),
        kind: int(w, 'kind', e.kind),
        callbackSkill: str(w, 'callbackSkill', e.callbackSkill),
        jobId: e.jobId as string | undefined,
        params,
      }),
    );
  });
  const current = int(where, 'current', o.current);
  if (current > steps.length) bad(where, `current is ${current} but there are only ${steps.length} steps`);
  if (typeof o.status !== 'string' || !(CHAIN_STATUSES as readonly string[]).includes(o.status)) {
    bad(where, `status must be one of ${CHAIN_STATUSES.join(', ')}`);
  }
  return Object.freeze({
    id: o.id,
    steps: Object.freeze(steps) as ChainRecord['steps'],
    current,
    status: o.status as ChainStatus,
    createdAt: int(where, 'createdAt', o.createdAt),
    updatedAt: int(where, 'updatedAt', o.updatedAt),
  });
}

export function encodeChannel(ch: ChannelRecord): string {
  return toJson(ch);
}

export function decodeChannel(where: string, raw: unknown): ChannelRecord {
  const o = obj(where, raw);
  assertId('channel', o.channelId);
  if (o.direction !== 'in' && o.direction !== 'out') bad(where, `direction must be "in" or "out"`);
  let lastClaim: ChannelRecord['lastClaim'];
  if (o.lastClaim !== undefined) {
    const c = obj(`${where} lastClaim`, o.lastClaim);
    lastClaim = Object.freeze({
      amount: amount(where, 'lastClaim.amount', c.amount),
      signature: str(where, 'lastClaim.signature', c.signature),
      at: int(where, 'lastClaim.at', c.at),
    });
  }
  return Object.freeze(
    compact<ChannelRecord>({
      channelId: o.channelId,
      direction: o.direction as 'in' | 'out',
      chainId: int(where, 'chainId', o.chainId),
      contract: str(where, 'contract', o.contract),
      counterparty: str(where, 'counterparty', o.counterparty),
      deposit: amount(where, 'deposit', o.deposit),
      cumulativeSigned: amount(where, 'cumulativeSigned', o.cumulativeSigned),
      lastClaim,
      updatedAt: int(where, 'updatedAt', o.updatedAt),
    }),
  );
}

export function encodeSubscriptions(subs: Iterable<SubscriptionRecord>): string {
  const out: Record<string, { filters: Filter[]; since?: number }> = {};
  for (const s of [...subs].sort((a, b) => a.name.localeCompare(b.name)))
    out[s.name] = compact({ filters: s.filters, since: s.since });
  return toJson(out);
}

export function decodeSubscription(where: string, name: string, raw: unknown): SubscriptionRecord {
  assertId('subscription', name);
  const o = obj(where, raw);
  if (
    !Array.isArray(o.filters) ||
    o.filters.some((f) => typeof f !== 'object' || f === null || Array.isArray(f))
  ) {
    bad(where, `subscription ${name}: filters must be an array of filter objects`);
  }
  return Object.freeze(
    compact<SubscriptionRecord>({
      name,
      filters: structuredClone(o.filters as Filter[]),
      since: o.since === undefined ? undefined : int(where, 'since', o.since),
    }),
  );
}

export { compact };
