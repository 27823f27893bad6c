// Skill packages: TypeScript/JavaScript modules in a skills directory, npm packages by name, and agent skill
// files. Loaded at start and again whenever the directories change, with no change to core code.
import { existsSync, type FSWatcher, watch } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type AgentCommand, loadAgentSkillFile } from './agent.js';
import { SkillError } from './errors.js';
import { isSkill, registryWith, type SkillRegistry } from './registry.js';
import type { Skill, SkillContext, SkillExport, SkillLogger } from './types.js';
import { ensureTypeScriptLoader } from './typescript-loader.js';

export interface LoadOptions {
  /** Directory of skill modules: `*.ts`, `*.js`, `*.mjs` files, or sub-directories (packages). */
  skillsDir?: string;
  /** npm package names (or absolute paths) whose default export is a skill. */
  packages?: readonly string[];
  /** Directory of agent skill files (`*.md`), e.g. `<project>/.claude/skills`. */
  agentDir?: string;
  /** How agent skills are invoked (default `claude -p`, prompt on stdin). */
  agent?: AgentCommand;
  /** Handed to skill factories. */
  context: SkillContext;
}

/** One source that failed to load; the others still load. */
export interface LoadProblem {
  source: string;
  message: string;
}

export interface LoadReport {
  skills: Skill[];
  /** Which source each loaded skill came from (skill name -> file/package). */
  sources: Map<string, string>;
  problems: LoadProblem[];
}

const MODULE_EXT = /\.(ts|mts|js|mjs)$/;
// A new query string per load makes import() fetch the file again instead of the cached module.
let generation = 0;

/** Imports one module (file path, directory or package name) and returns the skills its default export gives. */
export async function loadSkillModule(specifier: string, context: SkillContext): Promise<Skill[]> {
  let url: string;
  if (isAbsolute(specifier) || specifier.startsWith('.')) {
    const target = await moduleEntry(resolve(specifier));
    await ensureTypeScriptLoader(target);
    url = `${pathToFileURL(target).href}?skills-load=${++generation}`;
  } else {
    url = specifier; // a package name: resolved by Node from the crosstown installation
  }
  let mod: { default?: unknown };
  try {
    mod = (await import(url)) as { default?: unknown };
  } catch (error) {
    throw new SkillError('load_failed', `${specifier}: import failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  // A TypeScript skill Node takes for CommonJS (no `"type": "module"` above it) arrives compiled to CommonJS, its
  // exports under `default` with the __esModule mark: its own default export is one level down.
  const compiled = mod.default as { __esModule?: unknown; default?: unknown } | undefined;
  if (compiled?.__esModule === true && compiled.default !== undefined) mod = { default: compiled.default };
  if (mod.default === undefined) {
    throw new SkillError(
      'load_failed',
      `${specifier}: no default export; export default a skill, a (ctx) => skill factory, or an array`,
    );
  }
  return instantiate(mod.default as SkillExport, context, specifier);
}

/** A directory loads through its package.json `main`, else index.ts / index.js. */
async function moduleEntry(path: string): Promise<string> {
  if (!(await stat(path)).isDirectory()) return path;
  const pkgPath = join(path, 'package.json');
  if (existsSync(pkgPath)) {
    const pkg = JSON.parse(await readFile(pkgPath, 'utf8')) as { main?: string };
    if (pkg.main) return join(path, pkg.main);
  }
  for (const name of ['index.ts', 'index.mts', 'index.js', 'index.mjs']) {
    if (existsSync(join(path, name))) return join(path, name);
  }
  throw new SkillError(
    'load_failed',
    `${path}: a skill directory needs package.json "main" or an index.ts/index.js`,
  );
}

async function instantiate(exported: SkillExport, context: SkillContext, source: string): Promise<Skill[]> {
  const items = Array.isArray(exported) ? exported : [exported];
  const out: Skill[] = [];
  for (const item of items) {
    const skill = typeof item === 'function' ? await (item as (ctx: SkillContext) => unknown)(context) : item;
    if (!isSkill(skill)) {
      throw new SkillError(
        'load_failed',
        `${source}: exports something that is not a skill (needs name, supportedEventKinds(), handleToon())`,
      );
    }
    out.push(skill);
  }
  return out;
}

/** Loads every configured source. Never throws for a broken source: it goes into `problems`. */
export async function loadSkills(options: LoadOptions): Promise<LoadReport> {
  const report: LoadReport = { skills: [], sources: new Map(), problems: [] };
  const add = (skills: Skill[], source: string): void => {
    for (const s of skills) {
      report.skills.push(s);
      report.sources.set(s.name, source);
    }
  };
  const attempt = async (source: string, load: () => Promise<Skill[]>): Promise<void> => {
    try {
      add(await load(), source);
    } catch (error) {
      report.problems.push({ source, message: (error as Error).message });
    }
  };
  // A relative skills directory is a folder under the current directory, never a package name.
  const skillsDir = options.skillsDir ? resolve(options.skillsDir) : undefined;
  if (skillsDir && existsSync(skillsDir)) {
    for (const entry of (await readdir(skillsDir, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      // Tests next to skills (`*.test.ts`) and type declarations are not skills.
      if (entry.isFile() && (!MODULE_EXT.test(entry.name) || /\.(test|spec|d)\.[mc]?[tj]s$/.test(entry.name)))
        continue;
      const path = join(skillsDir, entry.name);
      await attempt(path, () => loadSkillModule(path, options.context));
    }
  }
  for (const pkg of options.packages ?? []) await attempt(pkg, () => loadSkillModule(pkg, options.context));
  if (options.agentDir && existsSync(options.agentDir)) {
    for (const name of (await readdir(options.agentDir)).filter((n) => n.endsWith('.md')).sort()) {
      const path = join(options.agentDir, name);
      await attempt(path, async () => [await loadAgentSkillFile(path, options.agent)]);
    }
  }
  return report;
}

/**
 * Builds a registry from built-in skills plus loaded ones. Skills that conflict (same name, same kind at
 * the same priority) are left out and reported, so one bad skill file cannot stop the others.
 */
export function buildRegistry(
  base: readonly Skill[],
  report: LoadReport,
): { registry: SkillRegistry; problems: LoadProblem[] } {
  const { registry, leftOut } = registryWith(base, report.skills);
  const problems = [
    ...report.problems,
    ...leftOut.map(({ skill, message }) => ({
      source: report.sources.get(skill.name) ?? skill.name,
      message,
    })),
  ];
  return { registry, problems };
}

export interface WatchOptions extends LoadOptions {
  /** Built-in skills every registry starts with. */
  baseSkills?: readonly Skill[];
  /** Quiet period after the last change before reloading (default 200 ms). */
  debounceMs?: number;
  /** Gets each new registry (swap it in with pipeline.setRegistry) and what failed to load. */
  onReload: (registry: SkillRegistry, problems: LoadProblem[]) => void;
  logger?: SkillLogger;
}

export interface SkillWatcher {
  /** Resolves after the current reload (if any) is done. */
  reload(): Promise<void>;
  close(): void;
}

/**
 * Loads now, then reloads whenever the skills or agent directory changes (fs.watch, debounced). Each reload
 * builds a complete new registry and hands it over in one call: the pipeline never sees half a reload.
 */
export async function watchSkills(options: WatchOptions): Promise<SkillWatcher> {
  const debounceMs = options.debounceMs ?? 200;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let closed = false;
  const doReload = async (): Promise<void> => {
    const report = await loadSkills(options);
    const { registry, problems } = buildRegistry(options.baseSkills ?? [], report);
    for (const p of problems) options.logger?.error(`skill not loaded: ${p.message}`, { source: p.source });
    if (!closed) options.onReload(registry, problems);
  };
  const reload = (): Promise<void> => {
    running = running.then(doReload, doReload);
    return running;
  };
  await reload();
  const watchers: FSWatcher[] = [];
  for (const dir of [options.skillsDir && resolve(options.skillsDir), options.agentDir]) {
    if (!dir || !existsSync(dir)) continue;
    const w = watch(dir, { recursive: false }, () => {
      clearTimeout(timer);
      timer = setTimeout(
        () => void reload().catch((e) => options.logger?.error(`skill reload failed: ${String(e)}`)),
        debounceMs,
      );
    });
    w.on('error', (e) => options.logger?.error(`watching ${dir} failed: ${e.message}`));
    watchers.push(w);
  }
  return {
    reload,
    close() {
      closed = true;
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
