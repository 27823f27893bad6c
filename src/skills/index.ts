// Public API of src/skills: the Skill interface, the registry, the isolated runner and retry queue, the
// pipeline the Mayor feeds, built-in skills, skill loading (modules, packages, agent files) and scaffolding.
export {
  type AgentCommand,
  type AgentSkillFile,
  agentOutputToResult,
  agentPrompt,
  agentSkill,
  DEFAULT_AGENT_COMMAND,
  loadAgentSkillFile,
  parseAgentSkillFile,
} from './agent.js';
export * from './builtin/index.js';
export { type BuiltinSkillsOptions, builtinSkills } from './builtins.js';
export { SkillError, type SkillErrorCode } from './errors.js';
export { decodeSkillEvent, rumorToToon, SkillEventError, UNSIGNED_RUMOR_SIG } from './event.js';
export { isKind, kindRange, parseKindList } from './kinds.js';
export {
  buildRegistry,
  type LoadOptions,
  type LoadProblem,
  type LoadReport,
  loadSkillModule,
  loadSkills,
  type SkillWatcher,
  type WatchOptions,
  watchSkills,
} from './loader.js';
export { type LogRecord, recordingLogger, silentLogger, skillLogger } from './logger.js';
export { compressLogs, DEFAULT_MAX_LOG_BYTES, decompressLogs, LogDecodeError } from './logs.js';
export { type Dispatched, type PipelineOptions, SkillPipeline } from './pipeline.js';
export { isCorrelatedKind, isSkill, type Route, type RouteOptions, SkillRegistry } from './registry.js';
export { type RetryEntry, type RetryPolicy, RetryQueue, type RetryState } from './retry.js';
export {
  DEFAULT_SKILL_TIMEOUT_MS,
  guardUnhandledRejections,
  type RunOptions,
  runSkill,
  type SkillFailureCode,
  type SkillOutcome,
} from './runner.js';
export { type ScaffoldOptions, type ScaffoldResult, scaffoldSkill } from './scaffold.js';
export type * from './types.js';
