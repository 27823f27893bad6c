// Node configuration: flags > environment > [node] in crosstown.toml > defaults, keys never from the file.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NodeError, resolveNodeConfig } from '../../src/node/index.js';
import { getPublicKey } from '../../src/nostr/index.js';

const WALLET = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const TOKEN = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const CHANNELS = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
let dir: string;

const chainEnv = () => ({
  CROSSTOWN_HOME: dir,
  CROSSTOWN_NODE_WALLET_KEY: WALLET,
  CROSSTOWN_NODE_RPC_URL: 'http://127.0.0.1:8545',
  CROSSTOWN_NODE_CHAIN_ID: '31337',
  CROSSTOWN_NODE_TOKEN: TOKEN,
  CROSSTOWN_NODE_CHANNELS: CHANNELS,
});

function toml(text: string): string {
  const path = join(dir, 'crosstown.toml');
  writeFileSync(path, text);
  return path;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'crosstown-nodecfg-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveNodeConfig', () => {
  it('reads trusted proxies as IP addresses and refuses names', () => {
    const env = { ...chainEnv(), CROSSTOWN_NODE_TRUSTED_PROXIES: '127.0.0.1, ::1' };
    expect(resolveNodeConfig({ env }).trustedProxies).toEqual(['127.0.0.1', '::1']);
    expect(resolveNodeConfig({ env: chainEnv() }).trustedProxies).toBeUndefined();
    expect(() =>
      resolveNodeConfig({ env: { ...chainEnv(), CROSSTOWN_NODE_TRUSTED_PROXIES: 'proxy.local' } }),
    ).toThrow(/trusted proxy 'proxy.local' is not an IP address/);
  });

  it('reads the BTP public URL (flag or env) that peer info, SPSP and NIP-11 advertise, and refuses other schemes', () => {
    const env = { ...chainEnv(), CROSSTOWN_NODE_BTP_PUBLIC_URL: 'btp+wss://node.example.org/' };
    expect(resolveNodeConfig({ env }).btpPublicUrl).toBe('btp+wss://node.example.org');
    const flag = resolveNodeConfig({ env: chainEnv(), flags: { btpPublicUrl: 'wss://n.example:7443' } });
    expect(flag.btpPublicUrl).toBe('wss://n.example:7443');
    expect(resolveNodeConfig({ env: chainEnv() }).btpPublicUrl).toBeUndefined();
    expect(() =>
      resolveNodeConfig({
        env: { ...chainEnv(), CROSSTOWN_NODE_BTP_PUBLIC_URL: 'https://node.example.org' },
      }),
    ).toThrow(/BTP public URL must be a btp\+wss:\/\//);
  });

  it('reads the unused SPSP peer limits (TTL, cap) from flags or the environment', () => {
    const env = { ...chainEnv(), CROSSTOWN_NODE_MAX_UNUSED_PEERS: '500' };
    expect(resolveNodeConfig({ env }).maxUnusedPeers).toBe(500);
    expect(resolveNodeConfig({ env, flags: { maxUnusedPeers: '20', unusedPeerTtl: '60' } })).toMatchObject({
      maxUnusedPeers: 20,
      unusedPeerTtlSeconds: 60,
    });
    expect(resolveNodeConfig({ env: chainEnv() }).maxUnusedPeers).toBeUndefined();
    expect(() => resolveNodeConfig({ env: { ...chainEnv(), CROSSTOWN_NODE_MAX_UNUSED_PEERS: '0' } })).toThrow(
      /maxUnusedPeers must be a whole number >= 1/,
    );
  });

  it('defaults: node1 on 127.0.0.1:7777/7768, journeys price, data dir under CROSSTOWN_HOME', () => {
    const c = resolveNodeConfig({ env: chainEnv() });
    expect(c).toMatchObject({
      name: 'node1',
      ilpAddress: 'g.crosstown.node1',
      host: '127.0.0.1',
      relayPort: 7777,
      btpPort: 7768,
      dataDir: join(dir, 'nodes', 'node1'),
      basePricePerByte: 10n ** 13n,
      creditLimit: 10n ** 18n,
      settleThreshold: 0n,
      onChainThreshold: undefined,
      walletKey: WALLET,
      chain: { rpcUrl: 'http://127.0.0.1:8545', chainId: 31337, token: TOKEN, channels: CHANNELS },
      peers: [],
      logLevel: 'info',
    });
  });

  it('flags beat the environment, which beats the file, which beats defaults', () => {
    const file = toml(`
[node]
name = "fromfile"
relayPort = 1001
btpPort = 1002
basePricePerByte = 5
[node.chain]
chainId = 84532
`);
    const env = { ...chainEnv(), CROSSTOWN_NODE_RELAY_PORT: '2001' };
    delete (env as Record<string, string | undefined>).CROSSTOWN_NODE_CHAIN_ID;
    const c = resolveNodeConfig({ env, configFile: file, flags: { btpPort: '3002' } });
    expect(c.name).toBe('fromfile'); // file over default
    expect(c.relayPort).toBe(2001); // env over file
    expect(c.btpPort).toBe(3002); // flag over file
    expect(c.basePricePerByte).toBe(5n);
    expect(c.chain.chainId).toBe(84532);
  });

  it('creates a 0600 Nostr key once and keeps it; an env key wins', () => {
    const a = resolveNodeConfig({ env: chainEnv() });
    const path = join(a.dataDir, 'nostr.key');
    expect(existsSync(path)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const b = resolveNodeConfig({ env: chainEnv() });
    expect(getPublicKey(b.nostrSecretKey)).toBe(getPublicKey(a.nostrSecretKey));
    expect(readFileSync(path, 'utf8').trim()).toBe(Buffer.from(a.nostrSecretKey).toString('hex'));
    const key = 'ab'.repeat(32);
    const c = resolveNodeConfig({ env: { ...chainEnv(), CROSSTOWN_NODE_NOSTR_KEY: key } });
    expect(Buffer.from(c.nostrSecretKey).toString('hex')).toBe(key);
  });

  it('reads the wallet key from a file', () => {
    const keyFile = join(dir, 'wallet.key');
    writeFileSync(keyFile, `${WALLET}\n`, { mode: 0o600 });
    const env: Record<string, string | undefined> = { ...chainEnv(), CROSSTOWN_NODE_WALLET_KEY: undefined };
    expect(resolveNodeConfig({ env, flags: { walletKeyFile: keyFile } }).walletKey).toBe(WALLET);
  });

  it('parses static peers from [[node.peers]]', () => {
    const file = toml(`
[[node.peers]]
id = "node2"
authToken = "0123456789abcdef0123"
url = "ws://127.0.0.1:9000"
routes = ["g.crosstown.node2"]
creditLimit = "1000"
`);
    expect(resolveNodeConfig({ env: chainEnv(), configFile: file }).peers).toEqual([
      {
        id: 'node2',
        authToken: '0123456789abcdef0123',
        url: 'ws://127.0.0.1:9000',
        routes: ['g.crosstown.node2'],
        creditLimit: 1000n,
      },
    ]);
  });

  it('takes a static peer url in the btp+ws:// / btp+wss:// form interledgerjs uses (issue 18)', () => {
    for (const url of ['btp+ws://127.0.0.1:9000', 'btp+wss://node2.example']) {
      const file = toml(`[[node.peers]]\nid = "node2"\nauthToken = "0123456789abcdef0123"\nurl = "${url}"\n`);
      expect(resolveNodeConfig({ env: chainEnv(), configFile: file }).peers[0]?.url).toBe(url);
    }
    const bad = toml('[[node.peers]]\nid = "n"\nauthToken = "0123456789abcdef0123"\nurl = "btp+http://x"\n');
    expect(() => resolveNodeConfig({ env: chainEnv(), configFile: bad })).toThrow(/btp\+ws:\/\//);
  });

  const refusals: [string, () => unknown, RegExp][] = [
    [
      'no wallet key',
      () => resolveNodeConfig({ env: { ...chainEnv(), CROSSTOWN_NODE_WALLET_KEY: '' } }),
      /CROSSTOWN_NODE_WALLET_KEY or --wallet-key-file/,
    ],
    [
      'a key in the toml file',
      () => resolveNodeConfig({ env: chainEnv(), configFile: toml('[node]\nwalletKey = "0x00"\n') }),
      /not read from the config file/,
    ],
    [
      'an unknown setting',
      () => resolveNodeConfig({ env: chainEnv(), configFile: toml('[node]\nrelay_port = 1\n') }),
      /unknown setting \[node\] relay_port/,
    ],
    [
      'a bad port',
      () => resolveNodeConfig({ env: chainEnv(), flags: { relayPort: '70000' } }),
      /relayPort must be a port 0-65535/,
    ],
    [
      'a fractional amount',
      () => resolveNodeConfig({ env: chainEnv(), flags: { creditLimit: '1.5' } }),
      /creditLimit must be a whole number of base units/,
    ],
    [
      'a name that is not an address segment',
      () => resolveNodeConfig({ env: chainEnv(), flags: { name: 'a.b' } }),
      /one ILP address segment/,
    ],
    [
      'a missing chain id',
      () => resolveNodeConfig({ env: { ...chainEnv(), CROSSTOWN_NODE_CHAIN_ID: undefined } }),
      /chain id is not set: pass --chain-id/,
    ],
    [
      'a malformed wallet key',
      () => resolveNodeConfig({ env: { ...chainEnv(), CROSSTOWN_NODE_WALLET_KEY: '0x1234' } }),
      /must be 32 bytes of hex/,
    ],
    [
      'a missing config file',
      () => resolveNodeConfig({ env: chainEnv(), configFile: join(dir, 'nope.toml') }),
      /does not exist/,
    ],
  ];
  for (const [what, run, message] of refusals) {
    it(`refuses ${what} with a NodeError that says what to do`, () => {
      let error: unknown;
      try {
        run();
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(NodeError);
      expect((error as Error).message).toMatch(message);
    });
  }

  it('never echoes a malformed key in the error', () => {
    const bad = `0x${'zz'.repeat(32)}`;
    expect(() => resolveNodeConfig({ env: { ...chainEnv(), CROSSTOWN_NODE_WALLET_KEY: bad } })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('zzzz') }),
    );
  });
});
