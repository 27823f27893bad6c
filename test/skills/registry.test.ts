import { describe, expect, it } from 'vitest';
import { kindRange, parseKindList } from '../../src/skills/kinds.js';
import { SkillRegistry } from '../../src/skills/registry.js';
import type { Skill } from '../../src/skills/types.js';
import { buildSignedToonEvent, signTestEvent } from '../../src/testing/index.js';
import { encodeEventBytes } from '../../src/toon/index.js';

function skill(name: string, kinds: number[], priority?: number): Skill {
  return {
    name,
    ...(priority !== undefined && { priority }),
    supportedEventKinds: () => kinds,
    handleToon: async () => ({ status: 'handled' }),
  };
}

describe('kinds', () => {
  it('kindRange expands inclusive ranges and refuses bad ones', () => {
    expect(kindRange(5000, 5999)).toHaveLength(1000);
    expect(kindRange(7, 7)).toEqual([7]);
    expect(() => kindRange(10, 9)).toThrow(/kind range 10-9/);
    expect(() => kindRange(0, 70000)).toThrow(/65535/);
  });

  it('parseKindList reads numbers and ranges as written in agent files', () => {
    expect(parseKindList('[1, 5065]')).toEqual([1, 5065]);
    expect(parseKindList('[7000, 6000-6002, 1]')).toEqual([1, 6000, 6001, 6002, 7000]);
    expect(() => parseKindList('[1, x]')).toThrow(/"x"/);
    expect(() => parseKindList('[]')).toThrow(/empty/);
  });
});

describe('SkillRegistry', () => {
  it('maps kinds to skills, including ranges', () => {
    const reg = new SkillRegistry([skill('jobs', kindRange(5000, 5999)), skill('notes', [1])]);
    expect(reg.lookup(5065)?.name).toBe('jobs');
    expect(reg.lookup(5999)?.name).toBe('jobs');
    expect(reg.lookup(6000)).toBeUndefined();
    expect(reg.lookup(1)?.name).toBe('notes');
    expect(reg.table().get(1)).toBe('notes');
  });

  it('two skills on one kind at the same priority is a configuration error naming both', () => {
    const reg = new SkillRegistry([skill('first', [1, 2])]);
    expect(() => reg.register(skill('second', [3, 2]))).toThrow(
      /"first" and "second" both handle kind 2 at priority 0/,
    );
    // Atomic: the failed registration left nothing behind, not even kind 3.
    expect(reg.lookup(3)).toBeUndefined();
    expect(reg.get('second')).toBeUndefined();
  });

  it('the higher priority wins whatever the registration order', () => {
    for (const order of [
      ['low', 'high'],
      ['high', 'low'],
    ]) {
      const skills = { low: skill('low', [1, 2], 0), high: skill('high', [2], 10) };
      const reg = new SkillRegistry(order.map((n) => skills[n as 'low' | 'high']));
      expect(reg.lookup(2)?.name).toBe('high');
      expect(reg.lookup(1)?.name).toBe('low');
    }
  });

  it('refuses duplicate names, bad kinds and non-skills', () => {
    const reg = new SkillRegistry([skill('a', [1])]);
    expect(() => reg.register(skill('a', [2]))).toThrow(/two skills are named "a"/);
    expect(() => reg.register(skill('b', [70000]))).toThrow(/kind 70000/);
    expect(() => reg.register(skill('c', [1.5]))).toThrow(/kind 1.5/);
    expect(() => reg.register({ name: 'x' } as unknown as Skill)).toThrow(/not a skill/);
    expect(() => reg.register(skill('bad name!', [3]))).toThrow(/skill name/);
  });

  it('routes a raw TOON payload by its kind without needing a decode', () => {
    const reg = new SkillRegistry([skill('notes', [1]), skill('jobs', kindRange(5000, 5999))]);
    expect(reg.route(buildSignedToonEvent({ kind: 5065, tags: [], content: 'x' })).skill?.name).toBe('jobs');
    const route = reg.route(buildSignedToonEvent({ kind: 30023, tags: [], content: 'x' }));
    expect(route).toEqual({ kind: 30023 });
    expect(() => reg.route(new TextEncoder().encode('not: toon\nat: all'))).toThrow(/kind/);
  });

  it('a correlated result goes to the callback skill instead of the kind route', () => {
    const reg = new SkillRegistry([
      skill('generic-results', kindRange(6000, 6999)),
      skill('deploy-callback', []),
    ]);
    const jobId = 'a'.repeat(64);
    const result = signTestEvent({
      kind: 6065,
      tags: [
        ['e', jobId],
        ['p', 'b'.repeat(64)],
      ],
      content: '',
    });
    const payload = encodeEventBytes(result);
    const correlate = (id: string) =>
      id === jobId ? { jobId, callbackSkill: 'deploy-callback', chainId: 'c1' } : undefined;
    const routed = reg.route(payload, { correlate });
    expect(routed.skill?.name).toBe('deploy-callback');
    expect(routed.correlation).toEqual({ jobId, callbackSkill: 'deploy-callback', chainId: 'c1' });
    expect(routed.eventId).toBe(result.id);
    // Not our job: the kind route.
    expect(reg.route(payload, { correlate: () => undefined }).skill?.name).toBe('generic-results');
    // Correlated to a skill that is not loaded: fall back to the kind route rather than drop it.
    expect(reg.route(payload, { correlate: () => ({ jobId, callbackSkill: 'gone' }) }).skill?.name).toBe(
      'generic-results',
    );
  });

  it('feedback on our job keeps its kind route and carries the correlation', () => {
    const reg = new SkillRegistry([skill('feedback', [7000]), skill('deploy-callback', [])]);
    const jobId = 'a'.repeat(64);
    const fb = encodeEventBytes(
      signTestEvent({
        kind: 7000,
        tags: [
          ['status', 'processing'],
          ['e', jobId],
        ],
        content: '',
      }),
    );
    const routed = reg.route(fb, { correlate: () => ({ jobId, callbackSkill: 'deploy-callback' }) });
    expect(routed.skill?.name).toBe('feedback');
    expect(routed.correlation?.callbackSkill).toBe('deploy-callback');
  });
});
