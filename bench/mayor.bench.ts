// Mayor runtime: (1) loading 1,000 active job correlations (open the state repo + look each one up as the
// result router does), (2) state commits under 100 transitions/s offered for 3 s (the Mayor never waits on
// git; we measure how far durability (fsynced files) and the git commit lag), (3) post -> FULFILL latency on a
// real devnet: the PREPARE round trip alone and the whole postJob (which first makes the request durable).
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevnet } from '../src/devnet/index.js';
import { resolveConfig } from '../src/mayor/config/index.js';
import { startMayor } from '../src/mayor/runtime/index.js';
import { openStateRepo } from '../src/mayor/state/index.js';
import { finalizeEvent } from '../src/nostr/index.js';
import { encodeEventBytes } from '../src/toon/index.js';

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const ms = (x: number) => `${x.toFixed(2)} ms`;

async function correlations(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mayor-bench-'));
  try {
    const repo = await openStateRepo({ dir: join(dir, 'state') });
    const ids: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const id = i.toString(16).padStart(64, '0');
      ids.push(id);
      repo.jobs.put({
        id,
        status: 'posting',
        kind: 5065,
        jobType: 'ci-cd-linux',
        callbackSkill: 'ci-cd-callback',
      });
      repo.jobs.put({ id, status: 'posted', price: 8_750_000_000_000_000n, bid: 10n ** 16n });
    }
    await repo.close();
    const t0 = performance.now();
    const again = await openStateRepo({ dir: join(dir, 'state') });
    const opened = performance.now();
    let found = 0;
    for (const id of ids) if (again.jobs.get(id)?.callbackSkill) found++;
    const pending = again.jobs.pending().length;
    const t1 = performance.now();
    console.log(
      `1,000 correlations: open ${ms(opened - t0)}, lookups + pending scan ${ms(t1 - opened)}, total ${ms(t1 - t0)} (target < 1000 ms) — ${found} found, ${pending} pending`,
    );
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function commits(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mayor-bench-'));
  try {
    const repo = await openStateRepo({ dir: join(dir, 'state') });
    const rate = 100;
    const seconds = 3;
    const lags: number[] = [];
    const durableLags: number[] = [];
    let maxPending = 0;
    const start = performance.now();
    for (let i = 0; i < rate * seconds; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const id = `b${i}`;
      const at = performance.now();
      repo.jobs.put({ id, status: 'posting', kind: 5065, jobType: 'ci-cd-linux', callbackSkill: 'cb' });
      void repo.durable().then(() => durableLags.push(performance.now() - at));
      void repo.flush().then(() => lags.push(performance.now() - at));
      maxPending = Math.max(maxPending, repo.stats().pending);
    }
    await repo.flush();
    const elapsed = (performance.now() - start) / 1000;
    const s = repo.stats();
    console.log(
      `state commits at ${rate} transitions/s offered for ${seconds} s: ${(s.changes / elapsed).toFixed(0)} committed/s, ` +
        `${s.commits} commits (mean batch ${s.meanBatchSize.toFixed(1)}), put->durable (fsynced) p50 ${ms(pct(durableLags, 0.5))} p99 ${ms(pct(durableLags, 0.99))}, ` +
        `put->committed p50 ${ms(pct(lags, 0.5))} p99 ${ms(pct(lags, 0.99))}, max backlog ${maxPending}`,
    );
    await repo.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function latency(): Promise<void> {
  const devnet = await startDevnet({ mayors: ['alpha'] });
  const home = mkdtempSync(join(tmpdir(), 'mayor-bench-'));
  try {
    const alpha = devnet.mayors.alpha!;
    const config = resolveConfig({
      env: {
        CROSSTOWN_HOME: home,
        CROSSTOWN_RELAY_URL: devnet.relayUrl,
        GASTOWN_BASE_SEPOLIA_RPC: devnet.rpcUrl,
        CROSSTOWN_DEFAULT_DEPOSIT: '50',
      },
    }).values;
    const sk = new Uint8Array(Buffer.from(alpha.nostrSecretKey.slice(2), 'hex'));
    const mayor = await startMayor({
      config,
      walletKey: alpha.walletPrivateKey,
      nostrSecretKey: sk,
      nodePubkey: devnet.node.pubkey,
      logger: { debug() {}, info() {}, warn() {}, error: (m) => console.error(m) },
    });
    const att = mayor.attachment()!;
    const n = 200;
    const round: number[] = [];
    for (let i = 0; i < n; i++) {
      const ev = finalizeEvent({ kind: 5065, tags: [['t', 'bench']], content: `bench ${i}` }, sk);
      const data = encodeEventBytes(ev);
      const t = performance.now();
      const { reply } = await att.writeToRelay(data);
      round.push(performance.now() - t);
      if (reply.type !== 13) throw new Error(`write refused: ${JSON.stringify(reply)}`);
    }
    const whole: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      await mayor.postJob({ jobType: 'ci-cd-linux', params: { run: String(i) }, bid: 10n ** 16n });
      whole.push(performance.now() - t);
    }
    console.log(
      `PREPARE -> FULFILL on the devnet (Mayor -> BTP -> connector -> relay gate), ${n} writes: p50 ${ms(pct(round, 0.5))} p99 ${ms(pct(round, 0.99))} (target p50 < 5 ms: ${pct(round, 0.5) < 5 ? 'MET' : 'NOT MET'}; load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores)`,
    );
    console.log(
      `postJob (sign, TOON, durable request, PREPARE -> FULFILL), 50 jobs: p50 ${ms(pct(whole, 0.5))} p99 ${ms(pct(whole, 0.99))}`,
    );
    await mayor.stop();
  } finally {
    await devnet.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  await correlations();
  await commits();
  await latency();
}
