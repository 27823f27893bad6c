// A node configured for production shape: relay events in PostgreSQL (CROSSTOWN_RELAY_DATABASE_URL / --database-url)
// and TLS on both servers (--tls-cert/--tls-key). Real PostgreSQL cluster, real certificates from openssl, real anvil.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevChain, startDevChain } from '../../src/chain/index.js';
import { IlpPacketType } from '../../src/ilp/index.js';
import { createLogger, type RunningNode, startNode } from '../../src/node/index.js';
import { generateSecretKey, KIND_PEER_INFO } from '../../src/nostr/index.js';
import { openPostgresStore } from '../../src/store/index.js';
import {
  jobEvent,
  openPayerChannel,
  openSocket,
  paidWrite,
  readEvents,
  spspOverNostr,
} from '../devnet/helpers.js';
import { testNodeConfig } from '../support/node-config.js';
import { type PostgresHandle, startPostgres } from '../support/postgres.js';
import { makeTestCertificates, type TestCertificates } from '../support/tls.js';

const PRICE = 10n ** 13n;
let chain: DevChain;
let pg: PostgresHandle;
let certs: TestCertificates;
let dir: string;
let node: RunningNode;

beforeAll(async () => {
  [chain, pg, certs] = await Promise.all([
    startDevChain({ accounts: 3 }),
    startPostgres(),
    makeTestCertificates(),
  ]);
  dir = mkdtempSync(join(tmpdir(), 'crosstown-node-tls-'));
  node = await startNode(
    testNodeConfig(chain, dir, {
      basePricePerByte: PRICE,
      logLevel: 'error',
      databaseUrl: pg.url,
      tls: { certPath: certs.paths.cert, keyPath: certs.paths.key },
    }),
    { logger: createLogger({ level: 'error', write: () => {} }) },
  );
}, 120_000);

afterAll(async () => {
  await node?.stop();
  await Promise.all([chain?.stop(), pg?.stop()]);
  certs?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('node with PostgreSQL and TLS', () => {
  it('serves wss:// on both servers and refuses clients that do not trust its CA', async () => {
    expect(node.relayUrl).toMatch(/^wss:\/\//);
    expect(node.btpUrl).toMatch(/^wss:\/\//);
    await expect(openSocket(node.relayUrl)).rejects.toThrow(/certificate/i);
    (await openSocket(node.relayUrl, certs.ca)).close();
  });

  it('keeps relay events in PostgreSQL: peer info at start, a paid job over wss:// SPSP', async () => {
    const peerInfo = await readEvents(
      node.relayUrl,
      { kinds: [KIND_PEER_INFO], authors: [node.pubkey] },
      certs.ca,
    );
    expect(peerInfo).toHaveLength(1);

    const sk = generateSecretKey();
    // No credit without a channel from a proven settlement address (issue 13): the payer opens one first.
    const walletKey = chain.anvil.accounts[2]!.privateKey;
    const spsp = await spspOverNostr(node.relayUrl, node.pubkey, sk, { walletKey }, certs.ca);
    await openPayerChannel(spsp, chain.network.rpcUrl, walletKey);
    const peerId = spsp.ilpAddress.split('.').at(-1)!;
    const job = jobEvent(sk, 'stored in postgres');
    const reply = await node.connector.handlePrepare(paidWrite(job, spsp, PRICE).prepare, peerId);
    expect(reply.type).toBe(IlpPacketType.Fulfill);

    // A second, independent store on the same database sees both: they are in PostgreSQL, not in memory.
    const other = await openPostgresStore({ url: pg.url, liveFeed: false });
    try {
      expect(await other.get(job.id)).toMatchObject({ id: job.id, content: 'stored in postgres' });
      expect(await other.get(peerInfo[0]!.id)).toMatchObject({ kind: KIND_PEER_INFO });
    } finally {
      await other.close();
    }
  });
});
