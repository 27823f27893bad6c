// Durable intents (issue 15): before an external effect (a write fee PREPARE, a provider payment, a skill
// invocation for a result or for feedback) the Mayor appends an intent with an idempotency key to
// `intents.jsonl` in its state repo and waits until it is durable; after the effect it appends the outcome. An
// intent without an outcome after a restart is an effect whose outcome is unknown: recovery asks the other side
// (the relay, the provider, the skill) instead of repeating it blindly.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StateRepo } from '../state/index.js';
import { isTerminal } from '../state/transitions.js';
import { keptLines, rewriteJournal } from './intents-compact.js';

export const INTENTS_FILE = 'intents.jsonl';

/** The external effects of a job's life, each guarded by an intent. */
export const EFFECTS = ['write-fee', 'provider-payment', 'skill', 'feedback'] as const;
export type Effect = (typeof EFFECTS)[number];

export interface IntentLine {
  key: string;
  effect: Effect;
  jobId: string;
  /** `intent` before the effect, `outcome` after it. */
  phase: 'intent' | 'outcome';
  /** For outcomes: fulfilled, rejected, refused-duplicate, handled, skipped, ... */
  outcome?: string;
  /** Base units, for money effects. */
  amount?: string;
  detail?: string;
  /** Unix milliseconds. */
  at: number;
}

export interface IntentJournal {
  /** Records the intent; the caller waits for `state.durable()` before doing the effect. */
  begin(effect: Effect, jobId: string, key: string, fields?: { amount?: bigint; detail?: string }): void;
  /** Records the outcome of the effect. */
  settle(key: string, outcome: string, detail?: string): void;
  /** The intent and (if any) the outcome recorded under `key`. */
  get(key: string): { intent?: IntentLine; outcome?: IntentLine };
  /** Intents with no outcome: effects a crash interrupted. */
  unresolved(effect?: Effect): IntentLine[];
}

export const intentKey = (effect: Effect, id: string) => `${effect}:${id}`;

/**
 * Whether a provider payment begun earlier (its intent on record) was for this provider and amount: only then does
 * it stand for an approval given before (the bid, the operator, the blocklist's check). After a crash mid-payment
 * the job may hold another result (another provider's, another price) that was never approved.
 */
export function paymentBegunFor(
  journal: IntentJournal,
  jobId: string,
  provider: string | undefined,
  amount: bigint,
): boolean {
  const intent = journal.get(intentKey('provider-payment', jobId)).intent;
  return intent !== undefined && intent.detail === provider && intent.amount === amount.toString();
}

export interface IntentJournalOptions {
  /** Compact while running once the journal grew past this many bytes (default 1 MiB; intents-compact.ts). */
  maxBytes?: number;
  /** Feedback calls kept whatever their job's state (default FEEDBACK_KEPT; intents-compact.ts). */
  feedbackKept?: number;
}

/**
 * Loads `intents.jsonl` (a half-written last line was already dropped by the state repo's recovery) and drops the
 * intents of jobs in a final state (intents-compact.ts), now and whenever the journal grows past `maxBytes`.
 */
export function openIntentJournal(
  state: StateRepo,
  now: () => number = Date.now,
  options: IntentJournalOptions = {},
): IntentJournal {
  const byKey = new Map<string, { intent?: IntentLine; outcome?: IntentLine }>();
  const remember = (line: IntentLine) => {
    const entry = byKey.get(line.key) ?? {};
    if (line.phase === 'intent') {
      // A new intent under a settled key is a retry: its outcome is unknown again.
      byKey.set(line.key, { intent: line });
    } else byKey.set(line.key, { ...entry, outcome: line });
  };
  const path = join(state.dir, INTENTS_FILE);
  const maxBytes = options.maxBytes ?? 1 << 20;
  let bytes = 0;
  let limit = maxBytes;
  const isFinal = (jobId: string) => {
    const job = state.jobs.get(jobId);
    return job !== undefined && isTerminal(job.status);
  };
  const kept = () => keptLines(byKey.values(), isFinal, options.feedbackKept);
  const compact = (lines = kept()) => {
    byKey.clear();
    for (const line of lines) remember(line);
    bytes = rewriteJournal(path, lines);
    // An empty append: the next commit (`git add -A`) takes the rewritten journal along.
    state.files.append(INTENTS_FILE, '', `intents: compacted, ${lines.length} lines kept`);
    // Live intents alone can exceed the limit: compact again only after as much again was appended.
    limit = Math.max(maxBytes, 2 * bytes);
  };
  if (existsSync(path)) {
    const content = readFileSync(path, 'utf8');
    bytes = Buffer.byteLength(content);
    for (const text of content.split('\n')) {
      if (!text.trim()) continue;
      try {
        remember(JSON.parse(text) as IntentLine);
      } catch {
        // A line we cannot read is skipped: the job's own status still drives recovery.
      }
    }
  }
  // Rewritten at open only when something goes (kept feedback calls of final jobs alone do not make it).
  const atOpen = kept();
  const lineCount = [...byKey.values()].reduce((n, e) => n + (e.intent ? 1 : 0) + (e.outcome ? 1 : 0), 0);
  if (atOpen.length < lineCount) compact(atOpen);
  const append = (line: IntentLine) => {
    remember(line);
    const text = `${JSON.stringify(line)}\n`;
    bytes += Buffer.byteLength(text);
    // Synchronous, from memory: a line still queued is in the rewrite, and appended again after it (harmless:
    // the same lines in the same order), so nothing the caller waits on can be lost.
    if (bytes > limit) compact();
    state.files.append(
      INTENTS_FILE,
      text,
      `job ${line.jobId}: ${line.effect} ${line.phase}${line.outcome ? ` ${line.outcome}` : ''}`,
    );
  };
  return {
    begin: (effect, jobId, key, fields = {}) =>
      append({
        key,
        effect,
        jobId,
        phase: 'intent',
        ...(fields.amount !== undefined ? { amount: fields.amount.toString() } : {}),
        ...(fields.detail ? { detail: fields.detail } : {}),
        at: now(),
      }),
    settle: (key, outcome, detail) => {
      const intent = byKey.get(key)?.intent;
      if (!intent) return;
      append({
        key,
        effect: intent.effect,
        jobId: intent.jobId,
        phase: 'outcome',
        outcome,
        ...(detail ? { detail } : {}),
        at: now(),
      });
    },
    get: (key) => byKey.get(key) ?? {},
    unresolved: (effect) =>
      [...byKey.values()]
        .filter((e) => e.intent && !e.outcome && (!effect || e.intent.effect === effect))
        .map((e) => e.intent!),
  };
}
