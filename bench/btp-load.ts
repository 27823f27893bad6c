// The paying Mayor of `npm run bench connector` "node as shipped", in its own process: attaches to the node as a
// Mayor does (SPSP over Nostr, a payment channel, claims at the Mayor's default cadence: one after every FULFILL,
// coalesced), then times paid writes over BTP, 1 in flight and WINDOW in flight. Prints one JSON line.
// BENCH_MAYOR_STATE=1: it also keeps a state repository as a full Mayor does (its channel record, committed after each
// claim, and its record of what it pays for, payer-log.ts): the paying process's own costs, on the same 2 cores.
// Usage: node --import tsx bench/btp-load.ts '<json options>'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { conditionOf, deriveFulfillment, IlpPacketType, type IlpPrepare } from '../src/ilp/index.js';
import { attach } from '../src/mayor/runtime/attach.js';
import { RelayPool } from '../src/mayor/runtime/relay-pool.js';
import { openStateRepo } from '../src/mayor/state/index.js';
import { finalizeEvent, generateSecretKey } from '../src/nostr/index.js';
import { encodeEventBytes } from '../src/toon/index.js';

interface LoadOptions {
  relayUrl: string;
  nodePubkey: string;
  rpcUrl: string;
  walletKey: `0x${string}`;
  sequential: number;
  /** Untimed writes 1 in flight before the timed ones (default 100). */
  sequentialWarmup?: number;
  parallel: number;
  /** Writes at `window` in flight before the timed phase, not timed (JIT warm-up: steady state is measured). */
  warmup?: number;
  window: number;
  /** The node's pid: its CPU (per thread, from /proc) is read at each phase's start and end. */
  nodePid?: number;
}

/** utime + stime in clock ticks (1/100 s) of each thread of `pid`, by thread id. */
function threadTicks(pid: number | undefined): Map<string, number> {
  const ticks = new Map<string, number>();
  if (pid === undefined) return ticks;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks.set(tid, Number(fields[11]) + Number(fields[12]));
    } catch {
      // the thread ended meanwhile
    }
  }
  return ticks;
}

/** Voluntary context switches of all threads of `pid` (a thread that sleeps and is woken: one per hop). */
function switches(pid: number | undefined): number {
  if (pid === undefined) return 0;
  let sum = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const m = /voluntary_ctxt_switches:\s+(\d+)/.exec(
        readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'),
      );
      sum += Number(m?.[1] ?? 0);
    } catch {
      // the thread ended meanwhile
    }
  }
  return sum;
}

/** The node's CPU over a phase, in µs per write: all threads, its main thread, and the busiest other threads. */
function cpuPerWrite(before: Map<string, number>, after: Map<string, number>, writes: number) {
  const perWrite = (ticks: number) => Math.round((ticks * 1e4) / writes);
  const deltas = [...after].map(([tid, t]) => [tid, t - (before.get(tid) ?? 0)] as const);
  const total = deltas.reduce((sum, [, d]) => sum + d, 0);
  const main = deltas.find(([tid]) => tid === String(o.nodePid))?.[1] ?? 0;
  const others = deltas
    .filter(([tid, d]) => tid !== String(o.nodePid) && d > 0)
    .map(([, d]) => perWrite(d))
    .sort((a, b) => b - a);
  return { total: perWrite(total), main: perWrite(main), others };
}

const o = JSON.parse(process.argv[2]!) as LoadOptions;
const M2M = 10n ** 18n;
const sk = generateSecretKey();
const pool = new RelayPool({ urls: [o.relayUrl], secretKey: sk });
pool.start();
const stateDir = mkdtempSync(join(tmpdir(), 'crosstown-bench-mayor-'));
const state = process.env.BENCH_MAYOR_STATE === '1' ? await openStateRepo({ dir: stateDir }) : undefined;
const att = await attach({
  ...(state && { state }),
  pool,
  nostrSecretKey: sk,
  walletKey: o.walletKey,
  rpcUrl: o.rpcUrl,
  nodePubkey: o.nodePubkey,
  maxBasePricePerByte: M2M,
  deposit: 100n * M2M,
  maxDeposit: 1000n * M2M,
  onWarning: () => {},
});
// Claims sent during the timed phases: at the default cadence (after every FULFILL, coalesced) each costs the node a
// signature check and a commit, so the count per write explains much of its CPU per write.
let claimsSent = 0;
const sendClaim = att.btp.sendClaim.bind(att.btp);
att.btp.sendClaim = (msg) => {
  claimsSent++;
  return sendClaim(msg);
};
const secret = new Uint8Array(Buffer.from(att.spsp.sharedSecret, 'base64'));
const price = att.spsp.basePricePerByte;

let n = 0;
const nextWrite = (): Omit<IlpPrepare, 'type' | 'expiresAt'> => {
  const event = finalizeEvent(
    {
      kind: 5065,
      created_at: Math.floor(Date.now() / 1000),
      tags: [['t', 'ci-cd-linux']],
      content: `bench job ${n++}: run the tests of the sample repository and report`,
    },
    sk,
  );
  const data = encodeEventBytes(event);
  return {
    amount: BigInt(data.length) * price,
    executionCondition: conditionOf(deriveFulfillment(secret, data)),
    destination: att.spsp.destinationAccount,
    data,
  };
};
// Signed before timing: the figures are the node's, not this process's signing.
const writes = Array.from(
  { length: (o.sequentialWarmup ?? 100) + o.sequential + (o.warmup ?? 0) + o.parallel },
  nextWrite,
);
let next = 0;
const pay = async (): Promise<number> => {
  const w = writes[next++]!;
  const t0 = process.hrtime.bigint();
  const { reply } = await att.pay(w);
  if (reply.type !== IlpPacketType.Fulfill) throw new Error(`write rejected: ${reply.code} ${reply.message}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

// Untimed writes 1 in flight first (100, or `sequentialWarmup`): the 1-in-flight path (verification and commits on
// the node's main thread) reaches V8's optimizing tier before it is timed, as the 64-in-flight phase's warm-up does.
for (let i = 0; i < (o.sequentialWarmup ?? 100); i++) await pay();
const claimsBefore = claimsSent;
const lat: number[] = [];
const seqTicks0 = threadTicks(o.nodePid);
const seqSwitches0 = switches(o.nodePid);
const seqStart = process.hrtime.bigint();
/** Claims this process sent while each timed write was in flight. */
const claimsDuring: number[] = [];
for (let i = 0; i < o.sequential; i++) {
  const before = claimsSent;
  lat.push(await pay());
  claimsDuring.push(claimsSent - before);
}
// BENCH_LAT_FILE=<path>: each timed write's latency (ms) and the claims sent meanwhile, one write per line, to see
// what the slow ones have in common.
if (process.env.BENCH_LAT_FILE)
  writeFileSync(
    process.env.BENCH_LAT_FILE,
    lat.map((l, i) => `${l.toFixed(3)} ${claimsDuring[i]}\n`).join(''),
  );
// The phase's window on the monotonic clock (µs, as in V8's CPU profiles), to cut the profiles to it.
if (process.env.BENCH_CPU_PROF)
  process.stderr.write(
    `sequential phase (monotonic µs): ${seqStart / 1000n} ${process.hrtime.bigint() / 1000n}\n`,
  );
const sequentialCpu = {
  ...cpuPerWrite(seqTicks0, threadTicks(o.nodePid), o.sequential),
  switches: (switches(o.nodePid) - seqSwitches0) / o.sequential,
};
lat.sort((a, b) => a - b);
const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))]!;

const sequentialClaims = claimsSent - claimsBefore;
// Warm-up at the same window, untimed: the hot functions reach V8's optimizing tier before we measure.
const warmEnd = next + (o.warmup ?? 0);
await Promise.all(
  Array.from({ length: o.window }, async () => {
    while (next < warmEnd) await pay();
  }),
);
const claimsAfterWarmup = claimsSent;
const end = next + o.parallel;
const parTicks0 = threadTicks(o.nodePid);
const parSwitches0 = switches(o.nodePid);
const payerCpu0 = process.cpuUsage();
// BENCH_PHASES=1: say when the timed phase starts (to attach `perf record` to the node then).
if (process.env.BENCH_PHASES) process.stderr.write('parallel phase starts\n');
const t0 = process.hrtime.bigint();
// BENCH_SLICES=1: the timed phase's writes/s per slice of 250 writes, to see stalls (checkpoints, GC, claims).
const doneAt: bigint[] = [];
await Promise.all(
  Array.from({ length: o.window }, async () => {
    while (next < end) {
      await pay();
      doneAt.push(process.hrtime.bigint());
    }
  }),
);
const t1 = process.hrtime.bigint();
if (process.env.BENCH_SLICES) {
  const slices: number[] = [];
  for (let i = 250, prev = t0; i <= doneAt.length; i += 250) {
    slices.push(Math.round(250 / (Number(doneAt[i - 1]! - prev) / 1e9)));
    prev = doneAt[i - 1]!;
  }
  process.stderr.write(`writes/s per 250 writes: ${slices.join(' ')}\n`);
}
const secs = Number(t1 - t0) / 1e9;
// The phase's window on the monotonic clock (µs, as in V8's CPU profiles), to cut the profiles to it.
if (process.env.BENCH_CPU_PROF)
  process.stderr.write(`parallel phase (monotonic µs): ${t0 / 1000n} ${t1 / 1000n}\n`);
const parTicks1 = threadTicks(o.nodePid);
// BENCH_THREADS=1: every thread's CPU in the timed phase, µs per write, in thread-id (creation) order.
if (process.env.BENCH_THREADS)
  process.stderr.write(
    `threads: ${[...parTicks1].map(([tid, t]) => `${tid}:${Math.round(((t - (parTicks0.get(tid) ?? 0)) * 1e4) / o.parallel)}`).join(' ')}\n`,
  );
const parallelCpu = {
  ...cpuPerWrite(parTicks0, parTicks1, o.parallel),
  switches: (switches(o.nodePid) - parSwitches0) / o.parallel,
};
const payerCpu = process.cpuUsage(payerCpu0);
// This process shares the 2 cores with the node: its CPU per write bounds the run's writes/s too.
const payerCpuPerWrite = Math.round((payerCpu.user + payerCpu.system) / o.parallel);
const parallelClaims = claimsSent - claimsAfterWarmup;
await att.settle();
process.stdout.write(
  `${JSON.stringify({ p50: pct(0.5), p99: pct(0.99), rate: o.parallel / secs, cumulative: String(att.claims.cumulative), sequentialClaims, parallelClaims, sequentialCpu, parallelCpu, payerCpuPerWrite })}\n`,
);
await att.detach();
await pool.close();
await state?.close();
rmSync(stateDir, { recursive: true, force: true });
process.exit(0);
