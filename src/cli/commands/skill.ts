// `crosstown skill new <name>`: scaffold a TypeScript skill and its test from templates/skill/.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { scaffoldSkill } from '../../skills/index.js';
import { CliError, ExitCode, printResult } from '../output.js';
import { addFormat, helpExamples, run } from './common.js';

export function registerSkill(program: Command): void {
  const skill = program.command('skill').description('Skills: code that handles incoming events by kind');
  helpExamples(
    addFormat(
      skill.command('new').description('Write <dir>/<name>.ts and <dir>/<name>.test.ts from the template'),
    )
      .argument('<name>', 'kebab-case name, e.g. encrypted-dm')
      .option('--kinds <list>', 'event kinds it handles, comma-separated', '1')
      .option('--dir <dir>', 'where to write', 'skills')
      .option('--force', 'overwrite existing files', false)
      .option('-y, --yes', 'non-interactive (this command never prompts)', false),
    [
      'crosstown skill new encrypted-dm --kinds 1059',
      'crosstown skill new note-logger --dir src/skills --format json',
    ],
    'Then run the generated test: npx vitest run <dir>/<name>.test.ts (see docs/skills.md).',
  ).action(
    run(
      async (
        name: string,
        o: { kinds: string; dir: string; force: boolean; format: 'text' | 'json' | 'csv' },
      ) => {
        if (!/^[a-z][a-z0-9-]*$/.test(name)) {
          throw new CliError(
            `skill name "${name}" must be kebab-case: lowercase letters, digits, dashes (e.g. encrypted-dm)`,
            ExitCode.Usage,
          );
        }
        const kinds = o.kinds.split(',').map((k) => k.trim());
        if (kinds.some((k) => !/^\d{1,5}$/.test(k) || Number(k) > 65535)) {
          throw new CliError(
            `--kinds "${o.kinds}" must be comma-separated event kinds 0..65535`,
            ExitCode.Usage,
          );
        }
        const r = await scaffoldSkill({
          name,
          dir: resolve(o.dir),
          kinds: kinds.map(Number),
          force: o.force,
        });
        const value = { name, kinds: kinds.map(Number), skillFile: r.skillFile, testFile: r.testFile };
        printResult(o.format, {
          value,
          rows: [{ name, kinds: kinds.join(' '), skillFile: r.skillFile, testFile: r.testFile }],
          text: () => `Created ${r.skillFile}\n        ${r.testFile}\nNext: npx vitest run ${r.testFile}`,
        });
      },
    ),
  );
}
