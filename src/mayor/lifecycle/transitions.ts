// The job lifecycle in one place: the states and allowed transitions (the table the state repo enforces,
// src/mayor/state/transitions.ts) and, for each transition, what drives it and which durable intent guards the
// external effect that comes with it. docs/mayor.md shows `renderTransitionTable()`; a test checks they agree.
import { JOB_TRANSITIONS } from '../state/transitions.js';
import { JOB_STATUSES, type JobStatus } from '../state/types.js';
import type { Effect } from './intents.js';

export { canTransition, isTerminal, JOB_TRANSITIONS } from '../state/transitions.js';

export interface TransitionRule {
  from: JobStatus | 'new';
  to: JobStatus;
  /** What makes the transition happen. */
  on: string;
  /** The external effect done under a durable intent on the way (none: a local decision). */
  effect?: Effect;
}

/** Every transition the runtime makes. Each must be allowed by JOB_TRANSITIONS (tested). */
export const LIFECYCLE: readonly TransitionRule[] = [
  { from: 'new', to: 'posting', on: 'postJob / a chain step / a skill next job: request recorded, fsynced' },
  {
    from: 'posting',
    to: 'posted',
    on: 'the relay FULFILLs the write (or a 0-amount probe finds it stored)',
    effect: 'write-fee',
  },
  {
    from: 'posting',
    to: 'failed',
    on: 'the relay refuses the write with a final F-code, or the job exceeds one PREPARE',
    effect: 'write-fee',
  },
  { from: 'posting', to: 'cancelled', on: 'the operator cancels before it is posted' },
  {
    from: 'posted',
    to: 'result-received',
    on: 'a signed result for the job, from the relay (live or looked up)',
  },
  {
    from: 'posted',
    to: 'failed',
    on: "provider feedback `error`: the provider's reason (busy: after the busy policy's backoff, re-posted as a new job, or given up); or no result within job-timeout of posting",
  },
  { from: 'posted', to: 'cancelled', on: 'the operator cancels' },
  {
    from: 'result-received',
    to: 'routed',
    on: 'the callback skill returned (or its interrupted call is not repeated); a sealed result only after its key was paid for (`provider-payment` intent, issue 19)',
    effect: 'skill',
  },
  { from: 'result-received', to: 'paid', on: '(allowed; the runtime routes first)' },
  {
    from: 'result-received',
    to: 'failed',
    on: 'the stored result cannot be read; a sealed result: the provider did not reveal the key before the payment expired, refused it (F04/F05/F06), or the paid result is fraud (does not open or contradicts its summary)',
  },
  {
    from: 'routed',
    to: 'paid',
    on: 'the provider FULFILLs the payment, or refuses it as already paid for this job; a sealed result was paid before routing',
    effect: 'provider-payment',
  },
  { from: 'routed', to: 'failed', on: 'the operator refuses a held payment' },
];

/** The markdown table for docs/mayor.md. */
export function renderTransitionTable(): string {
  const rows = LIFECYCLE.map(
    (r) => `| ${r.from} | ${r.to} | ${r.on} | ${r.effect ? `\`${r.effect}\` intent` : '-'} |`,
  );
  return ['| from | to | when | durable intent |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** Transitions the table allows but LIFECYCLE does not describe (should be none), and vice versa. */
export function lifecycleGaps(): { undescribed: string[]; notAllowed: string[] } {
  const described = new Set(LIFECYCLE.filter((r) => r.from !== 'new').map((r) => `${r.from}->${r.to}`));
  const allowed = new Set(JOB_STATUSES.flatMap((s) => JOB_TRANSITIONS[s].map((t) => `${s}->${t}`)));
  return {
    undescribed: [...allowed].filter((t) => !described.has(t)),
    notAllowed: [...described].filter((t) => !allowed.has(t)),
  };
}
