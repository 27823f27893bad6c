import { type CiCdCallbackOptions, ciCdCallbackSkill } from './builtin/ci-cd-callback.js';
import { type EncryptedDmSkillOptions, encryptedDmSkill } from './builtin/encrypted-dm.js';
import { type JobFeedbackSkillOptions, jobFeedbackSkill } from './builtin/job-feedback.js';
import { type JobRequestSkillOptions, jobRequestSkill } from './builtin/job-request.js';
import type { Skill } from './types.js';

export interface BuiltinSkillsOptions {
  jobRequest?: JobRequestSkillOptions;
  ciCdCallback?: CiCdCallbackOptions;
  feedback?: JobFeedbackSkillOptions;
  encryptedDm?: EncryptedDmSkillOptions;
}

/**
 * The Mayor's default skills, all at priority 0 so a loaded skill takes a kind over only by declaring a
 * higher priority: 5000-5999 job-request, 6000-6999 ci-cd-callback, 7000 job-feedback, 1059 encrypted-dm.
 */
export function builtinSkills(options: BuiltinSkillsOptions = {}): Skill[] {
  return [
    jobRequestSkill(options.jobRequest),
    ciCdCallbackSkill(options.ciCdCallback),
    jobFeedbackSkill(options.feedback),
    encryptedDmSkill(options.encryptedDm),
  ];
}
