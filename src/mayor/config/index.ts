// Public API of the Mayor's configuration (see docs/mayor-state.md, "Configuration").
export { ConfigError, type ConfigErrorCode } from './errors.js';
export { configFilePath, configGet, configList, configReset, configSet } from './file.js';
export {
  type ConfigEntry,
  type FlagValue,
  locateConfigFile,
  providerConfigProblem,
  type ResolveConfigOptions,
  type ResolvedConfig,
  readConfigFile,
  resolveConfig,
} from './resolve.js';
export {
  type ConfigSource,
  type MayorConfig,
  type ProviderConfig,
  type SandboxMode,
  SETTING_KEYS,
  SETTINGS,
  type SettingDef,
  settingFor,
} from './schema.js';
