// Resolves every setting from flags > environment > crosstown.toml > defaults, remembering where each
// value came from so `crosstown config list` can show it.
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { ConfigError } from './errors.js';
import { type ConfigSource, type MayorConfig, SETTING_KEYS, SETTINGS, type SettingDef } from './schema.js';
import { ValueError } from './values.js';

export type FlagValue = string | boolean | string[] | undefined;

export interface ResolveConfigOptions {
  /** Parsed command-line flags, keyed by setting key (`relay-urls`), field (`relayUrls`) or camelCase key. */
  flags?: Record<string, FlagValue>;
  /** Default process.env. */
  env?: Record<string, string | undefined>;
  /** The config file's contents as if on disk (what `config set` is about to write); default: read the file. */
  fileDoc?: Record<string, unknown>;
}

/** One resolved setting, for `config get/list`. */
export interface ConfigEntry {
  key: string;
  value: unknown;
  /** As a person would type it; '' when unset. */
  display: string;
  source: ConfigSource;
  /** `--relay-urls`, `CROSSTOWN_RELAY_URL`, the file path, or `default`. */
  origin: string;
  description: string;
}

export interface ResolvedConfig {
  values: MayorConfig;
  entries: ConfigEntry[];
  /** The crosstown.toml consulted (it may not exist). */
  file: string;
  fileExists: boolean;
  entry(key: string): ConfigEntry;
}

const camel = (key: string) => key.replace(/[.-]([a-z])/g, (_m, c: string) => c.toUpperCase());

function flagFor(flags: Record<string, FlagValue>, def: SettingDef): FlagValue {
  for (const k of [def.key, def.field, camel(def.key)]) if (flags[k] !== undefined) return flags[k];
  return undefined;
}

/** Reads crosstown.toml into a flat map of setting key -> TOML value. */
export function readConfigFile(path: string, given?: Record<string, unknown>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (!given && !existsSync(path)) return out;
  let doc: Record<string, unknown>;
  try {
    doc =
      given ?? (parseToml(readFileSync(path, 'utf8'), { integersAsBigInt: true }) as Record<string, unknown>);
  } catch (err) {
    throw new ConfigError('BAD_FILE', `${path} is not valid TOML: ${(err as Error).message}`, undefined, {
      cause: err,
    });
  }
  const walk = (obj: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix + k;
      if (typeof v === 'object' && v !== null && !Array.isArray(v) && !SETTING_KEYS.includes(key))
        walk(v as Record<string, unknown>, `${key}.`);
      else out.set(key, v);
    }
  };
  walk(doc, '');
  for (const key of out.keys()) {
    if (!SETTING_KEYS.includes(key)) {
      throw new ConfigError(
        'UNKNOWN_KEY',
        `Unknown setting '${key}' in ${path}: remove it or use one of ${SETTING_KEYS.join(', ')}.`,
        key,
      );
    }
  }
  return out;
}

function hint(def: SettingDef, source: ConfigSource, file: string): string {
  switch (source) {
    case 'flag':
      return `pass --${def.key} ${def.example}`;
    case 'env':
      return `set ${def.env}=${def.example}`;
    case 'file':
      return `fix ${def.key} in ${file} (crosstown config set ${def.key} ${def.example})`;
    default:
      return 'this is a bug in the default';
  }
}

/** Parses one raw value for `def`, turning a parse failure into a ConfigError that says how to fix it. */
export function parseSetting(def: SettingDef, raw: unknown, source: ConfigSource, file: string): unknown {
  try {
    return def.type.parse(raw);
  } catch (err) {
    if (!(err instanceof ValueError)) throw err;
    const shown =
      err.item ??
      (typeof raw === 'string'
        ? raw
        : JSON.stringify(raw, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)));
    throw new ConfigError(
      'INVALID_VALUE',
      `${def.label} '${shown}' ${err.message}: ${hint(def, source, file)}.`,
      def.key,
    );
  }
}

/** Sets a dotted path (provider.price) in a nested object, creating tables on the way. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let o = target;
  for (const p of parts.slice(0, -1)) {
    if (typeof o[p] !== 'object' || o[p] === null) o[p] = {};
    o = o[p] as Record<string, unknown>;
  }
  o[parts.at(-1)!] = value;
}

/** Resolves the whole configuration. Throws ConfigError on the first invalid value or conflict. */
export function resolveConfig(options: ResolveConfigOptions = {}): ResolvedConfig {
  return resolveSettings(options, SETTINGS.length);
}

/**
 * Only where crosstown.toml is (home and config settings): enough for `config set/reset`, which must work
 * even when the file or the environment holds a bad value elsewhere.
 */
export function locateConfigFile(options: ResolveConfigOptions = {}): string {
  return resolveSettings(options, SETTINGS.findIndex((s) => s.key === 'config') + 1).file;
}

function resolveSettings(options: ResolveConfigOptions, count: number): ResolvedConfig {
  const flags = options.flags ?? {};
  const env = options.env ?? process.env;
  const resolved: Record<string, unknown> = {};
  const values: Record<string, unknown> = {};
  const entries: ConfigEntry[] = [];
  let file = '';
  let fileValues = new Map<string, unknown>();

  for (const def of SETTINGS.slice(0, count)) {
    const allowed = def.sources ?? ['flag', 'env', 'file', 'default'];
    let source: ConfigSource = 'default';
    let origin = 'default';
    let value: unknown;
    const flag = allowed.includes('flag') ? flagFor(flags, def) : undefined;
    const envValue = allowed.includes('env') && def.env ? env[def.env] : undefined;
    if (flag !== undefined) {
      source = 'flag';
      origin = `--${def.key}`;
      value = parseSetting(def, flag, source, file);
    } else if (envValue !== undefined && envValue !== '') {
      source = 'env';
      origin = def.env!;
      value = parseSetting(def, envValue, source, file);
    } else if (allowed.includes('file') && fileValues.has(def.key)) {
      source = 'file';
      origin = file;
      value = parseSetting(def, fileValues.get(def.key), source, file);
    } else {
      value = def.default(resolved);
    }
    resolved[def.key] = value;
    setPath(values, def.field, value);
    entries.push({
      key: def.key,
      value,
      display: value === undefined ? '' : def.type.display(value),
      source,
      origin,
      description: def.description,
    });
    if (def.key === 'config') {
      // The file's location is known now; the settings after this one may come from it.
      file = value as string;
      if (count === SETTINGS.indexOf(def) + 1) break;
      fileValues = readConfigFile(file, options.fileDoc);
      for (const key of fileValues.keys()) {
        const d = SETTINGS.find((s) => s.key === key)!;
        if (d.sources && !d.sources.includes('file')) {
          throw new ConfigError(
            'NOT_SETTABLE',
            `${key} cannot be set in ${file}: ${d.sources.includes('env') ? `set ${d.env} or ` : ''}pass --${key}. Remove it from the file.`,
            key,
          );
        }
      }
    }
  }

  const config = values as unknown as MayorConfig;
  if (count === SETTINGS.length) checkConsistency(config);
  return {
    values: config,
    entries,
    file,
    fileExists: existsSync(file),
    entry: (key) => {
      const e = entries.find((x) => x.key === key);
      if (!e)
        throw new ConfigError(
          'UNKNOWN_KEY',
          `Unknown setting '${key}': use one of ${SETTING_KEYS.join(', ')}.`,
          key,
        );
      return e;
    },
  };
}

/** Rules that involve more than one setting. */
function checkConsistency(c: MayorConfig): void {
  if (c.network === 'base' && !c.allowMainnet) {
    throw new ConfigError(
      'CONFLICT',
      "network 'base' is Base mainnet and moves real money: pass --allow-mainnet to use it, or choose base-sepolia.",
      'network',
    );
  }
  if (c.defaultDeposit > c.maxChannelDeposit) {
    throw new ConfigError(
      'CONFLICT',
      'default-deposit is larger than max-channel-deposit: lower default-deposit or raise max-channel-deposit.',
      'default-deposit',
    );
  }
}

/**
 * What stops provider mode from starting, if anything. Checked when the Mayor starts rather than on every
 * resolve, so the README's order (`provider.enabled` first, then `provider.job-types`) works.
 */
export function providerConfigProblem(c: MayorConfig): string | undefined {
  if (c.provider.enabled && c.provider.jobTypes.length === 0) {
    const name = c.name === 'mayor' ? '' : ` --name ${c.name}`;
    return `provider.enabled is true but provider.job-types is empty: list the job types to serve (crosstown config set provider.job-types ci-cd-linux${name}).`;
  }
  return undefined;
}
