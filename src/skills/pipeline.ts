import type { EventTemplate } from '../nostr/types.js';
import { ToonError } from '../toon/index.js';
import { silentLogger } from './logger.js';
import type { SkillRegistry } from './registry.js';
import { RetryQueue } from './retry.js';
import { type RunOptions, runSkill, type SkillOutcome } from './runner.js';
import type { DispatchMetadata, JobCorrelation, SkillContext, SkillLogger, SkillResult } from './types.js';

export interface PipelineOptions extends RunOptions {
  registry: SkillRegistry;
  context: SkillContext;
  logger?: SkillLogger;
  /** The Mayor's job table; results and feedback of our jobs go to their callback skill. */
  correlate?: (jobId: string) => JobCorrelation | undefined;
  retry?: RetryQueue;
  /** How deep payloads may re-enter the pipeline (a wrap inside a wrap...). Default 2. */
  maxDepth?: number;
  /**
   * Post a handled result's `nextJobs` with `context.postJob`, in the same chain as the event's correlation.
   * Default false: the Mayor may prefer to post them itself (e.g. after committing the result).
   */
  postNextJobs?: boolean;
}

/** The result of one dispatch: which kind and skill, and what happened. */
export interface Dispatched {
  kind?: number;
  skill?: string;
  outcome: SkillOutcome | { status: 'ignored' | 'failed'; result: SkillResult; retryable: false };
  /** Set when the payload went to the retry queue. */
  retryAt?: number;
  /** With `postNextJobs`: ids of the jobs posted, and what failed to post. */
  postedJobs?: string[];
  postErrors?: string[];
}

const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();

/**
 * Routes raw TOON payloads to skills and runs them isolated, with a retry queue for failures. The Mayor
 * creates one pipeline and calls `dispatch` for every event it receives; `setRegistry` swaps the whole
 * skill set at once (the loader's reload), so a dispatch sees either the old set or the new one.
 */
export class SkillPipeline {
  #registry: SkillRegistry;
  readonly #context: SkillContext;
  readonly #logger: SkillLogger;
  readonly #options: PipelineOptions;
  readonly retry: RetryQueue;

  constructor(options: PipelineOptions) {
    this.#options = options;
    this.#registry = options.registry;
    this.#logger = options.logger ?? silentLogger;
    this.retry = options.retry ?? new RetryQueue();
    this.#context = options.context;
  }

  get registry(): SkillRegistry {
    return this.#registry;
  }

  setRegistry(registry: SkillRegistry): void {
    this.#registry = registry;
  }

  /** Routes and runs one payload. Never throws. */
  dispatch(payload: Uint8Array, metadata: DispatchMetadata = {}): Promise<Dispatched> {
    return this.#dispatch(payload, metadata, 1, 0, true);
  }

  /** Runs every retry whose time has come; returns what happened to each. */
  async runDueRetries(now = Date.now()): Promise<Dispatched[]> {
    const out: Dispatched[] = [];
    for (const entry of this.retry.takeDue(now)) {
      out.push(
        await this.#dispatch(utf8Encoder.encode(entry.toon), entry.metadata, entry.attempts + 1, 0, true),
      );
    }
    return out;
  }

  async #dispatch(
    payload: Uint8Array,
    metadata: DispatchMetadata,
    attempt: number,
    depth: number,
    queueOnFailure: boolean,
  ): Promise<Dispatched> {
    const maxDepth = this.#options.maxDepth ?? 2;
    if (depth > maxDepth)
      return refused(`payload nested more than ${maxDepth} levels deep (a wrap inside a wrap?)`);
    const registry = this.#registry;
    let route: ReturnType<SkillRegistry['route']>;
    try {
      const correlate = metadata.correlation ? () => metadata.correlation : this.#options.correlate;
      route = registry.route(payload, correlate ? { correlate } : {});
    } catch (error) {
      const reason = error instanceof ToonError ? error.message : String(error);
      this.#logger.warn(`dropping a payload with no routable kind: ${reason}`, {
        relayUrl: metadata.relayUrl,
      });
      return refused(`not a routable TOON event: ${reason}`);
    }
    const { kind, skill } = route;
    if (!skill) {
      this.#logger.debug(`no skill handles kind ${kind}`, { kind });
      return {
        kind,
        outcome: {
          status: 'ignored',
          result: { status: 'ignored', summary: `no skill handles kind ${kind}` },
          retryable: false,
        },
      };
    }
    const context: SkillContext = {
      ...this.#context,
      // Re-entry for skills that unwrap payloads (encrypted DMs); nested failures are retried as the outer event.
      dispatch: async (inner, innerMeta) =>
        (await this.#dispatch(inner, innerMeta, attempt, depth + 1, false)).outcome.result,
    };
    const eventId = metadata.eventId ?? route.eventId;
    const correlation = route.correlation ?? metadata.correlation;
    const outcome = await runSkill(
      skill,
      payload,
      {
        kind,
        ...(eventId !== undefined && { eventId }),
        ...(correlation !== undefined && { correlation }),
        ...(metadata.relayUrl !== undefined && { relayUrl: metadata.relayUrl }),
        ...(metadata.private !== undefined && { private: metadata.private }),
        ...(metadata.idempotencyKey !== undefined && { idempotencyKey: metadata.idempotencyKey }),
        ...(metadata.redelivery !== undefined && { redelivery: metadata.redelivery }),
        receivedAt: metadata.receivedAt ?? Date.now(),
        attempt,
        logger: this.#logger,
        identityPubkey: this.#context.identityPubkey,
        context,
      },
      { ...(this.#options.timeoutMs !== undefined && { timeoutMs: this.#options.timeoutMs }) },
    );
    const dispatched: Dispatched = { kind, skill: skill.name, outcome };
    const nextJobs = outcome.status === 'handled' ? outcome.result.nextJobs : undefined;
    if (depth === 0 && this.#options.postNextJobs && nextJobs && nextJobs.length > 0) {
      await this.#postNextJobs(nextJobs, correlation?.chainId, dispatched);
    }
    if (outcome.retryable && queueOnFailure) {
      const entry = this.retry.recordFailure({
        toon: utf8.decode(payload),
        kind,
        skill: skill.name,
        error: outcome.result.summary ?? 'failed',
        metadata: { ...metadata, ...(eventId !== undefined && { eventId }) },
        attempt,
      });
      if (entry) dispatched.retryAt = entry.nextAttemptAt;
      else
        this.#logger.error(`giving up on kind ${kind} for skill ${skill.name} after ${attempt} tries`, {
          eventId,
        });
    }
    return dispatched;
  }
  async #postNextJobs(
    templates: EventTemplate[],
    chainId: string | undefined,
    into: Dispatched,
  ): Promise<void> {
    into.postedJobs = [];
    into.postErrors = [];
    const context = this.#context;
    if (!context.postJob) {
      into.postErrors.push('the host offers no postJob; next jobs were not posted');
      this.#logger.error('a skill returned nextJobs but the host offers no postJob', { skill: into.skill });
      return;
    }
    for (const template of templates) {
      try {
        // The next job's results come back to the skill that asked for it, in the same chain.
        const { jobId } = await context.postJob(template, {
          ...(into.skill !== undefined && { callbackSkill: into.skill }),
          ...(chainId !== undefined && { chainId }),
        });
        into.postedJobs.push(jobId);
      } catch (error) {
        const message = `posting the next job (kind ${template.kind}) failed: ${(error as Error).message}`;
        into.postErrors.push(message);
        this.#logger.error(message, { skill: into.skill });
      }
    }
  }
}

function refused(summary: string): Dispatched {
  return {
    outcome: { status: 'failed', result: { status: 'failed', summary, retry: false }, retryable: false },
  };
}
