// startDevnetWithMayors on real parts (anvil, node, two startMayor runtimes with git state, the provider's
// work repo) and the bundled sample repository's archive.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tokenBalance } from '../../src/chain/index.js';
import {
  BETA_PRICE,
  devnetWithMayorsInfo,
  packRepo,
  runDemo,
  SAMPLE_REPO_DIR,
  startDevnetWithMayors,
} from '../../src/devnet/index.js';
import { gone, listening, readEvents } from './helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'crosstown-mayors-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('packRepo (the bundled sample repository)', () => {
  it('is byte-for-byte reproducible and GNU tar extracts a project whose tests pass', () => {
    const a = packRepo();
    const b = packRepo();
    expect(a.base64).toBe(b.base64);
    expect(a.entries).toEqual(['README.md', 'invoice.js', 'package.json', 'test/', 'test/invoice.test.js']);
    const dir = join(scratch, 'extract');
    mkdirSync(dir);
    writeFileSync(join(dir, 'repo.tgz'), Buffer.from(a.base64, 'base64'));
    expect(a.bytes).toBe(Buffer.from(a.base64, 'base64').length);
    const listing = execFileSync('tar', ['-tzvf', 'repo.tgz'], { cwd: dir, encoding: 'utf8' });
    expect(listing).toMatch(/0\/0 .* 2026-01-01 00:00 test\/invoice\.test\.js/);
    execFileSync('tar', ['-xzf', 'repo.tgz'], { cwd: dir });
    rmSync(join(dir, 'repo.tgz'));
    const out = execFileSync(process.execPath, ['--test'], { cwd: dir, encoding: 'utf8' });
    expect(out).toMatch(/# pass 4/);
    expect(out).toMatch(/# fail 0/);
  });

  it('leaves out node_modules and .git, and refuses an empty directory', () => {
    const dir = join(scratch, 'repo');
    mkdirSync(join(dir, 'node_modules', 'x'), { recursive: true });
    mkdirSync(join(dir, '.git'));
    writeFileSync(join(dir, 'node_modules', 'x', 'index.js'), '');
    writeFileSync(join(dir, 'a.js'), 'export {}\n');
    expect(packRepo(dir).entries).toEqual(['a.js']);
    const empty = join(scratch, 'empty');
    mkdirSync(empty);
    expect(() => packRepo(empty)).toThrow(/empty or missing/);
  });

  it('runDemo fails before starting anything when the repository is missing', async () => {
    await expect(runDemo({ repoDir: join(scratch, 'nope') })).rejects.toThrow(/ENOENT|empty or missing/);
  });

  it('SAMPLE_REPO_DIR is examples/sample-repo of this checkout', () => {
    expect(existsSync(join(SAMPLE_REPO_DIR, 'package.json'))).toBe(true);
    expect(SAMPLE_REPO_DIR.endsWith(join('examples', 'sample-repo'))).toBe(true);
  });
});

describe('startDevnetWithMayors', () => {
  it('runs Mayor-Alpha and Mayor-Beta attached with their channels; stop() leaves nothing behind', async () => {
    const home = join(scratch, 'home');
    // An explicit home is emptied first: state from an earlier chain must not be recovered.
    mkdirSync(join(home, 'alpha'), { recursive: true });
    writeFileSync(join(home, 'alpha', 'stale'), 'from an earlier devnet');
    const net = await startDevnetWithMayors({ home });
    let stopped = false;
    try {
      expect(existsSync(join(home, 'alpha', 'stale'))).toBe(false);
      const info = devnetWithMayorsInfo(net);
      // JSON-friendly: no Mayor objects, no functions.
      expect(() => JSON.stringify(info)).not.toThrow();
      expect(Object.keys(info)).not.toContain('alpha');
      const { alpha, beta } = info.running;
      expect(alpha).toMatchObject({ name: 'alpha', role: 'requester', pubkey: net.alpha.pubkey });
      expect(beta).toMatchObject({
        name: 'beta',
        role: 'provider',
        pubkey: net.beta.pubkey,
        jobTypes: ['ci-cd-linux'],
        price: BETA_PRICE.toString(),
      });
      expect(alpha.stateDir).toBe(join(home, 'alpha', 'state'));
      expect(existsSync(join(beta.stateDir, '.git'))).toBe(true);
      // Both attached through the node and opened a 50 M2M channel from their funded wallets.
      for (const [m, who] of [
        [net.alpha, 'alpha'],
        [net.beta, 'beta'],
      ] as const) {
        const channel = m.attachment()!.channel();
        expect(channel.deposit).toBe(50n * 10n ** 18n);
        expect(channel.channelId).toBe(info.running[who].channelId);
        expect(m.status().connector.status).toBe('connected');
        const wallet = await tokenBalance(m.attachment()!.clients.public, {
          token: net.token,
          owner: net.mayors[who]!.walletAddress,
        });
        expect(wallet).toBe(950n * 10n ** 18n);
      }
      // Beta advertised itself (NIP-89) on the node's relay.
      const ads = await readEvents(net.relayUrl, { kinds: [31990], authors: [net.beta.pubkey] });
      expect(ads).toHaveLength(1);
      expect(net.alpha.provider()).toBeUndefined();
      await net.stop();
      stopped = true;
      expect(await gone(net.anvilPid)).toBe(true);
      expect(await listening(net.relayUrl)).toBe(false);
      expect(await listening(net.btpUrl)).toBe(false);
      // An explicit home is kept for inspection after stop.
      expect(existsSync(alpha.stateDir)).toBe(true);
    } finally {
      if (!stopped) await net.stop();
    }
  }, 90_000);

  it('a temporary home is removed by stop()', async () => {
    const net = await startDevnetWithMayors();
    const home = net.mayorsHome;
    expect(existsSync(join(home, 'beta', 'state'))).toBe(true);
    await net.stop();
    expect(existsSync(home)).toBe(false);
    // stop() twice is harmless.
    await net.stop();
  }, 90_000);
});
