import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  configFilePath,
  configGet,
  configList,
  configReset,
  configSet,
  resolveConfig,
  SETTING_KEYS,
} from '../../src/mayor/config/index.js';
import { tempDir } from './state-helpers.js';

const M2M = 10n ** 18n;
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
function home(): string {
  const t = tempDir('crosstown-config-');
  cleanups.push(t.cleanup);
  return t.dir;
}
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('config: resolution', () => {
  it('has documented defaults, in bigint base units for amounts', () => {
    const c = resolveConfig({ env: {} });
    expect(c.values.home).toBe(join(homedir(), '.crosstown'));
    expect(c.values.stateDir).toBe(join(homedir(), '.crosstown', 'mayor'));
    expect(c.values.keystoreDir).toBe(join(homedir(), '.crosstown', 'keys', 'mayor'));
    expect(c.values.network).toBe('devnet');
    expect(c.values.allowMainnet).toBe(false);
    expect(c.values.lowBalanceThreshold).toBe(10n * M2M);
    expect(c.values.maxChannelDeposit).toBe(100n * M2M);
    expect(c.values.defaultDeposit).toBe(50n * M2M);
    expect(c.values.maxBasePricePerByte).toBe(M2M / 10_000n);
    expect(c.values.jobTimeoutSeconds).toBe(300);
    expect(c.values.relayUrls).toEqual([]);
    expect(c.values.provider).toEqual({ enabled: false, jobTypes: [], price: M2M / 10n, sandbox: 'auto' });
    expect(c.entries.every((e) => e.source === 'default')).toBe(true);
    expect(c.entries.map((e) => e.key)).toEqual(SETTING_KEYS);
  });

  it('honours the journey environment variables', () => {
    const h = home();
    const c = resolveConfig({
      env: {
        CROSSTOWN_HOME: h,
        CROSSTOWN_NETWORK: 'base-sepolia',
        GASTOWN_WALLET_ADDRESS: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
        GASTOWN_BASE_SEPOLIA_RPC: 'https://sepolia.base.org',
        CROSSTOWN_RELAY_URL: 'ws://relay.crosstown.network, wss://relay2.example',
        CROSSTOWN_CONNECTOR_BTP: 'btp+ws://connector.crosstown.network:3000',
        GASTOWN_ALLOW_UNENCRYPTED_KEYS: 'true',
      },
    });
    expect(c.values).toMatchObject({
      home: h,
      config: join(h, 'crosstown.toml'),
      stateDir: join(h, 'mayor'),
      network: 'base-sepolia',
      walletAddress: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
      rpcUrl: 'https://sepolia.base.org',
      relayUrls: ['ws://relay.crosstown.network', 'wss://relay2.example'],
      connectorBtp: 'btp+ws://connector.crosstown.network:3000',
      allowUnencryptedKeys: true,
    });
    expect(c.entry('relay-urls')).toMatchObject({
      source: 'env',
      origin: 'CROSSTOWN_RELAY_URL',
      display: 'ws://relay.crosstown.network,wss://relay2.example',
    });
  });

  it('applies flags > environment > crosstown.toml > defaults, and records each source', () => {
    const h = home();
    writeFileSync(
      join(h, 'crosstown.toml'),
      [
        'network = "base-sepolia"',
        'low-balance-threshold = "12.5"',
        'job-timeout = 120',
        'busy-max-reposts = 0',
        'relay-urls = ["ws://file.example"]',
        '[provider]',
        'enabled = true',
        'job-types = ["ci-cd-linux"]',
        'price = "0.002"',
      ].join('\n'),
    );
    const env = { CROSSTOWN_HOME: h, CROSSTOWN_RELAY_URL: 'ws://env.example', CROSSTOWN_NETWORK: 'devnet' };
    const c = resolveConfig({ env, flags: { network: 'base-sepolia', jobTimeout: '60' } });
    expect(c.entry('network')).toMatchObject({ value: 'base-sepolia', source: 'flag', origin: '--network' });
    expect(c.entry('relay-urls')).toMatchObject({ value: ['ws://env.example'], source: 'env' });
    expect(c.entry('job-timeout')).toMatchObject({ value: 60, source: 'flag' });
    expect(c.entry('busy-max-reposts')).toMatchObject({ value: 0, source: 'file' });
    expect(c.entry('busy-retry-delay')).toMatchObject({ value: 30, source: 'default' });
    expect(c.entry('low-balance-threshold')).toMatchObject({
      value: 12_500_000_000_000_000_000n,
      display: '12.5',
      source: 'file',
      origin: join(h, 'crosstown.toml'),
    });
    expect(c.values.stateDir).toBe(join(h, 'mayor'));
    expect(c.values.provider).toEqual({
      enabled: true,
      jobTypes: ['ci-cd-linux'],
      price: 2n * 10n ** 15n,
      sandbox: 'auto',
    });
    expect(c.entry('max-channel-deposit').source).toBe('default');
  });

  it("keeps each Mayor's settings in its own file; the name cannot come from a file", () => {
    const h = home();
    writeFileSync(join(h, 'crosstown.toml'), '[provider]\nenabled = true\njob-types = ["ci-cd-linux"]\n');
    const beta = resolveConfig({ env: { CROSSTOWN_HOME: h }, flags: { name: 'beta2' } });
    expect(beta.file).toBe(join(h, 'crosstown.beta2.toml'));
    expect(beta.values.provider.enabled).toBe(false);
    expect(beta.values.stateDir).toBe(join(h, 'beta2'));
    const main = resolveConfig({ env: { CROSSTOWN_HOME: h } });
    expect(main.values.provider.enabled).toBe(true);
    writeFileSync(join(h, 'crosstown.toml'), 'name = "mayor-001"\n');
    expect(() => resolveConfig({ env: { CROSSTOWN_HOME: h } })).toThrow(/name cannot be set in/);
  });

  it('explains invalid values with the source to fix', () => {
    const h = home();
    const e1 = configError(() =>
      resolveConfig({ env: { CROSSTOWN_HOME: h, CROSSTOWN_RELAY_URL: 'ws://ok.example,x' } }),
    );
    expect(e1.code).toBe('INVALID_VALUE');
    expect(e1.message).toBe(
      "relay url 'x' is not a ws:// or wss:// URL: set CROSSTOWN_RELAY_URL=ws://127.0.0.1:7777.",
    );
    const e2 = configError(() =>
      resolveConfig({ env: { CROSSTOWN_HOME: h }, flags: { network: 'mainnet' } }),
    );
    expect(e2.message).toMatch(/^network 'mainnet' is not one of devnet, base-sepolia, base: pass --network/);
    writeFileSync(join(h, 'crosstown.toml'), 'default-deposit = 0.5\n');
    const e3 = configError(() => resolveConfig({ env: { CROSSTOWN_HOME: h } }));
    expect(e3.message).toMatch(
      /default deposit '0.5' is a TOML float: write amounts as quoted decimal strings/,
    );
    expect(e3.message).toContain(`fix default-deposit in ${join(h, 'crosstown.toml')}`);
    writeFileSync(join(h, 'crosstown.toml'), 'relay_url = "ws://x"\n');
    expect(configError(() => resolveConfig({ env: { CROSSTOWN_HOME: h } })).code).toBe('UNKNOWN_KEY');
    writeFileSync(join(h, 'crosstown.toml'), 'allow-mainnet = true\n');
    expect(configError(() => resolveConfig({ env: { CROSSTOWN_HOME: h } })).code).toBe('NOT_SETTABLE');
    writeFileSync(join(h, 'crosstown.toml'), 'network = \n');
    expect(configError(() => resolveConfig({ env: { CROSSTOWN_HOME: h } })).code).toBe('BAD_FILE');
    const e4 = configError(() => resolveConfig({ env: { CROSSTOWN_CONNECTOR_BTP: 'http://c:3000' } }));
    expect(e4.message).toContain('CROSSTOWN_CONNECTOR_BTP=btp+ws://127.0.0.1:3000');
    const e5 = configError(() => resolveConfig({ env: { GASTOWN_WALLET_ADDRESS: '0x1234' } }));
    expect(e5.message).toContain('is not a 20-byte 0x address');
    expect(configError(() => resolveConfig({ env: { CROSSTOWN_JOB_TIMEOUT: '1.5' } })).key).toBe(
      'job-timeout',
    );
    const e6 = configError(() => resolveConfig({ env: { CROSSTOWN_BUSY_MAX_REPOSTS: '11' } }));
    expect(e6.key).toBe('busy-max-reposts');
    expect(e6.message).toContain('is not a whole number between 0 and 10');
    expect(configError(() => resolveConfig({ env: { CROSSTOWN_BUSY_RETRY_DELAY: '0' } })).key).toBe(
      'busy-retry-delay',
    );
  });

  it('refuses mainnet without the flag and inconsistent deposits', () => {
    expect(configError(() => resolveConfig({ env: { CROSSTOWN_NETWORK: 'base' } })).message).toMatch(
      /pass --allow-mainnet/,
    );
    expect(
      resolveConfig({ env: { CROSSTOWN_NETWORK: 'base' }, flags: { allowMainnet: true } }).values.network,
    ).toBe('base');
    // allow-mainnet comes only from a flag: an environment variable cannot switch it on.
    expect(resolveConfig({ env: { CROSSTOWN_ALLOW_MAINNET: 'true' } }).values.allowMainnet).toBe(false);
    const e = configError(() => resolveConfig({ env: { CROSSTOWN_DEFAULT_DEPOSIT: '150' } }));
    expect(e.code).toBe('CONFLICT');
  });
});

describe('config: set, get, list, reset', () => {
  it('writes validated values to a 0600 crosstown.toml and reads them back with their source', () => {
    const h = home();
    const opts = { env: { CROSSTOWN_HOME: h } };
    expect(configFilePath(opts)).toBe(join(h, 'crosstown.toml'));
    expect(configSet('low-balance-threshold', '5', opts)).toMatchObject({ value: 5n * M2M, source: 'file' });
    configSet('relay-urls', 'ws://a.example,wss://b.example', opts);
    configSet('provider.job-types', 'ci-cd-linux,docker-build-amd64', opts);
    configSet('job-timeout', '90', opts);
    const text = readFileSync(join(h, 'crosstown.toml'), 'utf8');
    expect(text).toContain('low-balance-threshold = "5"');
    expect(text).toContain('job-timeout = 90');
    expect(text).toMatch(/\[provider\]\s*\njob-types = \[ "ci-cd-linux", "docker-build-amd64" \]/);
    expect(statSync(join(h, 'crosstown.toml')).mode & 0o777).toBe(0o600);
    expect(configGet('relay-urls', opts).value).toEqual(['ws://a.example', 'wss://b.example']);
    expect(configGet('provider.job-types', opts).display).toBe('ci-cd-linux,docker-build-amd64');
    const list = configList(opts);
    expect(
      list
        .filter((e) => e.source === 'file')
        .map((e) => e.key)
        .sort(),
    ).toEqual(['job-timeout', 'low-balance-threshold', 'provider.job-types', 'relay-urls']);
    configReset('provider.job-types', opts);
    expect(readFileSync(join(h, 'crosstown.toml'), 'utf8')).not.toContain('provider');
    expect(configGet('provider.job-types', opts).source).toBe('default');
    configReset(undefined, opts);
    expect(configList(opts).every((e) => e.source === 'default' || e.key === 'home')).toBe(true);
  });

  it('refuses bad values, unknown keys, non-file settings, and undoes a conflicting set', () => {
    const h = home();
    const opts = { env: { CROSSTOWN_HOME: h } };
    expect(configError(() => configSet('relay-urls', 'http://x', opts)).message).toMatch(
      /relay url 'http:\/\/x'/,
    );
    expect(configError(() => configSet('relay-url', 'ws://x', opts)).code).toBe('UNKNOWN_KEY');
    expect(configError(() => configSet('allow-mainnet', 'true', opts)).code).toBe('NOT_SETTABLE');
    expect(configError(() => configSet('home', '/tmp', opts)).code).toBe('NOT_SETTABLE');
    configSet('default-deposit', '40', opts);
    const file = join(h, 'crosstown.toml');
    const written = statSync(file).mtimeMs;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30); // file times are coarse (a few ms)
    expect(configError(() => configSet('max-channel-deposit', '20', opts)).code).toBe('CONFLICT');
    // Checked before writing: the file was never replaced, so a `config list` running meanwhile (another
    // process) never read a conflicting file.
    expect(statSync(file).mtimeMs).toBe(written);
    expect(configGet('max-channel-deposit', opts).source).toBe('default');
    expect(configGet('default-deposit', opts).value).toBe(40n * M2M);
    // A broken file can still be repaired with set/reset.
    writeFileSync(join(h, 'crosstown.toml'), 'relay-urls = ["nope"]\n');
    expect(() => configList(opts)).toThrow(/relay url 'nope'/);
    configReset('relay-urls', opts);
    expect(configList(opts)).toHaveLength(SETTING_KEYS.length);
  });
});
