// `crosstown config set|get|list|reset`: read and edit crosstown.toml through src/mayor/config.
import type { Command } from 'commander';
import {
  type ConfigEntry,
  configFilePath,
  configGet,
  configList,
  configReset,
  configSet,
  SETTING_KEYS,
} from '../../mayor/config/index.js';
import { printResult } from '../output.js';
import { confirm } from '../prompt.js';
import { addBase, type BaseOptions, configFlags, helpExamples, run } from './common.js';

/** The JSON shape of one setting (docs/cli.md "config"). */
export interface ConfigEntryJson {
  key: string;
  value: string;
  source: ConfigEntry['source'];
  origin: string;
}

const toJsonEntry = (e: ConfigEntry): ConfigEntryJson => ({
  key: e.key,
  value: e.display,
  source: e.source,
  origin: e.origin,
});

const opts = (o: BaseOptions) => ({ flags: configFlags(o) });

function textTable(entries: ConfigEntry[]): string {
  const w = Math.max(...entries.map((e) => e.key.length));
  return entries
    .map((e) => `${e.key.padEnd(w)}  ${e.display || '(unset)'}  [${e.source}: ${e.origin}]`)
    .join('\n');
}

export function registerConfig(program: Command): void {
  const config = program
    .command('config')
    .description('Show and edit settings (flags > environment > crosstown.toml > defaults)');

  helpExamples(
    addBase(config.command('set').description('Validate a value and store it in crosstown.toml'))
      .argument('<key>', `one of: ${SETTING_KEYS.join(', ')}`)
      .argument('<value>', 'as you would type it (amounts in decimal M2M, lists comma-separated)'),
    [
      'crosstown config set default-deposit 25',
      'crosstown config set relay-urls ws://127.0.0.1:7777 --format json',
    ],
  ).action(
    run(async (key: string, value: string, o: BaseOptions) => {
      const e = configSet(key, value, opts(o));
      const file = configFilePath(opts(o));
      printResult(o.format, {
        value: { ...toJsonEntry(e), file },
        rows: [toJsonEntry(e)],
        text: () =>
          `${key} = ${e.display} (saved in ${file})${e.source !== 'file' ? `\nnote: ${e.origin} overrides the file (source: ${e.source})` : ''}`,
      });
    }),
  );

  helpExamples(
    addBase(config.command('get').description('Print the value in effect and where it comes from')).argument(
      '<key>',
      'a setting key',
    ),
    ['crosstown config get network', 'crosstown config get max-channel-deposit --format json | jq -r .value'],
  ).action(
    run(async (key: string, o: BaseOptions) => {
      const e = configGet(key, opts(o));
      printResult(o.format, { value: toJsonEntry(e), rows: [toJsonEntry(e)], text: () => e.display });
    }),
  );

  helpExamples(addBase(config.command('list').description('Every setting with its value and source')), [
    'crosstown config list',
    'crosstown config list --format csv',
  ]).action(
    run(async (o: BaseOptions) => {
      const entries = configList(opts(o));
      const file = configFilePath(opts(o));
      printResult(o.format, {
        value: { file, settings: entries.map(toJsonEntry) },
        rows: entries.map(toJsonEntry),
        text: () => `Config file: ${file}\n${textTable(entries)}`,
      });
    }),
  );

  helpExamples(
    addBase(
      config.command('reset').description('Remove one key from crosstown.toml, or the whole file'),
    ).argument('[key]', 'the setting to reset (omit to delete the file: asks first unless --yes)'),
    ['crosstown config reset default-deposit', 'crosstown config reset --yes'],
  ).action(
    run(async (key: string | undefined, o: BaseOptions) => {
      const file = configFilePath(opts(o));
      if (key === undefined) await confirm(`Delete ${file} (every stored setting)?`, { yes: o.yes });
      configReset(key, opts(o));
      const value = { reset: key ?? 'all', file };
      printResult(o.format, {
        value,
        rows: [value],
        text: () =>
          key ? `${key} removed from ${file}` : `${file} removed: every setting is back to its default`,
      });
    }),
  );
}
