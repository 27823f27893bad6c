export {
  type CiCdCallbackOptions,
  type CiResultSummary,
  ciCdCallbackSkill,
  ciSummaryLine,
  ciSummaryOf,
} from './ci-cd-callback.js';
export { type CiResultContent, encodeCiResultContent, parseCiResultContent } from './ci-result.js';
export {
  type EncryptedDmResult,
  type EncryptedDmSkill,
  type EncryptedDmSkillOptions,
  encryptedDmSkill,
} from './encrypted-dm.js';
export { type JobFeedbackSkillOptions, jobFeedbackSkill } from './job-feedback.js';
export { type JobProvider, type JobRequestSkillOptions, jobRequestSkill } from './job-request.js';
