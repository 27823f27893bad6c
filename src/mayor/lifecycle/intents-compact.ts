// Compaction of `intents.jsonl` (issue 15): the journal gets two lines per effect and is read whole at start, so
// the intents of jobs in a final state (paid, failed, cancelled) are dropped, when the journal is opened and
// whenever it grew past a size while the Mayor runs. Recovery never looks at a final job's intents, but the newest
// feedback calls are kept whatever their job's state: after a restart the results subscription hands the last
// minute's feedback over again, also for jobs that ended meanwhile, and each must not reach a skill twice
// (feedback-skills.ts). The rewrite is atomic (temporary file, fsync, rename over the journal, fsync of the
// directory): a SIGKILL at any point leaves either the whole old journal or the whole compacted one, and the state
// repo removes a leftover temporary file when it opens.
import { writeFileAtomic } from '../state/atomic.js';
import type { IntentLine } from './intents.js';

export interface IntentEntry {
  intent?: IntentLine;
  outcome?: IntentLine;
}

/** Feedback calls kept whatever their job's state: the newest this many (far more than a minute brings). */
export const FEEDBACK_KEPT = 1000;

/**
 * The lines to keep: every entry whose job is not final, and the newest `feedbackKept` feedback calls (entries come
 * oldest first), intent first then its outcome.
 */
export function keptLines(
  entries: Iterable<IntentEntry>,
  isFinal: (jobId: string) => boolean,
  feedbackKept = FEEDBACK_KEPT,
): IntentLine[] {
  const all = [...entries];
  const feedback = all.filter((e) => (e.intent ?? e.outcome)?.effect === 'feedback');
  const recent = new Set(feedbackKept > 0 ? feedback.slice(-feedbackKept) : []);
  const out: IntentLine[] = [];
  for (const e of all) {
    const jobId = e.intent?.jobId ?? e.outcome?.jobId;
    if (jobId === undefined || (isFinal(jobId) && !recent.has(e))) continue;
    if (e.intent) out.push(e.intent);
    if (e.outcome) out.push(e.outcome);
  }
  return out;
}

export const encodeLines = (lines: readonly IntentLine[]) =>
  lines.map((l) => `${JSON.stringify(l)}\n`).join('');

/** Atomically replaces the journal at `path` with `lines`; returns the new size in bytes. */
export function rewriteJournal(path: string, lines: readonly IntentLine[]): number {
  const text = encodeLines(lines);
  writeFileAtomic(path, text);
  return Buffer.byteLength(text);
}
