// Kind 6065 results in the ci-cd content format (src/skills/builtin/ci-result.ts), shrunk until the whole
// TOON-encoded, signed event fits one ILP PREPARE. Logs shrink first (head and tail kept, the middle cut,
// the sha256 of the full output always given when anything was cut); only if the logs alone cannot make it
// fit are the copied inline inputs and then the embedded request dropped (the `e` tag still names the job).
import { buildJobResult, type JobStatus } from '../../nostr/nip90.js';
import type { EventTemplate, NostrEvent } from '../../nostr/types.js';
import type { CiResultContent } from '../../skills/builtin/ci-result.js';
import { compressLogs } from '../../skills/logs.js';
import { encodeEventBytes } from '../../toon/index.js';
import { ProviderError } from './errors.js';
import { type SealedTemplate, sealTemplate } from './sealing.js';
import type { TestSummary } from './test-summary.js';

/** ILPv4 data limit: the result event travels as the data of one PREPARE. */
export const MAX_PACKET_DATA = 32767;

export type BuildStatus = 'SUCCESS' | 'FAILURE' | 'TIMEOUT' | 'CANCELLED' | 'ERROR';

export interface ArtifactEntry {
  /** Relative to the worktree. */
  path: string;
  bytes: number;
  sha256: string;
}

/** What a job produced, as the result reports it. */
export interface JobOutcome {
  build: BuildStatus;
  status: Extract<JobStatus, 'success' | 'error'>;
  /** One line for people: "tests 5/5 passed", "killed after 30 s", "provider restarted". */
  statusInfo: string;
  exitCode?: number | null;
  tests?: TestSummary;
  /** Output as captured (may already be cut at capture time). */
  log: string;
  /** Bytes the job wrote in total and their sha256: what `logsSha256` names when the log is cut. */
  logBytes: number;
  logSha256: string;
  logTruncated: boolean;
  artifacts: ArtifactEntry[];
  durationMs: number;
}

/** The result content: the ci-cd format plus fields the ci-cd-callback ignores but people and tools read. */
export interface ProviderResultContent extends CiResultContent {
  exitCode?: number | null;
  durationMs?: number;
  runner?: string;
  logBytes?: number;
  artifacts?: ArtifactEntry[];
}

export interface BuildResultOptions {
  request: NostrEvent;
  outcome: JobOutcome;
  /** Price asked (base units); omitted when the provider charges nothing (its own failure). */
  amount?: bigint;
  /** Bytes the signed, TOON-encoded event may take (default MAX_PACKET_DATA). */
  maxBytes?: number;
  /** Bytes kept free for encoding differences between the estimate and the real signed event. */
  margin?: number;
  relay?: string;
  /** Seal the content (atomic pay-for-result): the published event carries the ciphertext and the condition. */
  seal?: boolean;
  /** With `seal`: the K to seal under (made and stored beforehand); default a fresh one. */
  sealKey?: Uint8Array;
}

export interface BuiltResult {
  template: EventTemplate;
  /** Estimated TOON bytes of the signed event. */
  bytes: number;
  logsCut: boolean;
  droppedInputs: boolean;
  droppedRequest: boolean;
  /** With `seal`: the key K of this template (to store durably before publishing) and its condition. */
  sealed?: SealedTemplate['sealed'];
}

/** TOON size of the template once signed: id, pubkey and sig have fixed lengths, so placeholders measure it. */
export function estimateSignedBytes(template: EventTemplate): number {
  const placeholder: NostrEvent = {
    ...template,
    id: 'f'.repeat(64),
    pubkey: 'f'.repeat(64),
    sig: 'f'.repeat(128),
    created_at: template.created_at ?? Math.floor(Date.now() / 1000),
  };
  return encodeEventBytes(placeholder).length;
}

export function cutLog(text: string, keep: number): string {
  if (keep >= text.length) return text;
  const head = Math.floor(keep / 2);
  const omitted = text.length - keep;
  return `${text.slice(0, head)}\n[... ${omitted} characters cut to fit one packet; logsSha256 is the hash of the full output ...]\n${text.slice(text.length - (keep - head))}`;
}

function content(outcome: JobOutcome, log: string, cut: boolean): string {
  const truncated = cut || outcome.logTruncated;
  const c: ProviderResultContent = { build: outcome.build };
  if (outcome.tests) c.tests = { passed: outcome.tests.passed, failed: outcome.tests.failed };
  c.logs = compressLogs(log);
  c.logsTruncated = truncated;
  if (truncated) c.logsSha256 = outcome.logSha256;
  if (outcome.exitCode !== undefined) c.exitCode = outcome.exitCode;
  c.durationMs = Math.round(outcome.durationMs);
  if (outcome.tests) c.runner = outcome.tests.runner;
  c.logBytes = outcome.logBytes;
  c.artifacts = outcome.artifacts;
  return JSON.stringify(c);
}

export function buildResult(opts: BuildResultOptions): BuiltResult {
  const limit = (opts.maxBytes ?? MAX_PACKET_DATA) - (opts.margin ?? 16);
  const { outcome } = opts;
  const base = (log: string, cut: boolean): EventTemplate => {
    const t = buildJobResult({
      request: opts.request,
      content: content(outcome, log, cut),
      status: outcome.status,
      statusInfo: outcome.statusInfo,
      ...(opts.amount !== undefined && { amount: { amount: opts.amount } }),
      ...(opts.relay !== undefined && { relay: opts.relay }),
    });
    t.created_at = Math.floor(Date.now() / 1000);
    return t;
  };
  const stages: Array<(t: EventTemplate) => EventTemplate> = [
    (t) => t,
    // Inline inputs (a tar.gz build context) are copied into results by NIP-90 habit; they are the requester's
    // own bytes, so they go first.
    (t) => ({ ...t, tags: t.tags.filter((tag) => tag[0] !== 'i') }),
    (t) => ({ ...t, tags: t.tags.filter((tag) => tag[0] !== 'i' && tag[0] !== 'request') }),
  ];
  // Sealing comes last, so what is measured is what is published (the ciphertext is 4/3 of the content).
  const keys = new WeakMap<EventTemplate, SealedTemplate['sealed']>();
  const seal = (t: EventTemplate): EventTemplate => {
    if (!opts.seal) return t;
    const s = sealTemplate(t, opts.request.id, outcome.status, opts.sealKey);
    keys.set(s.template, s.sealed);
    return s.template;
  };
  const withKey = <T extends { template: EventTemplate }>(
    r: T,
  ): T & { sealed?: SealedTemplate['sealed'] } => {
    const sealed = keys.get(r.template);
    return sealed ? { ...r, sealed } : r;
  };
  for (const [stage, shape] of stages.entries()) {
    const build = (log: string, cut: boolean) => seal(shape(base(log, cut)));
    const full = build(outcome.log, false);
    const fullBytes = estimateSignedBytes(full);
    const flags = { droppedInputs: stage >= 1, droppedRequest: stage >= 2 };
    if (fullBytes <= limit) return withKey({ template: full, bytes: fullBytes, logsCut: false, ...flags });
    // Largest kept length that fits: binary search (gzip size grows with kept length, not strictly, so the
    // answer is checked, not assumed).
    let lo = 0;
    let hi = outcome.log.length;
    let best: { template: EventTemplate; bytes: number } | undefined;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      const t = build(cutLog(outcome.log, mid), true);
      const bytes = estimateSignedBytes(t);
      if (bytes <= limit) {
        best = { template: t, bytes };
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (best) return withKey({ ...best, logsCut: true, ...flags });
  }
  throw new ProviderError(
    'result_too_large',
    `the result for job ${opts.request.id} does not fit ${limit} bytes even without logs, inputs and the embedded request; reduce the artifact manifest`,
  );
}
