// Start-up (docs/cli.md "Start-up"): which tree the launcher runs, which modules a command loads, and the
// viem-free wallet address derivation that keeps local commands fast.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { isAddress } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { afterAll, describe, expect, it } from 'vitest';
import { distState } from '../../bin/dist-current.js';
import { commandsFor } from '../../src/cli/main.js';
import { evmAddressOf, isEvmAddress } from '../../src/mayor/keystore/evm-address.js';
import { BIN } from './helpers.js';

const root = resolve(import.meta.dirname, '../..');
const temp = mkdtempSync(join(tmpdir(), 'crosstown-startup-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('launcher: dist/ only while it is current', () => {
  const at = (file: string, seconds: number) => utimesSync(file, seconds, seconds);
  const tree = () => {
    const dir = mkdtempSync(join(temp, 'pkg-'));
    mkdirSync(join(dir, 'src', 'cli'), { recursive: true });
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'src', 'cli', 'main.ts'), '');
    writeFileSync(join(dir, 'src', 'index.ts'), '');
    at(join(dir, 'src', 'cli', 'main.ts'), 1_000);
    at(join(dir, 'src', 'index.ts'), 1_000);
    return dir;
  };

  it('is missing without a build stamp (never built, or the build failed)', () => {
    expect(distState(tree())).toBe('missing');
  });

  it('is current when every src file is older than the stamp, stale once one (however deep) is newer', () => {
    const dir = tree();
    writeFileSync(join(dir, 'dist', '.build-stamp'), '');
    at(join(dir, 'dist', '.build-stamp'), 2_000);
    expect(distState(dir)).toBe('current');
    at(join(dir, 'src', 'cli', 'main.ts'), 2_001);
    expect(distState(dir)).toBe('stale');
  });

  it('runs dist/ when there is no src/ at all (a packed install)', () => {
    const dir = mkdtempSync(join(temp, 'packed-'));
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'dist', '.build-stamp'), '');
    expect(distState(dir)).toBe('current');
  });

  it('answers --version and a command --help from source as from the launcher', () => {
    const env = { ...process.env, CROSSTOWN_FROM_SOURCE: '1' };
    expect(execFileSync(process.execPath, [BIN, '--version'], { env, encoding: 'utf8' }).trim()).toBe(
      '0.1.0',
    );
    const help = execFileSync(process.execPath, [BIN, 'job', 'status', '--help'], { env, encoding: 'utf8' });
    expect(help).toContain('Example:');
    expect(execFileSync(process.execPath, [BIN, '--version'], { encoding: 'utf8' }).trim()).toBe('0.1.0');
  });

  it('installs bin/crosstown, a sh script that answers --version itself and runs everything else in Node', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(pkg.bin.crosstown).toBe('bin/crosstown');
    // npm links the bin through a symlink (node_modules/.bin/crosstown): the script finds its files through it.
    const link = join(temp, 'crosstown-link');
    symlinkSync(join(root, 'bin', 'crosstown'), link);
    expect(execFileSync(link, ['--version'], { encoding: 'utf8' })).toBe(`${pkg.version}\n`);
    expect(execFileSync(link, ['-V'], { encoding: 'utf8' })).toBe(`${pkg.version}\n`);
    const help = execFileSync(link, ['job', 'status', '--help'], { encoding: 'utf8' });
    expect(help).toContain('Example:');
    // Exit codes come from the CLI itself (exec, no wrapper in between).
    const typo = spawnSync(link, ['jbo'], { encoding: 'utf8' });
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain('job');
  });

  it('ends quietly when the reader closes the pipe early (`crosstown --help | head -1`)', () => {
    // `true` exits without reading, long before Node has started: every write meets a closed pipe.
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" --help | true`], {
      encoding: 'utf8',
    });
    expect(r.stderr).not.toContain('EPIPE');
    expect(r.stderr).toBe('');
  });
});

describe('lazy commands', () => {
  const argv = (...a: string[]) => ['node', 'crosstown', ...a];

  it('loads only the command the line names, none for --version, all for help, typos and completion', () => {
    const all = commandsFor(undefined);
    expect(all.length).toBeGreaterThanOrEqual(12);
    expect(commandsFor(argv('--version'))).toEqual([]);
    expect(commandsFor(argv('-V'))).toEqual([]);
    expect(commandsFor(argv('job', 'status', 'abc', '--format', 'json'))).toEqual(['job']);
    expect(commandsFor(argv('help', 'channel'))).toEqual(['channel']);
    expect(commandsFor(argv('--help'))).toEqual(all);
    expect(commandsFor(argv())).toEqual(all);
    expect(commandsFor(argv('jbo', 'status'))).toEqual(all);
    expect(commandsFor(argv('completion', 'bash'))).toEqual(all);
  });

  /** Packages and files reached by static imports (not `import type`, not `import()`) from a source file. */
  function staticGraph(entry: string): Set<string> {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(
        /^(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm,
      )) {
        const spec = m[1]!;
        if (spec.startsWith('.')) {
          // A .js import is its .ts source, except for plain JavaScript beside src/ (bin/dist-current.js).
          const ts = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
          visit(existsSync(ts) ? ts : resolve(dirname(file), spec));
        } else seen.add(spec);
      }
    };
    visit(join(root, entry));
    return seen;
  }

  it('main.ts imports no command module statically, and job status never loads viem', () => {
    const main = [...staticGraph('src/cli/main.ts')];
    expect(main.filter((f) => f.includes('/commands/'))).toEqual([]);
    const job = [...staticGraph('src/cli/commands/job.ts')];
    expect(job.filter((f) => f === 'viem' || f.startsWith('viem/'))).toEqual([]);
    // The walker does see viem where it is imported statically.
    expect(staticGraph('src/chain/index.ts').has('viem')).toBe(true);
  });
});

describe('wallet address without viem', () => {
  it('is the EIP-55 address viem derives, for random keys', () => {
    for (let i = 0; i < 50; i++) {
      const key = randomBytes(32);
      expect(evmAddressOf(key)).toBe(privateKeyToAddress(`0x${key.toString('hex')}`));
    }
  });

  it('refuses a key outside the curve order, as viem does', () => {
    expect(() => evmAddressOf(new Uint8Array(32))).toThrow();
    expect(() => privateKeyToAddress(`0x${'00'.repeat(32)}`)).toThrow();
  });

  it('accepts and refuses addresses exactly as viem isAddress does', () => {
    const address = privateKeyToAddress(`0x${randomBytes(32).toString('hex')}`);
    const flipped = address.replace(/[a-f]/, (c) => c.toUpperCase());
    for (const a of [
      address,
      address.toLowerCase(),
      `0x${address.slice(2).toUpperCase()}`,
      flipped,
      '0x12',
      'abc',
    ]) {
      expect(isEvmAddress(a), a).toBe(isAddress(a));
    }
  });
});
