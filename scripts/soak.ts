// `npm run soak`: exactly once under random SIGKILLs (issue 15). A devnet (anvil + node), a provider stand-in,
// and the requester Mayor as a child process fed a stream of jobs while it is SIGKILLed at random moments
// (a fixed seed, so a failing run can be replayed) and restarted. At the end it prints the tally and checks:
// every job routed exactly once or failed with a reason; the provider paid exactly once per served job; the
// node's books, the Mayor's audit and the provider's earnings agree to the base unit. Exit code 1 on a breach.
//
//   npm run soak                      # 100 jobs, 8 kills, seed 15
//   npm run soak -- --jobs 5 --kills 1 --seed 7 --format json
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDevnet } from '../src/devnet/index.js';
import type { MayorChild } from '../test/mayor/runtime/child.js';
import { startStandin } from '../test/mayor/runtime/helpers.js';
import { hasJob, jobFile, makeHome, postCommand, routes, startHome } from '../test/mayor/runtime/home.js';

const AMOUNT = 10n ** 15n;
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const JOBS = Number(arg('jobs', '100'));
const KILLS = Number(arg('kills', '8'));
const SEED = Number(arg('seed', '15'));
const JSON_OUT = arg('format', 'text') === 'json';
if (!Number.isSafeInteger(JOBS) || JOBS < 1 || !Number.isSafeInteger(KILLS) || KILLS < 0) {
  console.error('usage: npm run soak -- [--jobs N>=1] [--kills K>=0] [--seed S] [--format text|json]');
  process.exit(2);
}

/** mulberry32: a small seeded PRNG, so the kill schedule repeats for a seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const log = (m: string) => {
  if (!JSON_OUT) console.error(m);
};

async function main(): Promise<number> {
  const random = prng(SEED);
  const started = Date.now();
  const devnet = await startDevnet({ mayors: ['beta', 'alpha'] });
  const provider = await startStandin(devnet, devnet.mayors.beta!, AMOUNT);
  let child: MayorChild | undefined;
  try {
    const home = await makeHome(devnet, 'alpha', { idempotentSkill: true });
    // Kill points: after job number k is sent, SIGKILL after a random delay (0-2 s): whatever the Mayor was
    // doing (posting, routing, paying, claiming) is interrupted.
    const killAfter = new Set<number>();
    while (killAfter.size < Math.min(KILLS, JOBS)) killAfter.add(1 + Math.floor(random() * JOBS));
    const start = async () => {
      const t0 = Date.now();
      child = startHome(home);
      await child
        .waitFor((e) => 'ready' in e, 300_000, 'ready')
        .catch((err) => {
          const statuses: Record<string, number> = {};
          for (const f of readdirSync(join(home.stateDir, 'jobs'))) {
            const st = jobFile(home, f.replace(/\.json$/, '')).status;
            statuses[st] = (statuses[st] ?? 0) + 1;
          }
          throw new Error(
            `${(err as Error).message}\njobs: ${JSON.stringify(statuses)}\nlog tail: ${home.logs.join('').slice(-2000)}`,
          );
        });
      log(`Mayor ready in ${Date.now() - t0} ms`);
    };
    await start();
    let kills = 0;
    for (let n = 1; n <= JOBS; n++) {
      // One job at a time is handed over (a command queued in a killed process's stdin is not a job); results,
      // routing and payments of earlier jobs keep running while later ones are posted, and a kill cuts into them.
      const acks = () => child!.events.filter((e) => 'posted' in e || 'error' in e).length;
      const before = acks();
      child!.send(postCommand(10n * AMOUNT));
      await child!.waitFor(() => acks() > before, 120_000, `job ${n} accepted`);
      if (killAfter.has(n)) {
        await new Promise((r) => setTimeout(r, random() * 2000));
        await child!.kill();
        kills++;
        log(`kill ${kills} after job ${n}`);
        await start();
      }
    }
    // Let everything settle: every job the Mayor recorded ends paid or failed.
    const jobsDir = join(home.stateDir, 'jobs');
    const ids = () => readdirSync(jobsDir).map((f) => f.replace(/\.json$/, ''));
    const final = (id: string) => ['paid', 'failed', 'cancelled'].includes(jobFile(home, id).status);
    const deadline = Date.now() + 60_000 + JOBS * 2_000;
    while (Date.now() < deadline && !ids().every((id) => hasJob(home, id) && final(id)))
      await new Promise((r) => setTimeout(r, 250));
    await new Promise((r) => setTimeout(r, 1000));
    await child!.stop();
    child = undefined;

    // Tally.
    const all = ids();
    const routedCount = new Map<string, number>();
    for (const id of routes(home)) routedCount.set(id, (routedCount.get(id) ?? 0) + 1);
    const breaches: string[] = [];
    let paid = 0;
    let failed = 0;
    let writeFees = 0n;
    for (const id of all) {
      const j = jobFile(home, id);
      const r = routedCount.get(id) ?? 0;
      const p = provider.paymentsByJob.get(id) ?? 0;
      if (j.price) writeFees += BigInt(j.price);
      if (j.status === 'paid') {
        paid++;
        if (r !== 1) breaches.push(`${id}: routed ${r} times`);
        if (p !== 1) breaches.push(`${id}: provider paid ${p} times`);
      } else if (j.status === 'failed') {
        failed++;
        if (!j.error) breaches.push(`${id}: failed without a reason`);
        if (r > 1 || p > 0) breaches.push(`${id}: failed but routed ${r} / paid ${p} times`);
      } else breaches.push(`${id}: left ${j.status}`);
    }
    const peer = devnet.mayors.alpha!.nostrPubkey.slice(0, 16);
    const b = devnet.runningNode!.connector.balance(peer);
    const nodeBooks = b.owedByPeer + b.paidByPeer;
    let auditOut = 0n;
    for (const f of readdirSync(home.stateDir).filter((x) => /^payment_log.*\.jsonl$/.test(x))) {
      for (const line of readFileSync(join(home.stateDir, f), 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const e = JSON.parse(line) as { direction: string; status: string; amount: string };
        if (e.direction === 'out' && e.status === 'fulfilled') auditOut += BigInt(e.amount);
      }
    }
    const earnings = provider.paidBy.get(devnet.mayors.alpha!.nostrPubkey) ?? 0n;
    if (earnings !== AMOUNT * BigInt(paid))
      breaches.push(`provider earned ${earnings}, expected ${AMOUNT * BigInt(paid)} (${paid} paid jobs)`);
    if (nodeBooks !== writeFees + earnings)
      breaches.push(`node books ${nodeBooks} != write fees ${writeFees} + provider payments ${earnings}`);
    if (auditOut !== nodeBooks) breaches.push(`Mayor audit ${auditOut} != node books ${nodeBooks}`);
    const tally = {
      seed: SEED,
      jobsSent: JOBS,
      jobsRecorded: all.length,
      kills,
      paid,
      failed,
      routedOnce: [...routedCount.values()].filter((c) => c === 1).length,
      routedTwice: [...routedCount.values()].filter((c) => c > 1).length,
      providerPayments: [...provider.paymentsByJob.values()].reduce((a, c) => a + c, 0),
      duplicatePaymentsRefused: provider.spsp.duplicatesRefused,
      nodeBooks: nodeBooks.toString(),
      auditOut: auditOut.toString(),
      writeFees: writeFees.toString(),
      providerEarnings: earnings.toString(),
      seconds: Math.round((Date.now() - started) / 1000),
      breaches,
    };
    if (JSON_OUT) console.log(JSON.stringify(tally));
    else {
      console.log(
        `soak seed ${SEED}: ${JOBS} jobs sent, ${all.length} recorded, ${kills} SIGKILLs in ${tally.seconds} s`,
      );
      console.log(
        `  paid ${paid}, failed ${failed}; routed once ${tally.routedOnce}, twice ${tally.routedTwice}`,
      );
      console.log(
        `  provider payments ${tally.providerPayments} (second payments refused: ${tally.duplicatePaymentsRefused})`,
      );
      console.log(
        `  node books ${nodeBooks} = write fees ${writeFees} + provider ${earnings}; audit ${auditOut}`,
      );
      console.log(
        breaches.length === 0 ? '  OK: exactly once' : `  BREACHES:\n    ${breaches.join('\n    ')}`,
      );
    }
    return breaches.length === 0 ? 0 : 1;
  } finally {
    await child?.kill().catch(() => {});
    await provider.stop().catch(() => {});
    await devnet.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`soak: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
