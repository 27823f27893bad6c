// Which job requests this provider accepts. Every refusal has a code and a sentence the requester reads in
// the kind 7000 `error` feedback.
import type { ParsedJobRequest } from '../../nostr/nip90.js';
import type { RateLimit } from '../../relay/rate-limit.js';

export interface ProviderPolicy {
  /** Only these requesters (hex pubkeys) may post jobs here; undefined means anyone. */
  allowedRequesters?: readonly string[];
  /** Never these requesters. */
  blockedRequesters: readonly string[];
  /** Requesters whose jobs may run without a sandbox (the operator's own Mayors). */
  trustedRequesters: readonly string[];
  /** Run jobs from anyone without a sandbox when none exists (explicit operator flag). */
  allowUnsandboxed: boolean;
  /** Accepted jobs not yet finished (running + queued). */
  maxConcurrentJobs: number;
  /** Bytes of inputs, params and content of one request. */
  maxInputBytes: number;
  /** Refuse requests without a `bid` tag (default true: no bid, no promise to pay). */
  requireBid: boolean;
  /**
   * How many refusals are told (each kind 7000 `error` feedback is a paid write of ours): per requester, and in all.
   * Past either, a job is still refused, silently. Default: 10 at once then 1 per 6 s per requester; 60 at once then
   * 1 per second in all.
   */
  refusalFeedback: { perRequester: RateLimit; total: RateLimit };
  /**
   * Charged results of jobs one requester named us for (or sent us privately) whose price it has not paid
   * (unpaid-jobs.ts: public jobs and results older than an hour do not count). Each cost us paid writes (`processing`, the result) before any payment;
   * at this many the requester is refused until it pays (default 8). Its reason reads as busy to a Mayor, which posts
   * the job again after a backoff.
   */
  maxUnpaidJobs: number;
}

export const DEFAULT_REFUSAL_FEEDBACK: ProviderPolicy['refusalFeedback'] = {
  perRequester: { capacity: 10, perSecond: 1 / 6 },
  total: { capacity: 60, perSecond: 1 },
};

export type RefusalCode =
  | 'requester_blocked'
  | 'requester_not_allowed'
  | 'job_type_not_served'
  | 'no_bid'
  | 'bid_too_low'
  | 'busy'
  | 'unpaid_jobs'
  | 'input_too_large'
  | 'invalid_input'
  | 'no_sandbox';

export type PolicyDecision = { ok: true } | { ok: false; code: RefusalCode; reason: string };

export interface PolicyFacts {
  /** Price per served job type (base units); a job type missing here is not served. */
  prices: Readonly<Record<string, bigint>>;
  inFlight: number;
  /** The requester's charged results not paid for. */
  unpaidJobs: number;
  sandboxed: boolean;
  /** The executor's own check of the inputs (undefined when fine). */
  inputProblem?: string | undefined;
}

export function requestInputBytes(job: ParsedJobRequest): number {
  let n = Buffer.byteLength(job.content);
  for (const i of job.inputs) n += Buffer.byteLength(i.data);
  for (const [k, v] of Object.entries(job.params)) n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

/** Checks in a fixed order: who asks, what, for how much, whether we have room, then the inputs. */
export function checkPolicy(
  job: ParsedJobRequest,
  policy: ProviderPolicy,
  facts: PolicyFacts,
): PolicyDecision {
  const refuse = (code: RefusalCode, reason: string): PolicyDecision => ({ ok: false, code, reason });
  if (policy.blockedRequesters.includes(job.requester))
    return refuse('requester_blocked', 'this provider does not accept jobs from you');
  if (policy.allowedRequesters && !policy.allowedRequesters.includes(job.requester))
    return refuse(
      'requester_not_allowed',
      'this provider only accepts jobs from its allow-list of requesters',
    );
  const price = facts.prices[job.jobType];
  if (price === undefined) {
    const served = Object.keys(facts.prices).join(', ') || 'nothing';
    return refuse('job_type_not_served', `job type ${job.jobType} is not served here (serving ${served})`);
  }
  if (job.bid === undefined && policy.requireBid)
    return refuse('no_bid', `no bid: add a ["bid", "<base units>"] tag of at least ${price}`);
  if (job.bid !== undefined && job.bid < price)
    return refuse('bid_too_low', `bid ${job.bid} is below the price ${price} for ${job.jobType}`);
  if (facts.unpaidJobs >= policy.maxUnpaidJobs)
    return refuse(
      'unpaid_jobs',
      `${facts.unpaidJobs} results of yours here are not paid for (at most ${policy.maxUnpaidJobs}); pay for them, then try again later`,
    );
  if (facts.inFlight >= policy.maxConcurrentJobs)
    return refuse('busy', `all ${policy.maxConcurrentJobs} job slots are busy; post again later`);
  const bytes = requestInputBytes(job);
  if (bytes > policy.maxInputBytes)
    return refuse('input_too_large', `inputs take ${bytes} bytes, over the limit of ${policy.maxInputBytes}`);
  if (!facts.sandboxed && !policy.allowUnsandboxed && !policy.trustedRequesters.includes(job.requester))
    return refuse('no_sandbox', "this provider has no sandbox and runs only trusted requesters' jobs");
  if (facts.inputProblem) return refuse('invalid_input', facts.inputProblem);
  return { ok: true };
}
