export { type ArchiveEntry, type ArchiveLimits, inspectTarGz } from './archive.js';
export { ProviderError, type ProviderErrorCode } from './errors.js';
export { CI_CD_LINUX, ciCdLinuxExecutor } from './executors/ci-cd-linux.js';
export { artifactManifest, readBuildContext, TAR_INPUT_TYPES } from './executors/common.js';
export {
  DOCKER_BUILD_AMD64,
  type DockerOptions,
  dockerBuildArgs,
  dockerExecutor,
  dockerNames,
  dockerRunArgs,
  probeDocker,
} from './executors/docker.js';
export type { ExecutionContext, Executor } from './executors/types.js';
export { buildAdvertisement, errorFeedback, jobRequestFilter, processingFeedback } from './messages.js';
export { checkPolicy, type PolicyDecision, type ProviderPolicy, type RefusalCode } from './policy.js';
export {
  type BeforeCleanup,
  type InterruptedJob,
  PolecatPool,
  type PoolOptions,
  type PoolRun,
} from './pool.js';
export { readPoolState, STATE_FILE } from './pool-state.js';
export { killGroup, type RunOptions, type RunOutcome, runProcess } from './process.js';
export {
  type ArtifactEntry,
  type BuildStatus,
  buildResult,
  cutLog,
  estimateSignedBytes,
  type JobOutcome,
  MAX_PACKET_DATA,
  type ProviderResultContent,
} from './results.js';
export { bwrapArgs, bwrapSandbox, detectSandbox, noSandbox, probeBwrap, type Sandbox } from './sandbox.js';
export {
  defaultProviderHome,
  type IntakeResult,
  type JobReport,
  type ProviderAudit,
  type ProviderLogger,
  type ProviderNetwork,
  type ProviderOptions,
  ProviderService,
} from './service.js';
export { parseTestSummary, type TestSummary } from './test-summary.js';
export { checkoutGit, WorkRepo } from './worktree.js';
