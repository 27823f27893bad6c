import { decodeEvent, peekKind } from '../toon/index.js';
import { SkillError } from './errors.js';
import { isKind } from './kinds.js';
import type { JobCorrelation, Skill } from './types.js';

/** Where a payload goes. `skill` is undefined when nothing handles the kind. */
export interface Route {
  kind: number;
  skill?: Skill;
  /** Set when the payload answers one of our jobs (the job table knew its `e` tag). */
  correlation?: JobCorrelation;
  /** Known when routing had to decode the event (correlated kinds only). */
  eventId?: string;
}

export interface RouteOptions {
  /**
   * The Mayor's job table: job id -> callback skill. Consulted for results (6000-6999), which then go to the
   * callback skill, and feedback (7000), which keeps its kind route but gets the correlation attached.
   */
  correlate?: (jobId: string) => JobCorrelation | undefined;
}

/** Results and feedback reference a job with an `e` tag; only these kinds are looked up in the job table. */
export function isCorrelatedKind(kind: number): boolean {
  return (kind >= 6000 && kind <= 6999) || kind === 7000;
}

/**
 * Kind -> skill. Each kind has one winner: when several skills claim it, the highest `priority` wins
 * (default 0); two claimants sharing the top priority are a configuration error naming both, raised by
 * `register`, so a misconfiguration is found at start, not when the first event arrives.
 */
export class SkillRegistry {
  readonly #byKind = new Map<number, Skill[]>();
  readonly #byName = new Map<string, Skill>();

  constructor(skills: Iterable<Skill> = []) {
    for (const skill of skills) this.register(skill);
  }

  /** Adds a skill. Atomic: on error nothing was registered. */
  register(skill: Skill): this {
    assertSkill(skill);
    if (this.#byName.has(skill.name)) {
      throw new SkillError(
        'duplicate_name',
        `two skills are named "${skill.name}"; skill names must be unique`,
      );
    }
    const kinds = [...new Set(skill.supportedEventKinds())];
    const priority = skill.priority ?? 0;
    for (const kind of kinds) {
      if (!isKind(kind)) {
        throw new SkillError(
          'invalid_skill',
          `skill "${skill.name}" declares kind ${String(kind)}; kinds are integers 0-65535`,
        );
      }
      const top = this.#byKind.get(kind)?.[0];
      if (top && (top.priority ?? 0) === priority) {
        throw new SkillError(
          'kind_conflict',
          `skills "${top.name}" and "${skill.name}" both handle kind ${kind} at priority ${priority}; ` +
            'remove one, or give the one that should win a higher priority',
        );
      }
    }
    for (const kind of kinds) {
      const list = this.#byKind.get(kind) ?? [];
      list.push(skill);
      list.sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0));
      this.#byKind.set(kind, list);
    }
    this.#byName.set(skill.name, skill);
    return this;
  }

  /** The winning skill for `kind`. */
  lookup(kind: number): Skill | undefined {
    return this.#byKind.get(kind)?.[0];
  }

  get(name: string): Skill | undefined {
    return this.#byName.get(name);
  }

  list(): Skill[] {
    return [...this.#byName.values()];
  }

  /** kind -> winning skill name, for status displays. */
  table(): Map<number, string> {
    const out = new Map<number, string>();
    for (const [kind, list] of [...this.#byKind].sort((a, b) => a[0] - b[0])) out.set(kind, list[0]!.name);
    return out;
  }

  /**
   * Picks the skill for a raw TOON payload. The kind comes from `peekKind`, without decoding. Only for a
   * result or feedback kind, and only when a job table is given, is the event decoded to read its `e` tag:
   * a job we posted routes to its callback skill whatever its kind says. Throws ToonError when the payload
   * has no readable kind.
   */
  route(payload: Uint8Array | string, options: RouteOptions = {}): Route {
    const kind = peekKind(payload);
    if (options.correlate && isCorrelatedKind(kind)) {
      const event = decodeEvent(payload);
      const jobId = event.tags.find((t) => t[0] === 'e')?.[1];
      const correlation = jobId === undefined ? undefined : options.correlate(jobId);
      // Results go to the job's callback skill; feedback (7000) keeps its kind route but carries the
      // correlation, since a callback written for results cannot parse feedback.
      const callback = correlation && kind !== 7000 ? this.get(correlation.callbackSkill) : undefined;
      if (correlation && callback) return { kind, skill: callback, correlation, eventId: event.id };
      const skill = this.lookup(kind);
      const route: Route = { kind, eventId: event.id };
      if (skill) route.skill = skill;
      if (correlation) route.correlation = correlation;
      return route;
    }
    const skill = this.lookup(kind);
    return skill ? { kind, skill } : { kind };
  }
}

export function isSkill(x: unknown): x is Skill {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as Partial<Skill>;
  return (
    typeof s.name === 'string' &&
    typeof s.supportedEventKinds === 'function' &&
    typeof s.handleToon === 'function'
  );
}

function assertSkill(x: unknown): asserts x is Skill {
  if (!isSkill(x)) {
    throw new SkillError(
      'invalid_skill',
      'not a skill: expected an object with name (string), supportedEventKinds() and handleToon()',
    );
  }
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(x.name)) {
    throw new SkillError(
      'invalid_skill',
      `skill name "${x.name}" must be letters, digits, dots, dashes or underscores`,
    );
  }
  if (x.priority !== undefined && !Number.isFinite(x.priority)) {
    throw new SkillError('invalid_skill', `skill "${x.name}" priority must be a finite number`);
  }
}

/** A skill `registryWith` left out, and why. */
export interface LeftOutSkill {
  skill: Skill;
  message: string;
}

/**
 * The base (built-in) skills, then the others one by one: one that conflicts with what is already registered
 * (same name, or a kind at the same priority) is left out and reported, so a bad skill never stops the Mayor.
 */
export function registryWith(
  base: readonly Skill[],
  extra: readonly Skill[],
): { registry: SkillRegistry; leftOut: LeftOutSkill[] } {
  const registry = new SkillRegistry(base);
  const leftOut: LeftOutSkill[] = [];
  for (const skill of extra) {
    try {
      registry.register(skill);
    } catch (error) {
      leftOut.push({ skill, message: (error as Error).message });
    }
  }
  return { registry, leftOut };
}
