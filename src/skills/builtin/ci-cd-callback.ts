import type { JobStatus } from '../../nostr/nip90.js';
import { parseJobResult } from '../../nostr/nip90.js';
import type { EventTemplate } from '../../nostr/types.js';
import { decodeSkillEvent } from '../event.js';
import { kindRange } from '../kinds.js';
import { DEFAULT_MAX_LOG_BYTES, decompressLogs } from '../logs.js';
import type { Skill, SkillMetadata } from '../types.js';
import { parseCiResultContent } from './ci-result.js';

/** What the callback read from a result; also what `next` receives to decide the next job of a chain. */
export interface CiResultSummary {
  jobId: string;
  resultId: string;
  provider: string;
  status?: JobStatus;
  build: string;
  tests?: { passed: number; failed: number };
  logs?: string;
  logsTruncated?: boolean;
  logsSha256?: string;
  logsError?: string;
  /** Price asked, base units. */
  amount?: bigint;
  summary: string;
}

export interface CiCdCallbackOptions {
  /** Cap on decompressed logs (default 4 MiB); larger logs are refused, the result still counts. */
  maxLogBytes?: number;
  /** Chains: the next jobs to post after this result (e.g. deploy after a green build). */
  next?: (result: CiResultSummary, metadata: SkillMetadata) => EventTemplate[] | Promise<EventTemplate[]>;
  name?: string;
  priority?: number;
}

/**
 * `ci-cd-callback`: job results (kinds 6000-6999) of our ci-cd jobs. Decodes the result minimally (status,
 * test summary, logs, amount) and returns "Build: SUCCESS | Tests: 47/47 passed" for the operator.
 */
export function ciCdCallbackSkill(options: CiCdCallbackOptions = {}): Skill {
  const kinds = kindRange(6000, 6999);
  return {
    name: options.name ?? 'ci-cd-callback',
    description: 'Reads results of our ci-cd jobs: build status, tests, logs, amount',
    ...(options.priority !== undefined && { priority: options.priority }),
    supportedEventKinds: () => kinds,
    // No effect outside the Mayor: its next jobs are recorded by the Mayor together with `routed`.
    idempotent: true,
    async handleToon(payload, metadata) {
      const result = parseJobResult(decodeSkillEvent(payload, metadata));
      if (!metadata.correlation && result.requester !== metadata.identityPubkey) {
        return { status: 'ignored', summary: `result ${result.id} answers someone else's job` };
      }
      if (metadata.correlation && metadata.correlation.jobId !== result.jobId) {
        return {
          status: 'failed',
          retry: false,
          summary: `result names job ${result.jobId}, expected ${metadata.correlation.jobId}`,
        };
      }
      const content = parseCiResultContent(result.content);
      const build = content.build ?? buildFromStatus(result.status);
      const summary: CiResultSummary = {
        jobId: result.jobId,
        resultId: result.id,
        provider: result.provider,
        build,
        summary: '',
      };
      if (result.status) summary.status = result.status;
      if (content.tests) summary.tests = content.tests;
      if (result.amount) summary.amount = result.amount.amount;
      if (content.logsTruncated !== undefined) summary.logsTruncated = content.logsTruncated;
      if (content.logsSha256) summary.logsSha256 = content.logsSha256;
      if (content.logs !== undefined) {
        try {
          summary.logs = decompressLogs(content.logs, options.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES);
        } catch (error) {
          summary.logsError = (error as Error).message;
          metadata.logger.warn(`result ${result.id}: ${summary.logsError}`);
        }
      }
      summary.summary = ciSummaryLine(build, content.tests);
      const nextJobs = options.next ? await options.next(summary, metadata) : [];
      const { amount, ...rest } = summary;
      return {
        status: 'handled',
        summary: summary.summary,
        ...(nextJobs.length > 0 && { nextJobs }),
        data: { ...rest, ...(amount !== undefined && { amount: amount.toString() }) },
      };
    },
  };
}

/** "Build: SUCCESS | Tests: 4/4 passed": the line the operator sees for a result (CLI, dashboard). */
export function ciSummaryLine(build: string, tests?: { passed: number; failed: number }): string {
  const parts = [`Build: ${build}`];
  if (tests) parts.push(`Tests: ${tests.passed}/${tests.passed + tests.failed} passed`);
  return parts.join(' | ');
}

/** The summary line of a stored kind 6xxx result event (for `job status` when the Mayor is not running). */
export function ciSummaryOf(result: { content: string; status?: JobStatus }): string {
  const content = parseCiResultContent(result.content);
  return ciSummaryLine(content.build ?? buildFromStatus(result.status), content.tests);
}

function buildFromStatus(status: JobStatus | undefined): string {
  if (status === 'success') return 'SUCCESS';
  if (status === 'error') return 'FAILURE';
  return status ? status.toUpperCase() : 'UNKNOWN';
}
