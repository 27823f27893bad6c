import { skillLogger } from './logger.js';
import type { Skill, SkillMetadata, SkillResult, SkillStatus } from './types.js';

export const DEFAULT_SKILL_TIMEOUT_MS = 30_000;

/** Why a run failed without the skill saying so itself. */
export type SkillFailureCode = 'skill_threw' | 'skill_timeout' | 'invalid_result';

/** What the runner reports. It never throws: a failure is an outcome the Mayor records and may retry. */
export interface SkillOutcome {
  skill: string;
  status: SkillStatus;
  result: SkillResult;
  /** Set when the skill threw, hung or returned garbage. */
  failure?: { code: SkillFailureCode; message: string };
  /** Whether a retry could help (false for `handled`/`ignored` and for failures the skill marked `retry: false`). */
  retryable: boolean;
  durationMs: number;
}

export interface RunOptions {
  /** Default timeout when the skill sets none (30 s). */
  timeoutMs?: number;
}

const STATUSES: readonly SkillStatus[] = ['handled', 'ignored', 'failed'];

/**
 * Runs one skill call in isolation: a throw, a rejected promise, a hang past the timeout, or a malformed
 * result all become a `failed` outcome, logged with the skill's name. On timeout the call's AbortSignal
 * fires so a well-behaved skill stops; a skill that ignores it keeps running in the background but its
 * answer is discarded and cannot reach the Mayor.
 */
export async function runSkill(
  skill: Skill,
  payload: Uint8Array,
  metadata: Omit<SkillMetadata, 'signal'>,
  options: RunOptions = {},
): Promise<SkillOutcome> {
  const timeoutMs = skill.timeoutMs ?? options.timeoutMs ?? DEFAULT_SKILL_TIMEOUT_MS;
  const log = skillLogger(metadata.logger, skill.name);
  const controller = new AbortController();
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const fail = (code: SkillFailureCode, message: string): SkillOutcome => {
    log.error(`skill ${skill.name} failed on kind ${metadata.kind}: ${message}`, {
      code,
      kind: metadata.kind,
      eventId: metadata.eventId,
      attempt: metadata.attempt,
    });
    return {
      skill: skill.name,
      status: 'failed',
      result: { status: 'failed', summary: message },
      failure: { code, message },
      retryable: true,
      durationMs: performance.now() - started,
    };
  };
  try {
    // A synchronous throw lands in the catch below; a non-promise return is wrapped.
    const call = Promise.resolve(
      skill.handleToon(payload, { ...metadata, logger: log, signal: controller.signal }),
    );
    // A late rejection after the timeout must not become an unhandled rejection.
    call.catch(() => {});
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const raced = await Promise.race([call, timeout]);
    if (raced === 'timeout') {
      controller.abort(new Error(`timed out after ${timeoutMs} ms`));
      return fail('skill_timeout', `no answer within ${timeoutMs} ms; the event is kept for a retry`);
    }
    const problem = checkResult(raced);
    if (problem) return fail('invalid_result', problem);
    const result = raced as SkillResult;
    if (result.status === 'failed') {
      log.warn(
        `skill ${skill.name} reported failure on kind ${metadata.kind}: ${result.summary ?? 'no reason given'}`,
        {
          kind: metadata.kind,
          eventId: metadata.eventId,
        },
      );
    }
    return {
      skill: skill.name,
      status: result.status,
      result,
      retryable: result.status === 'failed' && result.retry !== false,
      durationMs: performance.now() - started,
    };
  } catch (error) {
    return fail(
      'skill_threw',
      error instanceof Error ? `${error.name}: ${error.message}` : `threw ${String(error)}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

function checkResult(x: unknown): string | undefined {
  if (typeof x !== 'object' || x === null)
    return `returned ${x === null ? 'null' : typeof x}, expected a SkillResult`;
  const r = x as Partial<SkillResult>;
  if (!STATUSES.includes(r.status as SkillStatus)) {
    return `returned status ${JSON.stringify(r.status)}, expected one of ${STATUSES.join(', ')}`;
  }
  if (r.nextJobs !== undefined && !Array.isArray(r.nextJobs)) return 'returned nextJobs that is not an array';
  return undefined;
}

/**
 * Keeps a skill's stray promise from taking the process down: a rejection nobody handled is logged instead
 * of crashing Node (its default since v15). Call once in the Mayor; returns a function that removes the guard.
 */
export function guardUnhandledRejections(log: (message: string, error: unknown) => void): () => void {
  const onRejection = (reason: unknown): void => {
    log(`unhandled promise rejection (a skill left a promise unawaited): ${describe(reason)}`, reason);
  };
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('unhandledRejection', onRejection);
  };
}

function describe(reason: unknown): string {
  return reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
}
