import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildRegistry, loadSkillModule, loadSkills, watchSkills } from '../../src/skills/loader.js';
import { SkillPipeline } from '../../src/skills/pipeline.js';
import { SkillRegistry } from '../../src/skills/registry.js';
import { buildSignedToonEvent, testContext } from '../../src/testing/index.js';

// Skill files written the way a contributor would, typed only structurally so they need no imports.
const tsSkill = (name: string, kind: number, summary: string, priority = 0) => `
interface Meta { kind: number }
const skill = {
  name: '${name}',
  priority: ${priority},
  supportedEventKinds: (): number[] => [${kind}],
  async handleToon(_payload: Uint8Array, meta: Meta) {
    return { status: 'handled' as const, summary: '${summary} kind ' + meta.kind };
  },
};
export default skill;
`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skills-dir-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const note = buildSignedToonEvent({ kind: 1, tags: [], content: 'n' });

describe('loadSkills', () => {
  it('loads .ts objects, .mjs factories, arrays and package directories; skips tests; reports broken files', async () => {
    await writeFile(join(dir, 'a-notes.ts'), tsSkill('notes', 1, 'notes v1'));
    await writeFile(
      join(dir, 'b-factory.mjs'),
      `export default (ctx) => ({ name: 'factory', supportedEventKinds: () => [2], handleToon: async () => ({ status: 'handled', summary: ctx.identityPubkey.slice(0, 4) }) });`,
    );
    await writeFile(
      join(dir, 'c-array.ts'),
      `export default [3, 4].map((k) => ({ name: 'arr-' + k, supportedEventKinds: () => [k], handleToon: async () => ({ status: 'handled' as const }) }));`,
    );
    await writeFile(join(dir, 'd-broken.ts'), 'export default {{{ not typescript');
    await writeFile(join(dir, 'e-nodefault.ts'), 'export const x = 1;');
    await writeFile(join(dir, 'f-notaskill.ts'), 'export default { name: 42 };');
    await writeFile(join(dir, 'a-notes.test.ts'), 'throw new Error("tests are not skills")');
    await writeFile(join(dir, 'README.md'), '# not a skill');
    await mkdir(join(dir, 'g-package'));
    await writeFile(
      join(dir, 'g-package', 'package.json'),
      JSON.stringify({ name: 'g', type: 'module', main: 'lib/main.js' }),
    );
    await mkdir(join(dir, 'g-package', 'lib'));
    await writeFile(
      join(dir, 'g-package', 'lib', 'main.js'),
      `export default { name: 'pkg', supportedEventKinds: () => [5], handleToon: async () => ({ status: 'handled' }) };`,
    );
    const report = await loadSkills({
      skillsDir: dir,
      context: testContext({ identityPubkey: 'abcd'.repeat(16) }),
    });
    expect(report.skills.map((s) => s.name).sort()).toEqual(['arr-3', 'arr-4', 'factory', 'notes', 'pkg']);
    expect(report.sources.get('pkg')).toBe(join(dir, 'g-package'));
    const problems = Object.fromEntries(
      report.problems.map((p) => [p.source.replace(`${dir}/`, ''), p.message]),
    );
    expect(Object.keys(problems).sort()).toEqual(['d-broken.ts', 'e-nodefault.ts', 'f-notaskill.ts']);
    expect(problems['e-nodefault.ts']).toMatch(/no default export/);
    expect(problems['f-notaskill.ts']).toMatch(/not a skill/);
    expect(problems['d-broken.ts']).toMatch(/import failed/);

    const { registry } = buildRegistry([], report);
    const pipeline = new SkillPipeline({ registry, context: testContext() });
    expect((await pipeline.dispatch(note)).outcome.result.summary).toBe('notes v1 kind 1');
  });

  it('a loaded skill that conflicts with a built-in is reported and left out; a higher priority takes over', async () => {
    await writeFile(join(dir, 'clash.ts'), tsSkill('clash', 1, 'clash'));
    await writeFile(join(dir, 'override.ts'), tsSkill('override', 2, 'override', 5));
    const builtin = (name: string, kind: number) => ({
      name,
      supportedEventKinds: () => [kind],
      handleToon: async () => ({ status: 'handled' as const, summary: name }),
    });
    const { registry, problems } = buildRegistry(
      [builtin('builtin-1', 1), builtin('builtin-2', 2)],
      await loadSkills({ skillsDir: dir, context: testContext() }),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toMatch(/"builtin-1" and "clash" both handle kind 1/);
    expect(registry.lookup(1)?.name).toBe('builtin-1');
    expect(registry.lookup(2)?.name).toBe('override');
  });

  it('loads a package by path and refuses a missing one with a reason', async () => {
    await expect(loadSkillModule(join(dir, 'missing.ts'), testContext())).rejects.toThrow(
      /ENOENT|no such file/,
    );
    await expect(loadSkillModule('crosstown-no-such-skill-package', testContext())).rejects.toThrow(
      /import failed/,
    );
  });

  it('TypeScript skill files load with a plain dynamic import() under tsx (child process)', async () => {
    await writeFile(join(dir, 'notes.ts'), tsSkill('notes', 1, 'tsx'));
    const script = join(import.meta.dirname, 'fixtures', 'load-under-tsx.ts');
    const out = execFileSync(process.execPath, ['--import', 'tsx', script, dir], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(JSON.parse(out.trim())).toEqual({
      skills: ['notes'],
      problems: [],
      status: 'handled',
      summary: 'tsx kind 1',
    });
  });
});

describe('watchSkills', () => {
  it('reloads on change (debounced), swaps the registry atomically, and a broken file does not stop the others', async () => {
    await writeFile(join(dir, 'notes.ts'), tsSkill('notes', 1, 'v1'));
    const reloads: Array<{ registry: SkillRegistry; problems: string[] }> = [];
    const pipeline = new SkillPipeline({ registry: new SkillRegistry([]), context: testContext() });
    let wake: (() => void) | undefined;
    const watcher = await watchSkills({
      skillsDir: dir,
      context: testContext(),
      debounceMs: 50,
      onReload: (registry, problems) => {
        pipeline.setRegistry(registry);
        reloads.push({ registry, problems: problems.map((p) => p.message) });
        wake?.();
      },
    });
    const nextReload = () => new Promise<void>((r) => (wake = r));
    try {
      expect(reloads).toHaveLength(1);
      expect((await pipeline.dispatch(note)).outcome.result.summary).toBe('v1 kind 1');

      let reloaded = nextReload();
      await writeFile(join(dir, 'notes.ts'), tsSkill('notes', 1, 'v2'));
      await reloaded;
      expect((await pipeline.dispatch(note)).outcome.result.summary).toBe('v2 kind 1');

      reloaded = nextReload();
      await writeFile(join(dir, 'zz-broken.ts'), 'export default (((');
      await reloaded;
      const last = reloads.at(-1)!;
      expect(last.problems.join('\n')).toMatch(/zz-broken\.ts/);
      expect((await pipeline.dispatch(note)).outcome.result.summary).toBe('v2 kind 1');
      // Bursts of writes coalesce into a few reloads, not one (or two) per write.
      const before = reloads.length;
      for (let i = 0; i < 5; i++) await writeFile(join(dir, 'notes.ts'), tsSkill('notes', 1, `burst${i}`));
      const deadline = Date.now() + 5000;
      while (
        (await pipeline.dispatch(note)).outcome.result.summary !== 'burst4 kind 1' &&
        Date.now() < deadline
      ) {
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 150));
      expect((await pipeline.dispatch(note)).outcome.result.summary).toBe('burst4 kind 1');
      expect(reloads.length - before).toBeLessThan(5);
    } finally {
      watcher.close();
    }
  });
});
