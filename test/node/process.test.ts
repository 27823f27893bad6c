// `crosstown node start` as a real child process (node bin/crosstown.js: the CLI runs in that process, so the pid is the CLI's):
// it answers NIP-11 and BTP, SIGTERM shuts it down gracefully with exit 0, writes acknowledged before the
// signal are served after a restart on the same data dir, and its logs are JSON lines without any secret.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevChain, startDevChain } from '../../src/chain/index.js';
import { BtpClient, ConnectorError } from '../../src/connector/index.js';
import { cliCommand } from '../../src/devnet/index.js';
import { IlpPacketType, type IlpReply } from '../../src/ilp/index.js';
import { generateSecretKey, type SpspResponse } from '../../src/nostr/index.js';
import {
  jobEvent,
  nip11,
  openPayerChannel,
  paidWrite,
  readEvents,
  spspOverNostr,
} from '../devnet/helpers.js';
import { type NodeProcess, startNodeProcess } from '../support/node-process.js';

const PRICE = 10n ** 13n;
let chain: DevChain;
let dir: string;
const walletKey = () => chain.anvil.accounts[1]!.privateKey;

/** The node as a child process, on this file's chain and data dir, logging at debug (its logs are checked). */
function startNode(extra: string[] = []): Promise<NodeProcess> {
  return startNodeProcess({
    chain,
    dataDir: dir,
    walletKey: walletKey(),
    logLevel: 'debug',
    extraArgs: extra,
  });
}

beforeAll(async () => {
  chain = await startDevChain({ accounts: 3 });
  dir = mkdtempSync(join(tmpdir(), 'crosstown-node-'));
});

afterAll(async () => {
  await chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('crosstown node start (child process)', () => {
  const logs: string[] = [];
  const secrets: string[] = [];
  const written: string[] = [];
  let first: NodeProcess;
  let spsp: SpspResponse;
  const mayorSk = generateSecretKey();

  it('answers NIP-11 and BTP; a wrong BTP token is refused', async () => {
    first = await startNode();
    const info = await nip11(first.endpoints.relayUrl);
    expect(info.ilpAddress).toBe('g.crosstown.node1.relay');
    expect(info.basePricePerByte).toBe(PRICE.toString());
    expect(info.pubkey).toBe(first.endpoints.pubkey);
    await expect(
      BtpClient.connect({ url: first.endpoints.btpUrl, authToken: 'not-a-token' }),
    ).rejects.toThrow(ConnectorError);
    spsp = await spspOverNostr(first.endpoints.relayUrl, first.endpoints.pubkey, mayorSk, {
      supportedChains: [chain.network.chainId],
      walletKey: chain.anvil.accounts[2]!.privateKey,
    });
    await openPayerChannel(spsp, chain.network.rpcUrl, chain.anvil.accounts[2]!.privateKey);
    secrets.push(spsp.sharedSecret, spsp.btpToken);
    const client = await BtpClient.connect({ url: spsp.btpUrl, authToken: spsp.btpToken });
    const event = jobEvent(mayorSk);
    const reply = await client.sendPrepare(paidWrite(event, spsp, PRICE).prepare);
    expect(reply.type).toBe(IlpPacketType.Fulfill);
    written.push(event.id);
    await client.close();
  });

  it('SIGTERM during a burst of writes: exit 0, and every FULFILLed write is there after restart', async () => {
    const client = await BtpClient.connect({ url: spsp.btpUrl, authToken: spsp.btpToken });
    const events = Array.from({ length: 30 }, () => jobEvent(mayorSk));
    let signalled = false;
    const replies = events.map((event) =>
      client
        .sendPrepare(paidWrite(event, spsp, PRICE).prepare)
        .then((reply: IlpReply) => {
          if (!signalled) {
            signalled = true;
            first.child.kill('SIGTERM');
          }
          return reply;
        })
        .catch(() => undefined),
    );
    const results = await Promise.all(replies);
    expect(await first.exit).toEqual({ code: 0, signal: null });
    await client.close().catch(() => {});
    results.forEach((r, i) => {
      if (r?.type === IlpPacketType.Fulfill) written.push(events[i]!.id);
      // A write refused at the door says why, with a temporary code.
      else if (r) expect(r).toMatchObject({ code: 'T00', message: expect.stringMatching(/shutting down/) });
    });
    // All 30 were sent before the signal: each gets an answer (FULFILL, or T00 at the door), none is cut off.
    expect(results.every((r) => r !== undefined)).toBe(true);
    expect(written.length).toBeGreaterThan(1);
    const stderr = first.stderr();
    expect(stderr).toMatch(/"msg":"stopping/);
    expect(stderr).toMatch(/"msg":"stopped"/);
    logs.push(stderr);

    // Restart on the same data dir: same identity (nostr.key), every acknowledged write served.
    const second = await startNode();
    expect(second.endpoints.pubkey).toBe(first.endpoints.pubkey);
    const stored = await readEvents(second.endpoints.relayUrl, { ids: written });
    expect(stored.map((e) => e.id).sort()).toEqual([...written].sort());
    second.child.kill('SIGINT');
    expect(await second.exit).toEqual({ code: 0, signal: null });
    logs.push(second.stderr());
  });

  it('logs JSON lines (level, time, msg) and never a secret', () => {
    const nostrKey = readFileSync(join(dir, 'nostr.key'), 'utf8').trim();
    expect(statSync(join(dir, 'nostr.key')).mode & 0o777).toBe(0o600);
    const wallet = walletKey().slice(2);
    const all = logs.join('');
    const lines = all.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(4);
    for (const line of lines) {
      const record = JSON.parse(line) as { level: string; time: string; msg: string };
      expect(['debug', 'info', 'warn', 'error']).toContain(record.level);
      expect(Number.isNaN(Date.parse(record.time))).toBe(false);
      expect(typeof record.msg).toBe('string');
    }
    expect(all).toContain('"msg":"node started"');
    expect(all).toContain('"msg":"spsp answered"');
    for (const secret of [nostrKey, wallet, wallet.toUpperCase(), ...secrets]) {
      expect(all.toLowerCase()).not.toContain(secret.toLowerCase());
    }
  });

  it('refuses to start without a wallet key, saying how to give one (exit 2)', async () => {
    const [cmd, args] = cliCommand(['node', 'start', '--data-dir', dir, '--rpc-url', 'http://127.0.0.1:1']);
    const child = spawn(
      cmd,
      [...args, '--chain-id', '1', '--token', chain.network.token, '--channels', chain.network.channels],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, CROSSTOWN_NODE_WALLET_KEY: '' },
      },
    );
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toMatch(/CROSSTOWN_NODE_WALLET_KEY or --wallet-key-file/);
  });
});
