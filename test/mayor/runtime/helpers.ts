// Shared pieces of the Mayor runtime tests: a provider stand-in (a small real provider: attached to the node
// over SPSP + BTP, answers 5065 jobs with signed 6065 results paid through the relay gate, receives the
// requester's payment through its own SPSP responder and the node's claims), config for a Mayor on a devnet,
// and a recording callback skill.
import { appendFileSync, mkdtempSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimDomain } from '../../../src/chain/index.js';
import { ClaimReceiver, UnpaidPackets } from '../../../src/connector/index.js';
import type { Devnet, DevnetMayor } from '../../../src/devnet/index.js';
import { type MayorConfig, resolveConfig } from '../../../src/mayor/config/index.js';
import {
  type Attachment,
  attach,
  createProviderSpsp,
  type ProviderSpsp,
  paymentJobId,
  RelayPool,
} from '../../../src/mayor/runtime/index.js';
import { buildJobResult, finalizeEvent, parseJobRequest } from '../../../src/nostr/index.js';
import type { NostrEvent } from '../../../src/nostr/types.js';
import type { Skill } from '../../../src/skills/index.js';
import { encodeEventBytes } from '../../../src/toon/index.js';

export const M2M = 10n ** 18n;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export const keyOf = (m: DevnetMayor) => new Uint8Array(Buffer.from(m.nostrSecretKey.slice(2), 'hex'));

export interface Standin {
  pubkey: string;
  att: Attachment;
  spsp: ProviderSpsp;
  receiver: ClaimReceiver;
  /** What each requester (by pubkey) paid this provider, base units. */
  paidBy: Map<string, bigint>;
  /** While true, payments are rejected T01 as if the provider were unreachable. */
  flags: { refusePayments: boolean };
  /** Payments taken per job id (more than 1 would be a double payment). */
  paymentsByJob: Map<string, number>;
  /** Jobs seen and results published, by job id. */
  answered: Map<string, NostrEvent>;
  /** Pause answering (results are held until resumed). */
  paused: boolean;
  /** Requesters whose jobs are held (answered on resume) while others are answered at once. */
  holdFrom: Set<string>;
  pending: NostrEvent[];
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** A provider that answers every 5065 it sees (from now on) with a result asking `amount`. */
export async function startStandin(devnet: Devnet, who: DevnetMayor, amount: bigint): Promise<Standin> {
  const sk = keyOf(who);
  const pool = new RelayPool({ urls: [devnet.relayUrl], secretKey: sk, backoff: { minMs: 100, maxMs: 500 } });
  pool.start();
  const unpaid = new UnpaidPackets();
  let spsp: ProviderSpsp | undefined;
  let receiver: ClaimReceiver | undefined;
  const paidBy = new Map<string, bigint>();
  const paymentsByJob = new Map<string, number>();
  const flags = { refusePayments: false };
  const att = await attach({
    pool,
    nostrSecretKey: sk,
    walletKey: who.walletPrivateKey,
    rpcUrl: devnet.rpcUrl,
    nodePubkey: devnet.node.pubkey,
    maxBasePricePerByte: M2M,
    deposit: 10n * M2M,
    maxDeposit: 100n * M2M,
    onPrepare: async (p) =>
      flags.refusePayments
        ? {
            type: 14,
            code: 'T01',
            triggeredBy: p.destination,
            message: 'provider unreachable (test)',
            data: new Uint8Array(),
          }
        : spsp!.handlePrepare(p),
    onClaim: async (m) => {
      await receiver!.accept(m, unpaid);
    },
    onWarning: () => {},
  });
  spsp = createProviderSpsp({
    secretKey: sk,
    ilpAddress: att.spsp.ilpAddress,
    settlement: att.spsp.settlement,
    btpUrl: att.spsp.btpUrl,
    onPayment: ({ prepare, from }) => {
      unpaid.add(hex(prepare.executionCondition), prepare.amount);
      paidBy.set(from, (paidBy.get(from) ?? 0n) + prepare.amount);
      const jobId = paymentJobId(prepare.data);
      if (jobId) paymentsByJob.set(jobId, (paymentsByJob.get(jobId) ?? 0) + 1);
    },
  });
  receiver = new ClaimReceiver({
    publicClient: att.clients.public,
    domain: claimDomain(devnet.chainId, devnet.channels),
    token: devnet.token,
    receiver: who.walletAddress,
    sender: devnet.node.settlementAddress,
  });
  pool.subscribe('spsp-in', [{ kinds: [23194], '#p': [who.nostrPubkey] }], ({ event }) => {
    void pool.publish(spsp!.respond(event)).catch(() => {});
  });
  const answered = new Map<string, NostrEvent>();
  const standin: Standin = {
    pubkey: who.nostrPubkey,
    att,
    spsp,
    receiver,
    paidBy,
    paymentsByJob,
    flags,
    answered,
    paused: false,
    holdFrom: new Set(),
    pending: [],
    async resume() {
      standin.paused = false;
      standin.holdFrom.clear();
      for (const job of standin.pending.splice(0)) await answer(job);
    },
    async stop() {
      await att.detach();
      await pool.close();
    },
  };
  const answer = async (job: NostrEvent) => {
    if (answered.has(job.id)) return;
    const req = parseJobRequest(job);
    const result = finalizeEvent(
      buildJobResult({
        request: job,
        content: JSON.stringify({ ok: true, jobType: req.jobType }),
        amount: { amount },
        status: 'success',
      }),
      sk,
    );
    answered.set(job.id, result);
    const { reply } = await att.writeToRelay(encodeEventBytes(result));
    if (reply.type !== 13) throw new Error(`result write refused: ${JSON.stringify(reply)}`);
  };
  pool.subscribe('jobs', [{ kinds: [5065], since: Math.floor(Date.now() / 1000) - 5 }], ({ event }) => {
    if (standin.paused || standin.holdFrom.has(event.pubkey)) standin.pending.push(event);
    else void answer(event).catch((err) => console.error('standin:', err));
  });
  return standin;
}

/** A resolved Mayor config for a devnet (fresh home dir). */
export function mayorConfig(
  devnet: Devnet,
  relayUrls = [devnet.relayUrl],
  extra: Record<string, string> = {},
): MayorConfig {
  const home = mkdtempSync(join(tmpdir(), 'crosstown-mayor-'));
  return resolveConfig({
    env: {
      CROSSTOWN_HOME: home,
      CROSSTOWN_RELAY_URL: relayUrls.join(','),
      GASTOWN_BASE_SEPOLIA_RPC: devnet.rpcUrl,
      CROSSTOWN_CONNECTOR_BTP: devnet.btpUrl,
      CROSSTOWN_DEFAULT_DEPOSIT: '10',
      ...extra,
    },
  }).values;
}

/** A callback skill that records every result routed to it (in memory and, optionally, a file). */
export function recordingSkill(name = 'test-callback', file?: string): Skill & { routed: string[] } {
  const routed: string[] = [];
  return {
    name,
    routed,
    supportedEventKinds: () => [],
    async handleToon(_payload, meta) {
      const jobId = meta.correlation?.jobId ?? '?';
      routed.push(jobId);
      if (file) appendFileSync(file, `${jobId}\n`);
      return { status: 'handled', summary: `routed ${jobId.slice(0, 7)}` };
    },
  };
}

export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A TCP proxy in front of a relay that can be cut and restored on the same port. */
export async function proxy(target: string) {
  const t = new URL(target);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const up = () =>
    new Promise<void>((resolve) => {
      server = createServer((c) => {
        const u = connect(Number(t.port), t.hostname);
        sockets.add(c).add(u);
        c.pipe(u).pipe(c);
        const end = () => {
          c.destroy();
          u.destroy();
        };
        c.on('error', end).on('close', end);
        u.on('error', end).on('close', end);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  await up();
  return {
    url: () => `ws://127.0.0.1:${port}`,
    up,
    down: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        sockets.clear();
        server!.close(() => resolve());
      }),
  };
}
