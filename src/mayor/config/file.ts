// `crosstown config set|get|list|reset`: read and edit crosstown.toml. Values are validated with the same
// parsers as at start, and written as TOML (amounts as quoted decimal M2M strings). Comments in the file are
// not preserved by a write.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseToml, stringify } from 'smol-toml';
import { ensureDir, writeFileAtomic } from '../state/atomic.js';
import { ConfigError } from './errors.js';
import {
  type ConfigEntry,
  locateConfigFile,
  parseSetting,
  type ResolveConfigOptions,
  resolveConfig,
  setPath,
} from './resolve.js';
import { SETTING_KEYS, type SettingDef, settingFor } from './schema.js';

function defFor(key: string): SettingDef {
  const def = settingFor(key);
  if (!def || def.key !== key) {
    throw new ConfigError(
      'UNKNOWN_KEY',
      `Unknown setting '${key}': use one of ${SETTING_KEYS.join(', ')}.`,
      key,
    );
  }
  return def;
}

function readDoc(path: string): Record<string, unknown> {
  if (!existsSync(path)) return {};
  try {
    return parseToml(readFileSync(path, 'utf8'), { integersAsBigInt: true }) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError('BAD_FILE', `${path} is not valid TOML: ${(err as Error).message}`, undefined, {
      cause: err,
    });
  }
}

function writeDoc(path: string, doc: Record<string, unknown>): void {
  ensureDir(dirname(path));
  writeFileAtomic(path, `${stringify(doc)}\n`);
}

/** The config file the options point at (--config, CROSSTOWN_CONFIG, or <home>/crosstown.toml). */
export function configFilePath(options: ResolveConfigOptions = {}): string {
  return locateConfigFile(options);
}

/** Validates `value` (as typed on the command line) and stores it in crosstown.toml. Returns the entry now in effect. */
export function configSet(key: string, value: string, options: ResolveConfigOptions = {}): ConfigEntry {
  const def = defFor(key);
  if (def.sources && !def.sources.includes('file')) {
    throw new ConfigError(
      'NOT_SETTABLE',
      `${key} cannot be stored in crosstown.toml: ${def.env ? `set ${def.env} or ` : ''}pass --${key} each time.`,
      key,
    );
  }
  const file = configFilePath(options);
  let parsed = parseSetting(def, value, 'flag', file);
  // `config set skills-dir ./skills` means the folder here, wherever the Mayor is started later.
  if (def.type.path && typeof parsed === 'string') parsed = resolve(parsed);
  const doc = readDoc(file);
  setPath(doc, key, def.type.toToml(parsed));
  // Checked before writing (a value valid alone may conflict with another, default-deposit above
  // max-channel-deposit), so the file on disk is never one that other commands would refuse.
  let entry: ConfigEntry;
  try {
    entry = resolveConfig({ ...options, fileDoc: doc }).entry(key);
  } catch (err) {
    const aboutThisValue = err instanceof ConfigError && (err.key === key || err.code === 'CONFLICT');
    // A bad value elsewhere (in the environment, say) does not stop this one being stored; the error still shows.
    if (!aboutThisValue) writeDoc(file, doc);
    throw err;
  }
  writeDoc(file, doc);
  return entry;
}

/** The value in effect and where it comes from. */
export function configGet(key: string, options: ResolveConfigOptions = {}): ConfigEntry {
  defFor(key);
  return resolveConfig(options).entry(key);
}

/** Every setting with its value and source. (Keys are never settings: they live in the keystore.) */
export function configList(options: ResolveConfigOptions = {}): ConfigEntry[] {
  return resolveConfig(options).entries;
}

/** Removes `key` from crosstown.toml (back to env/default), or every key when none is given. */
export function configReset(key?: string, options: ResolveConfigOptions = {}): void {
  const file = configFilePath(options);
  if (key === undefined) {
    rmSync(file, { force: true });
    return;
  }
  defFor(key);
  const doc = readDoc(file);
  const parts = key.split('.');
  let o: Record<string, unknown> | undefined = doc;
  for (const p of parts.slice(0, -1)) o = o?.[p] as Record<string, unknown> | undefined;
  if (!o || !(parts.at(-1)! in o)) return;
  delete o[parts.at(-1)!];
  if (parts.length > 1 && Object.keys(o).length === 0) delete doc[parts[0]!];
  writeDoc(file, doc);
}
