import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinSkills } from '../../src/skills/builtins.js';
import { buildRegistry, loadSkillModule, loadSkills } from '../../src/skills/loader.js';
import { SkillPipeline } from '../../src/skills/pipeline.js';
import { scaffoldSkill } from '../../src/skills/scaffold.js';
import { loadTestTOON, testContext } from '../../src/testing/index.js';

const repo = resolve(import.meta.dirname, '../..');
let dir: string;

beforeAll(async () => {
  // Outside the repo, like a contributor's own project; node_modules linked so `vitest` resolves.
  dir = await mkdtemp(join(tmpdir(), 'scaffold-'));
  await symlink(join(repo, 'node_modules'), join(dir, 'node_modules'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('scaffoldSkill', () => {
  it('writes a skill and its test; the generated test passes under vitest for real', async () => {
    const skillsDir = join(dir, 'skills');
    const { skillFile, testFile } = await scaffoldSkill({
      name: 'note-logger',
      dir: skillsDir,
      kinds: [1],
      crosstownRoot: repo,
    });
    expect(skillFile).toBe(join(skillsDir, 'note-logger.ts'));
    const source = await readFile(skillFile, 'utf8');
    expect(source).toContain("name: 'note-logger'");
    expect(source).toContain('export const KINDS: readonly number[] = [1];');
    expect(await readFile(testFile, 'utf8')).toContain("from './note-logger.js'");

    const out = execFileSync(
      join(repo, 'node_modules', '.bin', 'vitest'),
      ['run', '--root', dir, '--reporter', 'verbose'],
      {
        cwd: dir,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, CI: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
      },
    );
    expect(out).toMatch(/note-logger > handles a signed kind 1 event/);
    expect(out).toMatch(/Tests\s+3 passed \(3\)/);
  });

  it('the scaffolded skill handles kind 1 notes through the Mayor pipeline with no core change', async () => {
    const context = testContext();
    const report = await loadSkills({ skillsDir: join(dir, 'skills'), context });
    expect(report.problems).toEqual([]);
    const { registry, problems } = buildRegistry(builtinSkills(), report);
    expect(problems).toEqual([]);
    const pipeline = new SkillPipeline({ registry, context });
    const d = await pipeline.dispatch(loadTestTOON('kind1_note.toon'));
    expect(d.skill).toBe('note-logger');
    expect(d.outcome.status).toBe('handled');
    expect(d.outcome.result.summary).toContain('hello crosstown');
  });

  it('writes ranges compactly, refuses bad names and existing files', async () => {
    const { skillFile } = await scaffoldSkill({
      name: 'jobs-all',
      dir: join(dir, 'other'),
      kinds: [1, ...Array.from({ length: 1000 }, (_, i) => 5000 + i)],
      crosstownRoot: repo,
    });
    expect(await readFile(skillFile, 'utf8')).toContain(
      '[1, ...Array.from({ length: 1000 }, (_, i) => 5000 + i)]',
    );
    await expect(scaffoldSkill({ name: 'Bad Name', dir })).rejects.toThrow(/kebab-case/);
    await expect(scaffoldSkill({ name: 'jobs-all', dir: join(dir, 'other') })).rejects.toThrow(
      /already exists/,
    );
    await expect(scaffoldSkill({ name: 'x', dir, kinds: [] })).rejects.toThrow(/kinds/);
  });

  it('outside a crosstown checkout the imports point into the running crosstown, so the skill loads', async () => {
    const { skillFile, testFile } = await scaffoldSkill({ name: 'standalone', dir: join(dir, 'standalone') });
    const rel = relative(join(dir, 'standalone'), repo).split(sep).join('/');
    expect(await readFile(skillFile, 'utf8')).toContain(`from '${rel}/src/skills/index.js'`);
    expect(await readFile(testFile, 'utf8')).toContain(`from '${rel}/src/testing/index.js'`);
    const [skill] = await loadSkillModule(skillFile, { identityPubkey: '' });
    expect(skill!.name).toBe('standalone');
  });

  it("refuses a built-in skill's name and warns about a kind a built-in handles", async () => {
    await expect(scaffoldSkill({ name: 'encrypted-dm', dir, kinds: [1059] })).rejects.toThrow(
      /name of a built-in skill/,
    );
    const r = await scaffoldSkill({
      name: 'my-dm',
      dir: join(dir, 'dm'),
      kinds: [1059],
      crosstownRoot: repo,
    });
    expect(r.warnings).toEqual([
      expect.stringMatching(/kind 1059 is handled by the built-in skill encrypted-dm/),
    ]);
    const plain = await scaffoldSkill({ name: 'dm4', dir: join(dir, 'dm'), kinds: [4], crosstownRoot: repo });
    expect(plain.warnings).toEqual([]);
  });
});
