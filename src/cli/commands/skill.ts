// `crosstown skill new <name>`: scaffold a TypeScript skill and its test from templates/skill/.
// `crosstown skill list`: the skills a Mayor would load (built-in and from skills-dir), and what it leaves out.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError, ExitCode, note, printResult } from '../output.js';
import { addBase, addFormat, type BaseOptions, helpExamples, loadConfig, run } from './common.js';

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
        const { scaffoldSkill } = await import('../../skills/scaffold.js');
        const r = await scaffoldSkill({
          name,
          dir: resolve(o.dir),
          kinds: kinds.map(Number),
          force: o.force,
        });
        for (const w of r.warnings) note(`warning: ${w}`);
        const value = {
          name,
          kinds: kinds.map(Number),
          skillFile: r.skillFile,
          testFile: r.testFile,
          warnings: r.warnings,
        };
        printResult(o.format, {
          value,
          rows: [{ name, kinds: kinds.join(' '), skillFile: r.skillFile, testFile: r.testFile }],
          text: () => `Created ${r.skillFile}\n        ${r.testFile}\nNext: npx vitest run ${r.testFile}`,
        });
      },
    ),
  );

  helpExamples(
    addBase(
      skill
        .command('list')
        .description(
          "The skills the Mayor loads: built-in ones and those in the skills-dir setting's folder",
        ),
    ),
    ['crosstown skill list', 'crosstown skill list --name beta --format json'],
    'A skill that fails to load or conflicts with another (same name, or a kind at the same priority) is listed as left out, with the reason; the Mayor starts without it.',
  ).action(
    run(async (o: BaseOptions) => {
      const config = loadConfig(o);
      const { loadSkills } = await import('../../skills/loader.js');
      const { builtinSkills } = await import('../../skills/builtins.js');
      const { registryWith } = await import('../../skills/registry.js');
      const loaded = await loadSkills({ skillsDir: config.skillsDir, context: { identityPubkey: '' } });
      const base = builtinSkills();
      const { leftOut } = registryWith(base, loaded.skills);
      const out = new Set(leftOut.map((l) => l.skill));
      const describe = (k: readonly number[]) => {
        const sorted = [...k].sort((a, b) => a - b);
        return sorted.length > 4 ? `${sorted[0]}-${sorted.at(-1)}` : sorted.join(' ');
      };
      const skills = [
        ...base.map((s) => ({
          name: s.name,
          kinds: describe(s.supportedEventKinds()),
          priority: s.priority ?? 0,
          source: 'built-in',
          loaded: true,
          problem: '',
        })),
        ...loaded.skills.map((s) => ({
          name: s.name,
          kinds: describe(s.supportedEventKinds()),
          priority: s.priority ?? 0,
          source: loaded.sources.get(s.name) ?? '',
          loaded: !out.has(s),
          problem: leftOut.find((l) => l.skill === s)?.message ?? '',
        })),
        ...loaded.problems.map((p) => ({
          name: '',
          kinds: '',
          priority: 0,
          source: p.source,
          loaded: false,
          problem: p.message,
        })),
      ];
      const dir = resolve(config.skillsDir);
      printResult(o.format, {
        value: { skillsDir: dir, skills },
        rows: skills,
        text: () =>
          [
            `Skills (skills-dir ${dir}):`,
            ...skills.map((s) =>
              s.loaded
                ? `  ${s.name.padEnd(20)} kinds ${s.kinds.padEnd(12)} priority ${s.priority}  ${s.source}`
                : `  left out: ${s.name || s.source}: ${s.problem}`,
            ),
          ].join('\n'),
      });
    }),
  );
}
