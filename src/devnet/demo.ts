// The one-command demo on the embedded default: everything runs on this machine (anvil, relay, SQLite).
// Today it walks one paid job post through the parts that exist: chain + channel, TOON, ILP, the relay's write
// gate, a free read over WebSocket, and the node's on-chain claim. The connector/Mayor path replaces the
// in-process gate call once those parts exist.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateKeyToAccount } from 'viem/accounts';
import WebSocket from 'ws';
import {
  checkIncomingClaim,
  claimDomain,
  createChainClients,
  formatM2M,
  openChannel,
  readChannel,
  signClaim,
  startDevChain,
  submitClaim,
  tokenBalance,
} from '../chain/index.js';
import {
  conditionOf,
  deriveFulfillment,
  deserializeIlpPacket,
  IlpPacketType,
  type IlpPrepare,
  serializeIlpPacket,
} from '../ilp/index.js';
import { buildJobRequest, finalizeEvent, generateSecretKey, KIND_JOB_REQUEST } from '../nostr/index.js';
import type { NostrEvent } from '../nostr/types.js';
import { AccountSecretStore, startRelay } from '../relay/index.js';
import { openSqliteStore } from '../store/index.js';
import { encodeEventBytes, peekKind } from '../toon/index.js';

export interface DemoStep {
  step: string;
  detail: string;
}

export interface DemoReport {
  network: { name: string; chainId: number; rpcUrl: string; token: string; channels: string };
  jobId: string;
  toonBytes: number;
  price: bigint;
  requesterBefore: bigint;
  requesterAfter: bigint;
  nodeBefore: bigint;
  nodeAfter: bigint;
  steps: DemoStep[];
}

/** 0.00001 M2M per byte, the journeys' price: 875 bytes cost 0.00875 M2M. */
export const DEMO_PRICE_PER_BYTE = 10n ** 13n;

export async function runDemo(onStep: (step: DemoStep) => void = () => {}): Promise<DemoReport> {
  const steps: DemoStep[] = [];
  const report = (step: string, detail: string) => {
    const s = { step, detail };
    steps.push(s);
    onStep(s);
  };
  const dir = mkdtempSync(join(tmpdir(), 'crosstown-demo-'));
  const chain = await startDevChain({ chainId: 31337 });
  const cleanups: (() => Promise<void> | void)[] = [
    () => chain.stop(),
    () => rmSync(dir, { recursive: true, force: true }),
  ];
  try {
    const { network } = chain;
    report(
      'devnet',
      `anvil on ${network.rpcUrl} (chain ${network.chainId}), M2M ${network.token}, channels ${network.channels}`,
    );

    const [, alphaKey, nodeKey] = chain.anvil.accounts;
    const alpha = createChainClients({
      rpcUrl: network.rpcUrl,
      chainId: network.chainId,
      privateKey: alphaKey!.privateKey,
    });
    const node = createChainClients({
      rpcUrl: network.rpcUrl,
      chainId: network.chainId,
      privateKey: nodeKey!.privateKey,
    });
    const alphaAddress = privateKeyToAccount(alphaKey!.privateKey).address;
    const nodeAddress = privateKeyToAccount(nodeKey!.privateKey).address;
    const balanceOf = (owner: `0x${string}`) => tokenBalance(alpha.public, { token: network.token, owner });
    const requesterBefore = await balanceOf(alphaAddress);
    const nodeBefore = await balanceOf(nodeAddress);

    const store = await openSqliteStore({ path: join(dir, 'relay.sqlite') });
    const secrets = new AccountSecretStore('g.crosstown.devnet.relay');
    const relay = await startRelay({
      store,
      secrets,
      basePricePerByte: DEMO_PRICE_PER_BYTE,
      ilpAddress: 'g.crosstown.devnet.relay',
    });
    cleanups.unshift(
      () => relay.close(),
      () => store.close(),
    );
    report('relay', `ILP-gated relay on ${relay.url} (${formatM2M(DEMO_PRICE_PER_BYTE)} M2M per byte)`);

    const deposit = 50n * 10n ** 18n;
    const opened = await openChannel(alpha, {
      channels: network.channels,
      token: network.token,
      receiver: nodeAddress,
      amount: deposit,
      challengeWindow: 3600n,
    });
    report(
      'channel',
      `Mayor-Alpha opened channel ${opened.channelId.slice(0, 18)}… with ${formatM2M(opened.deposit)} M2M`,
    );

    // Mayor-Alpha builds and signs its job, TOON-encodes it and pays for the write.
    const mayorKey = generateSecretKey();
    const job: NostrEvent = finalizeEvent(
      buildJobRequest({
        jobType: 'ci-cd-linux',
        inputs: [{ data: 'https://example.invalid/sample-repo.git', type: 'url' }],
        params: { command: 'npm test' },
        bid: 10n ** 17n,
        relays: [relay.url],
        content: 'Run the sample repository tests',
      }),
      mayorKey,
    );
    const data = encodeEventBytes(job);
    const kind = peekKind(data);
    if (kind !== KIND_JOB_REQUEST) throw new Error(`peekKind returned ${kind}, expected ${KIND_JOB_REQUEST}`);
    const price = BigInt(data.length) * DEMO_PRICE_PER_BYTE;
    const account = secrets.issue();
    const fulfillment = deriveFulfillment(account.sharedSecret, data);
    const prepare: IlpPrepare = {
      type: IlpPacketType.Prepare,
      amount: price,
      expiresAt: new Date(Date.now() + 30_000),
      executionCondition: conditionOf(fulfillment),
      destination: account.destination,
      data,
    };
    // Through the wire codec, as the connector will carry it.
    const wire = deserializeIlpPacket(serializeIlpPacket(prepare));
    if (wire.type !== IlpPacketType.Prepare) throw new Error('codec round trip changed the packet type');
    const reply = await relay.handlePrepare(wire);
    if (reply.type !== IlpPacketType.Fulfill)
      throw new Error(`relay rejected the write: ${reply.code} ${reply.message}`);
    report(
      'post',
      `Posted job-${job.id.slice(0, 7)}: ci-cd-linux (${data.length} bytes, ${formatM2M(price)} M2M) -> FULFILL`,
    );

    // The payment for the write: a cumulative claim the node checks before crediting, then redeems on-chain.
    const domain = claimDomain(network.chainId, network.channels);
    const claim = await signClaim({
      signer: alphaKey!.privateKey,
      domain,
      claim: { channelId: opened.channelId, cumulativeAmount: price },
    });
    const channel = await readChannel(node.public, {
      channels: network.channels,
      channelId: opened.channelId,
    });
    await checkIncomingClaim({ claim, channel, domain, previousCumulative: 0n, expectedIncrease: price });
    const redeemed = await submitClaim(node, { channels: network.channels, claim });
    report('settle', `node redeemed claim on-chain: ${formatM2M(redeemed.paid)} M2M`);

    // Reading is free: any Nostr client sees the job.
    const seen = await readBack(relay.url, job.id);
    report('read', `free REQ over WebSocket returned job ${seen.id.slice(0, 7)} (kind ${seen.kind})`);

    return {
      network: {
        name: network.name,
        chainId: network.chainId,
        rpcUrl: network.rpcUrl,
        token: network.token,
        channels: network.channels,
      },
      jobId: job.id,
      toonBytes: data.length,
      price,
      requesterBefore,
      requesterAfter: await balanceOf(alphaAddress),
      nodeBefore,
      nodeAfter: await balanceOf(nodeAddress),
      steps,
    };
  } finally {
    for (const cleanup of cleanups) await cleanup();
  }
}

function readBack(url: string, id: string): Promise<NostrEvent> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`relay did not return event ${id} within 5 s`));
    }, 5000);
    ws.on('open', () => ws.send(JSON.stringify(['REQ', 'demo', { ids: [id] }])));
    ws.on('error', reject);
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as unknown[];
      if (msg[0] === 'EVENT' && msg[1] === 'demo') {
        clearTimeout(timer);
        ws.close();
        resolve(msg[2] as NostrEvent);
      }
    });
  });
}
