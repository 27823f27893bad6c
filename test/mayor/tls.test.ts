// A Mayor attached to a node that serves only wss:// (relay and BTP), with the node's private CA configured as
// `tls-ca-file` (CROSSTOWN_TLS_CA_FILE). Real certificates from openssl, real anvil, real node, real git state.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevChain, startDevChain } from '../../src/chain/index.js';
import { resolveConfig } from '../../src/mayor/config/index.js';
import { type Mayor, pinNodePubkey, startMayor } from '../../src/mayor/runtime/index.js';
import { createLogger, type RunningNode, startNode } from '../../src/node/index.js';
import { generateSecretKey } from '../../src/nostr/index.js';
import { testNodeConfig } from '../support/node-config.js';
import { makeTestCertificates, type TestCertificates } from '../support/tls.js';
import { recordingSkill } from './runtime/helpers.js';

const PRICE = 10n ** 13n;
let chain: DevChain;
let certs: TestCertificates;
let dir: string;
let node: RunningNode;

beforeAll(async () => {
  [chain, certs] = await Promise.all([startDevChain({ accounts: 3 }), makeTestCertificates()]);
  dir = mkdtempSync(join(tmpdir(), 'crosstown-mayor-tls-'));
  node = await startNode(
    testNodeConfig(chain, join(dir, 'node'), {
      basePricePerByte: PRICE,
      logLevel: 'error',
      tls: { certPath: certs.paths.cert, keyPath: certs.paths.key },
    }),
    { logger: createLogger({ level: 'error', write: () => {} }) },
  );
}, 120_000);

afterAll(async () => {
  await node?.stop();
  await chain?.stop();
  certs?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('Mayor over wss:// with a private CA', () => {
  let mayor: Mayor | undefined;
  afterAll(async () => mayor?.stop());

  it('reads tls-ca-file from CROSSTOWN_TLS_CA_FILE, attaches over wss:// and posts a paid job', async () => {
    expect(node.relayUrl).toMatch(/^wss:\/\//);
    expect(node.btpUrl).toMatch(/^wss:\/\//);
    const config = resolveConfig({
      env: {
        CROSSTOWN_HOME: join(dir, 'mayor-home'),
        CROSSTOWN_RELAY_URL: node.relayUrl,
        GASTOWN_BASE_SEPOLIA_RPC: chain.network.rpcUrl,
        CROSSTOWN_CONNECTOR_BTP: node.btpUrl,
        CROSSTOWN_DEFAULT_DEPOSIT: '10',
        CROSSTOWN_TLS_CA_FILE: certs.paths.ca,
      },
    }).values;
    expect(config.tlsCaFile).toBe(certs.paths.ca);

    const warnings: string[] = [];
    const skill = recordingSkill();
    mayor = await startMayor({
      config,
      walletKey: chain.anvil.accounts[2]!.privateKey,
      nostrSecretKey: generateSecretKey(),
      nodePubkey: node.pubkey,
      skills: [skill],
      logger: { debug() {}, info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
    });
    expect(mayor.status().relays.map((r) => [r.url, r.status])).toEqual([[node.relayUrl, 'connected']]);
    expect(mayor.status().connector).toMatchObject({ url: `btp+${node.btpUrl}`, status: 'connected' });

    const posted = await mayor.postJob({
      jobType: 'ci-cd-linux',
      params: { command: 'true' },
      bid: 10n ** 15n,
      callbackSkill: skill.name,
    });
    expect(posted.status).toBe('posted');
    expect(posted.price).toBe(BigInt(posted.bytes) * PRICE);
    // The relay stored it (read back over the same verified wss:// pool) and the node was paid the price.
    const copies = await mayor.pool.query([{ ids: [posted.jobId] }]);
    expect(copies.map((c) => c.event.id)).toEqual([posted.jobId]);
    await mayor.attachment()!.settle();
    // The node names a Mayor peer by the first 16 hex digits of its pubkey.
    const peerId = mayor.pubkey.slice(0, 16);
    expect(node.connector.peer(peerId)).toBeDefined();
    expect(node.connector.balance(peerId).paidByPeer).toBe(posted.price);
    // Nothing about certificates or plaintext went to the logger.
    expect(warnings.filter((w) => /certificate|unencrypted|plain/i.test(w))).toEqual([]);
  }, 60_000);

  it('pins the node pubkey from NIP-11 over verified wss:// only (issue 14)', async () => {
    expect(await pinNodePubkey([node.relayUrl], undefined, { caPath: certs.paths.ca })).toBe(node.pubkey);
    // Unverified TLS vouches for nothing; neither does a certificate we cannot check.
    await expect(
      pinNodePubkey([node.relayUrl], undefined, { caPath: certs.paths.ca, rejectUnauthorized: false }),
    ).rejects.toMatchObject({ code: 'NODE_UNKNOWN' });
    await expect(pinNodePubkey([node.relayUrl], undefined)).rejects.toMatchObject({
      code: 'NODE_UNKNOWN',
      message: expect.stringMatching(/certificate/),
    });
    // A configured pubkey wins, and must look like one.
    expect(await pinNodePubkey([node.relayUrl], 'ab'.repeat(32))).toBe('ab'.repeat(32));
    await expect(pinNodePubkey([node.relayUrl], 'npub1xyz')).rejects.toMatchObject({ code: 'BAD_OPTIONS' });
  });

  it('without the CA the relay certificate is refused, and the error says which setting to use', async () => {
    const config = resolveConfig({
      env: {
        CROSSTOWN_HOME: join(dir, 'mayor-no-ca'),
        CROSSTOWN_RELAY_URL: node.relayUrl,
        GASTOWN_BASE_SEPOLIA_RPC: chain.network.rpcUrl,
        CROSSTOWN_CONNECTOR_BTP: node.btpUrl,
      },
    }).values;
    expect(config.tlsCaFile).toBeUndefined();
    await expect(
      startMayor({
        config,
        walletKey: chain.anvil.accounts[2]!.privateKey,
        nostrSecretKey: generateSecretKey(),
        nodePubkey: node.pubkey,
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      }),
    ).rejects.toMatchObject({
      code: 'RELAY_UNAVAILABLE',
      message: expect.stringMatching(/certificate.*tls\.ca/),
    });
  }, 30_000);
});
