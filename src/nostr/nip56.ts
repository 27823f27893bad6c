// NIP-56 reports (kind 1984): a signed statement that a pubkey, or one of its events, misbehaved.
// Layout: ["p", <reported pubkey>, <report type>], optionally ["e", <reported event id>, <report type>],
// optional NIP-32 labels ["L", <namespace>] ["l", <label>, <namespace>] that say what kind of report it is, and
// any further tags the caller adds; `content` is free (NIP-56: "additional information").
// The report type is one of NIP-56's list; a type this module does not know is read as `other`, so reports from
// newer clients stay readable.
import { NostrError } from './errors.js';
import { validateEventShape } from './event.js';
import type { EventTemplate, NostrEvent } from './types.js';
import { findTag, isHex64 } from './validate.js';

/** NIP-56 report. */
export const KIND_REPORT = 1984;

export const REPORT_TYPES = [
  'nudity',
  'malware',
  'profanity',
  'illegal',
  'spam',
  'impersonation',
  'other',
] as const;
export type ReportType = (typeof REPORT_TYPES)[number];

export interface Report {
  /** The pubkey reported (the `p` tag). */
  reported: string;
  type: ReportType;
  /** An event of `reported` the report is about (the `e` tag). */
  eventId?: string;
  /** NIP-32 label: what the report is, in the namespace's own words. */
  label?: { namespace: string; value: string };
  /** Further tags, after the NIP-56 and NIP-32 ones. */
  tags?: string[][];
  content?: string;
  created_at?: number;
}

export interface ParsedReport {
  id: string;
  /** Who signed the report. */
  reporter: string;
  reported: string;
  type: ReportType;
  eventId?: string;
  label?: { namespace: string; value: string };
  content: string;
  created_at: number;
  event: NostrEvent;
}

export function isReportType(x: unknown): x is ReportType {
  return typeof x === 'string' && (REPORT_TYPES as readonly string[]).includes(x);
}

export function buildReport(r: Report): EventTemplate {
  if (!isHex64(r.reported)) fail('the reported pubkey must be 64 lowercase hex characters');
  if (!isReportType(r.type)) fail(`report type must be one of ${REPORT_TYPES.join(', ')}`);
  const tags: string[][] = [['p', r.reported, r.type]];
  if (r.eventId !== undefined) {
    if (!isHex64(r.eventId)) fail('the reported event id must be 64 lowercase hex characters');
    tags.push(['e', r.eventId, r.type]);
  }
  if (r.label) {
    if (!r.label.namespace || !r.label.value) fail('a label needs a namespace and a value');
    tags.push(['L', r.label.namespace], ['l', r.label.value, r.label.namespace]);
  }
  for (const t of r.tags ?? []) tags.push([...t]);
  return {
    kind: KIND_REPORT,
    tags,
    content: r.content ?? '',
    ...(r.created_at !== undefined ? { created_at: r.created_at } : {}),
  };
}

/**
 * Reads a report's NIP-56 fields. The reported pubkey is the `p` tag carrying a report type (NIP-56 puts the type
 * on the `p` or the `e` tag); the first `p` tag otherwise. Does not check the signature: use verifyEvent.
 */
export function parseReport(event: NostrEvent): ParsedReport {
  let e: NostrEvent;
  try {
    e = validateEventShape(event);
  } catch (err) {
    throw new NostrError('invalid_report', `malformed report: ${(err as Error).message}`, { cause: err });
  }
  if (e.kind !== KIND_REPORT) fail(`not a report: kind ${e.kind}, expected ${KIND_REPORT}`);
  const ps = e.tags.filter((t) => t[0] === 'p');
  const p = ps.find((t) => t[2] !== undefined) ?? ps[0];
  if (!p || !isHex64(p[1])) fail('a report needs ["p", <64 lowercase hex pubkey>, <report type>]');
  const eTag = findTag(e.tags, 'e');
  if (eTag && !isHex64(eTag[1])) fail('the e tag of a report must hold a 64 lowercase hex event id');
  const rawType = p[2] ?? eTag?.[2];
  const type: ReportType = isReportType(rawType) ? rawType : 'other';
  const out: ParsedReport = {
    id: e.id,
    reporter: e.pubkey,
    reported: p[1],
    type,
    content: e.content,
    created_at: e.created_at,
    event: e,
  };
  if (eTag) out.eventId = eTag[1]!;
  const namespace = findTag(e.tags, 'L')?.[1];
  const l = e.tags.find((t) => t[0] === 'l' && t[2] === namespace && t[1]);
  if (namespace && l) out.label = { namespace, value: l[1]! };
  return out;
}

function fail(message: string): never {
  throw new NostrError('invalid_report', message);
}
