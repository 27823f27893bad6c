// Skills: routing throughput on ~2 KB TOON payloads. route() = peekKind + registry lookup, against a
// baseline that decodes the whole event first (what routing would cost without peekKind), plus a full
// pipeline dispatch to a trivial skill (runner, timeout timer, metadata) and a correlated result route.
import { buildJobRequest } from '../src/nostr/nip90.js';
import { builtinSkills } from '../src/skills/builtins.js';
import { SkillPipeline } from '../src/skills/pipeline.js';
import { SkillRegistry } from '../src/skills/registry.js';
import type { Skill } from '../src/skills/types.js';
import { buildSignedToonEvent, testContext } from '../src/testing/index.js';
import { decodeEvent, peekKind } from '../src/toon/index.js';
import { formatNs, timeIt } from './stats.js';

function payloadOfAbout2KB(kind: number, tags: string[][] = []): Uint8Array {
  const base = buildSignedToonEvent({ kind, tags, content: '' }).length;
  return buildSignedToonEvent({ kind, tags, content: 'x'.repeat(Math.max(0, 2048 - base)) });
}

const perSecond = (ns: number): string => `${Math.round(1e9 / ns).toLocaleString('en-US')}/s`;

export async function run(): Promise<void> {
  const notes: Skill = {
    name: 'notes',
    supportedEventKinds: () => [1],
    handleToon: async () => ({ status: 'handled' }),
  };
  const registry = new SkillRegistry([...builtinSkills(), notes]);
  const job = payloadOfAbout2KB(
    5065,
    buildJobRequest({ jobType: 'ci-cd-linux', inputs: [], params: {}, relays: [], content: '' }).tags,
  );
  const note = payloadOfAbout2KB(1);
  const result = payloadOfAbout2KB(6065, [
    ['e', 'a'.repeat(64)],
    ['p', 'b'.repeat(64)],
  ]);
  if (registry.route(job).skill?.name !== 'job-request' || registry.route(note).skill?.name !== 'notes') {
    throw new Error('bench routing is wrong');
  }

  const route = timeIt(() => registry.route(job), { samples: 300, batch: 1000 });
  const baseline = timeIt(() => registry.lookup(decodeEvent(job).kind), {
    samples: 100,
    batch: 20,
    warmup: 500,
  });
  const peek = timeIt(() => peekKind(job), { samples: 300, batch: 1000 });
  const correlate = (id: string) =>
    id === 'a'.repeat(64) ? { jobId: id, callbackSkill: 'ci-cd-callback' } : undefined;
  const correlated = timeIt(() => registry.route(result, { correlate }), {
    samples: 100,
    batch: 20,
    warmup: 500,
  });

  const pipeline = new SkillPipeline({ registry, context: testContext() });
  const n = 20_000;
  for (let i = 0; i < 2000; i++) await pipeline.dispatch(note);
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await pipeline.dispatch(note);
  const dispatchNs = Number(process.hrtime.bigint() - started) / n;

  console.log(
    `payload: ${job.length} bytes TOON (kind 5065), registry of ${registry.list().length} skills / ${registry.table().size} kinds`,
  );
  console.log(
    `route (peekKind + lookup)   median ${formatNs(route.medianNs)}  p90 ${formatNs(route.p90Ns)}  ${perSecond(route.medianNs)}`,
  );
  console.log(`  of which peekKind         median ${formatNs(peek.medianNs)}`);
  console.log(
    `baseline decode + lookup    median ${formatNs(baseline.medianNs)}  ${perSecond(baseline.medianNs)}`,
  );
  console.log(`route / baseline            ${(baseline.medianNs / route.medianNs).toFixed(1)}x faster`);
  console.log(
    `correlated 6065 route       median ${formatNs(correlated.medianNs)}  ${perSecond(correlated.medianNs)} (decodes for the e tag)`,
  );
  console.log(
    `pipeline.dispatch (no-op)   mean ${formatNs(dispatchNs)}  ${perSecond(dispatchNs)} (sequential, await each)`,
  );
}
