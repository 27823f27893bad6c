import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinSkills } from './builtins.js';
import { SkillError } from './errors.js';
import { isKind } from './kinds.js';

export interface ScaffoldOptions {
  /** Skill name, kebab-case: `encrypted-dm`, `note-logger`. */
  name: string;
  /** Directory to write into (created if missing). */
  dir: string;
  /** Kinds the skill handles; default [1]. Use kindRange() for ranges. */
  kinds?: readonly number[];
  /**
   * Where the generated files import crosstown from. Default: relative paths into the crosstown checkout
   * that contains `dir` (or `crosstownRoot`), else into the crosstown installation this code runs from.
   */
  imports?: { skills: string; testing: string };
  /** A crosstown checkout to import from with relative paths. */
  crosstownRoot?: string;
  /** Overwrite existing files (default false: refuse). */
  force?: boolean;
}

export interface ScaffoldResult {
  skillFile: string;
  testFile: string;
  /** Things the developer should know, e.g. a kind a built-in skill already handles. */
  warnings: string[];
}

/** Writes `<dir>/<name>.ts` and `<dir>/<name>.test.ts` from templates/skill/. */
export async function scaffoldSkill(options: ScaffoldOptions): Promise<ScaffoldResult> {
  const { name } = options;
  if (!/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new SkillError(
      'scaffold_failed',
      `skill name "${name}" must be kebab-case: lowercase letters, digits, dashes`,
    );
  }
  const kinds = [...(options.kinds ?? [1])];
  if (kinds.length === 0 || !kinds.every(isKind)) {
    throw new SkillError('scaffold_failed', 'kinds must be a non-empty list of integers 0-65535');
  }
  const builtins = builtinSkills();
  const sameName = builtins.find((b) => b.name === name);
  if (sameName) {
    throw new SkillError(
      'scaffold_failed',
      `"${name}" is the name of a built-in skill: choose another name (e.g. my-${name}); two skills with one name cannot both load`,
    );
  }
  const warnings: string[] = [];
  for (const b of builtins) {
    const taken = kinds.filter((k) => b.supportedEventKinds().includes(k));
    if (taken.length > 0) {
      warnings.push(
        `kind ${compactKinds(taken)} is handled by the built-in skill ${b.name} (priority ${b.priority ?? 0}): the Mayor leaves ${name} out until you give it a higher priority, which takes the kind over from ${b.name}`,
      );
    }
  }
  const dir = resolve(options.dir);
  const skillFile = join(dir, `${name}.ts`);
  const testFile = join(dir, `${name}.test.ts`);
  if (!options.force) {
    for (const f of [skillFile, testFile]) {
      if (existsSync(f))
        throw new SkillError('scaffold_failed', `${f} already exists; pick another name or pass force`);
    }
  }
  const imports = options.imports ?? defaultImports(dir, options.crosstownRoot);
  const templates = templatesDir();
  const vars: Record<string, string> = {
    name,
    kinds: compactKinds(kinds),
    firstKind: String(kinds[0]),
    skillsImport: imports.skills,
    testingImport: imports.testing,
  };
  await mkdir(dir, { recursive: true });
  await writeFile(skillFile, render(await readFile(join(templates, 'skill.ts.tmpl'), 'utf8'), vars));
  await writeFile(testFile, render(await readFile(join(templates, 'skill.test.ts.tmpl'), 'utf8'), vars));
  return { skillFile, testFile, warnings };
}

function render(template: string, vars: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = vars[key];
    if (value === undefined)
      throw new SkillError('scaffold_failed', `template uses unknown placeholder {{${key}}}`);
    return value;
  });
}

/** Runs of 4+ consecutive kinds become an Array.from range, so a 5000-5999 skill stays one line. */
function compactKinds(kinds: number[]): string {
  const sorted = [...new Set(kinds)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    const from = sorted[i]!;
    const to = sorted[j]!;
    if (to - from >= 3) parts.push(`...Array.from({ length: ${to - from + 1} }, (_, i) => ${from} + i)`);
    else for (let k = from; k <= to; k++) parts.push(String(k));
    i = j + 1;
  }
  return parts.join(', ');
}

function templatesDir(): string {
  // src/skills -> package root; dist/src/skills -> one more level up.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'templates', 'skill');
    if (existsSync(join(candidate, 'skill.ts.tmpl'))) return candidate;
    dir = dirname(dir);
  }
  throw new SkillError('scaffold_failed', 'templates/skill/ not found next to the crosstown package');
}

function findCrosstownRoot(from: string): string | undefined {
  let dir = from;
  while (true) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'crosstown') return dir;
      } catch {
        // not JSON: keep looking upward
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function defaultImports(dir: string, root?: string): { skills: string; testing: string } {
  // Outside a crosstown checkout, import the crosstown this command runs from: a skills folder anywhere loads.
  const base = root ? resolve(root) : (findCrosstownRoot(dir) ?? dirname(dirname(templatesDir())));
  const rel = (target: string): string => {
    const r = relative(dir, join(base, target)).split(sep).join('/');
    return r.startsWith('.') ? r : `./${r}`;
  };
  return { skills: rel('src/skills/index.js'), testing: rel('src/testing/index.js') };
}
