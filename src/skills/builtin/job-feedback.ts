import { KIND_JOB_FEEDBACK } from '../../nostr/kinds.js';
import { type ParsedJobFeedback, parseJobFeedback } from '../../nostr/nip90.js';
import { decodeSkillEvent } from '../event.js';
import type { Skill, SkillMetadata } from '../types.js';

export interface JobFeedbackSkillOptions {
  /** Called for feedback on our jobs (e.g. to mark a job `processing` or ask the operator to pay). */
  onFeedback?: (feedback: ParsedJobFeedback, metadata: SkillMetadata) => void | Promise<void>;
  name?: string;
  priority?: number;
}

/** Kind 7000 (NIP-90 feedback): processing, payment-required, error, success, partial. */
export function jobFeedbackSkill(options: JobFeedbackSkillOptions = {}): Skill {
  return {
    name: options.name ?? 'job-feedback',
    description: 'NIP-90 job feedback (kind 7000) for our jobs',
    ...(options.priority !== undefined && { priority: options.priority }),
    supportedEventKinds: () => [KIND_JOB_FEEDBACK],
    async handleToon(payload, metadata) {
      const fb = parseJobFeedback(decodeSkillEvent(payload, metadata));
      if (!metadata.correlation && fb.requester !== metadata.identityPubkey) {
        return { status: 'ignored', summary: `feedback ${fb.id} is about someone else's job` };
      }
      await options.onFeedback?.(fb, metadata);
      const amount = fb.amount ? ` (amount ${fb.amount.amount})` : '';
      const info = fb.statusInfo ? `: ${fb.statusInfo}` : '';
      return {
        status: 'handled',
        summary: `Job ${fb.jobId.slice(0, 8)}: ${fb.status}${amount}${info}`,
        data: {
          jobId: fb.jobId,
          provider: fb.provider,
          status: fb.status,
          ...(fb.statusInfo !== undefined && { statusInfo: fb.statusInfo }),
          ...(fb.amount && { amount: fb.amount.amount.toString() }),
        },
      };
    },
  };
}
