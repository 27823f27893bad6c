// Journey 1 end to end on a real devnet (anvil, node with relay + connector, real git state): the Mayor posts
// a paid job, the provider stand-in answers with a signed result over the paid path, the result is routed to
// the callback skill exactly once, the provider is paid its amount, balances move by exactly the prices.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, startDevnet } from '../../src/devnet/index.js';
import { type Mayor, mayorDashboardSource, startMayor } from '../../src/mayor/runtime/index.js';
import {
  keyOf,
  mayorConfig,
  proxy,
  recordingSkill,
  type Standin,
  startStandin,
  waitFor,
} from './runtime/helpers.js';

let devnet: Devnet;
let provider: Standin;
const AMOUNT = 5n * 10n ** 15n; // 0.005 M2M asked by the provider

beforeAll(async () => {
  devnet = await startDevnet({ mayors: ['alpha', 'beta', 'gamma'] });
  provider = await startStandin(devnet, devnet.mayors.beta!, AMOUNT);
}, 60_000);

afterAll(async () => {
  await provider?.stop();
  await devnet?.stop();
});

describe('Journey 1: post a paid job, get the result, pay the provider', () => {
  let mayor: Mayor;
  afterAll(async () => mayor?.stop());

  it('posts, routes exactly once, pays the provider, and the money adds up', async () => {
    const alpha = devnet.mayors.alpha!;
    const skill = recordingSkill();
    mayor = await startMayor({
      config: mayorConfig(devnet),
      walletKey: alpha.walletPrivateKey,
      nostrSecretKey: keyOf(alpha),
      nodePubkey: devnet.node.pubkey,
      skills: [skill],
      logger: { debug() {}, info() {}, warn() {}, error: (m) => console.error(m) },
    });
    const source = mayorDashboardSource(mayor);
    const before = mayor.attachment()!.channel();
    const posted = await mayor.postJob({
      jobType: 'docker-build-amd64',
      inputs: [{ data: 'https://example.invalid/repo.git', type: 'url' }],
      params: { command: 'docker build .' },
      bid: 10n ** 16n,
      callbackSkill: skill.name,
    });
    expect(posted.status).toBe('posted');
    // The price is exactly bytes x basePricePerByte (0.00001 M2M per byte on the devnet).
    expect(posted.price).toBe(BigInt(posted.bytes) * 10n ** 13n);
    await mayor.settled([posted.jobId], 30_000);
    const job = mayor.state.jobs.get(posted.jobId)!;
    expect(job.status).toBe('paid');
    expect(job.history.map((h) => h.status)).toEqual([
      'posting',
      'posted',
      'result-received',
      'routed',
      'paid',
    ]);
    expect(job.amount).toBe(AMOUNT);
    expect(job.provider).toBe(provider.pubkey);
    expect(skill.routed).toEqual([posted.jobId]);

    // Money: the channel moved by exactly the write price plus the provider's amount; the node was paid
    // that by claims, and the provider received its amount (and the node's claim for it).
    await mayor.attachment()!.settle();
    const after = mayor.attachment()!.channel();
    expect(after.cumulative - before.cumulative).toBe(posted.price + AMOUNT);
    const peerId = mayor.attachment()!.spsp.ilpAddress.split('.').at(-1)!;
    expect(devnet.runningNode!.connector.balance(peerId)).toMatchObject({
      owedByPeer: 0n,
      paidByPeer: after.cumulative,
    });
    expect(provider.spsp.received).toBe(AMOUNT);
    await waitFor(() => provider.receiver.paid >= AMOUNT, 20_000, 'node claim to the provider');
    expect(provider.receiver.paid).toBe(AMOUNT);

    // Committed: the job file in git says paid, and the audit holds the write and the provider payment.
    await mayor.state.flush();
    const payments = await mayor.audit.list();
    expect(payments.filter((p) => p.jobId === posted.jobId).map((p) => p.amount)).toEqual([
      posted.price,
      AMOUNT,
    ]);
    // The relay holds exactly one copy of the job.
    const copies = await mayor.pool.query([{ ids: [posted.jobId] }]);
    expect(copies).toHaveLength(1);
    // The dashboard model shows the job with its result and the channel.
    await source.refresh!();
    const snap = source.snapshot();
    expect(snap.jobs.find((j) => j.id === posted.jobId)?.state).toBe('paid'); // the CLI's word (issue 16)
    expect(snap.channel?.spent).toBe(after.cumulative);
    expect(snap.relays[0]?.status).toBe('connected');
  }, 90_000);
});

describe('relay down', () => {
  it('keeps running in local mode, shows disconnected, reconnects and catches up', async () => {
    const gamma = devnet.mayors.gamma!;
    const p = await proxy(devnet.relayUrl);
    const skill = recordingSkill();
    const mayor = await startMayor({
      config: mayorConfig(devnet, [p.url()]),
      walletKey: gamma.walletPrivateKey,
      nostrSecretKey: keyOf(gamma),
      nodePubkey: devnet.node.pubkey,
      skills: [skill],
      backoff: { minMs: 100, maxMs: 500 },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    const source = mayorDashboardSource(mayor);
    try {
      provider.paused = true;
      const req = { jobType: 'ci-cd-linux', bid: 10n ** 16n, callbackSkill: skill.name };
      const a = await mayor.postJob(req);
      await p.down();
      await waitFor(() => mayor.status().relays[0]!.status !== 'connected', 5000, 'relay shown down');
      expect(mayor.status().localMode).toBe(true);
      await waitFor(() => source.snapshot().relays[0]!.status !== 'connected', 2000, 'dashboard shows it');
      // Still working: the paid path (BTP) does not need the relay's WebSocket.
      // The same request again within the same second is still a separate job (a distinct event id).
      const b = await mayor.postJob(req);
      expect(b.status).toBe('posted');
      expect(b.jobId).not.toBe(a.jobId);
      // The provider answers while our relay link is down: only a catch-up can bring the results.
      await provider.resume();
      await new Promise((r) => setTimeout(r, 300));
      expect(skill.routed).toEqual([]);
      await p.up();
      await mayor.settled([a.jobId, b.jobId], 30_000);
      expect(mayor.state.jobs.get(a.jobId)?.status).toBe('paid');
      expect(mayor.state.jobs.get(b.jobId)?.status).toBe('paid');
      expect(skill.routed.sort()).toEqual([a.jobId, b.jobId].sort());
      expect(mayor.status()).toMatchObject({ localMode: false });
      expect(mayor.status().relays[0]!.connects).toBeGreaterThanOrEqual(2);
    } finally {
      provider.paused = false;
      await mayor.stop();
      await p.down();
    }
  }, 90_000);
});
