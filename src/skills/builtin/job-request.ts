import { type ParsedJobRequest, parseJobRequest } from '../../nostr/nip90.js';
import { decodeSkillEvent } from '../event.js';
import { kindRange } from '../kinds.js';
import type { Skill, SkillMetadata, SkillResult } from '../types.js';

/** Provider mode: what runs a job request. The Mayor injects it; without it this Mayor only requests jobs. */
export type JobProvider = (job: ParsedJobRequest, metadata: SkillMetadata) => Promise<SkillResult>;

export interface JobRequestSkillOptions {
  provider?: JobProvider;
  /** Only these job types (`t` tag) are handed to the provider; others are ignored. Default: all. */
  jobTypes?: readonly string[];
  name?: string;
  priority?: number;
}

/** Kinds 5000-5999 (NIP-90 job requests): parses the request and hands it to the provider hook. */
export function jobRequestSkill(options: JobRequestSkillOptions = {}): Skill {
  const kinds = kindRange(5000, 5999);
  return {
    name: options.name ?? 'job-request',
    description: 'NIP-90 job request intake (kinds 5000-5999), handed to the provider',
    ...(options.priority !== undefined && { priority: options.priority }),
    supportedEventKinds: () => kinds,
    async handleToon(payload, metadata) {
      const job = parseJobRequest(decodeSkillEvent(payload, metadata));
      if (job.requester === metadata.identityPubkey) {
        return { status: 'ignored', summary: `job ${job.id} is our own request` };
      }
      if (job.provider !== undefined && job.provider !== metadata.identityPubkey) {
        return { status: 'ignored', summary: `job ${job.id} names another provider (${job.provider})` };
      }
      if (!options.provider) {
        return {
          status: 'ignored',
          summary: `job ${job.id} (${job.jobType}) refused: no provider is configured; start the Mayor in provider mode to serve jobs`,
        };
      }
      if (options.jobTypes && !options.jobTypes.includes(job.jobType)) {
        return {
          status: 'ignored',
          summary: `job type ${job.jobType} is not served here (serving ${options.jobTypes.join(', ')})`,
        };
      }
      return options.provider(job, metadata);
    },
  };
}
