// The job state machine. A job moves forward only; `paid`, `failed` and `cancelled` are final.
import { StateError } from './errors.js';
import type { JobStatus } from './types.js';

/** Allowed next statuses. Paying before routing is allowed (the runtime may pay as soon as the result arrives). */
export const JOB_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  posting: ['posted', 'failed', 'cancelled'],
  posted: ['result-received', 'failed', 'cancelled'],
  'result-received': ['routed', 'paid', 'failed'],
  routed: ['paid', 'failed'],
  paid: [],
  failed: [],
  cancelled: [],
};

/** Statuses a new job may start in. */
export const INITIAL_STATUSES: readonly JobStatus[] = ['posting', 'posted'];

export function isTerminal(status: JobStatus): boolean {
  return JOB_TRANSITIONS[status].length === 0;
}

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return JOB_TRANSITIONS[from].includes(to);
}

export function assertTransition(jobId: string, from: JobStatus, to: JobStatus): void {
  if (canTransition(from, to)) return;
  const next = JOB_TRANSITIONS[from];
  throw new StateError(
    'INVALID_TRANSITION',
    next.length === 0
      ? `Job ${jobId} is ${from}, which is final: it cannot become ${to}. Post a new job instead.`
      : `Job ${jobId} cannot go from ${from} to ${to}: from ${from} it may only become ${next.join(', ')}.`,
  );
}
