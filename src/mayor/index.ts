// Public API of the Mayor: configuration, keystore, git-backed state, payment audit and the runtime.
// See docs/mayor.md (runtime) and docs/mayor-state.md (foundations).
export * from './audit/index.js';
export * from './config/index.js';
export * from './keystore/index.js';
export * from './runtime/index.js';
export * from './state/index.js';
