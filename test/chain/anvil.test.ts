import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPublicClient, http } from 'viem';
import { describe, expect, it } from 'vitest';
import { startAnvil } from '../../src/chain/index.js';

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');

describe('startAnvil', () => {
  it('starts on a free port with the chosen chain id and the default mnemonic accounts, and stops by pid', async () => {
    const anvil = await startAnvil({ chainId: 4242, accounts: 3, balance: 7 });
    try {
      expect(anvil.port).toBeGreaterThan(0);
      expect(anvil.rpcUrl).toBe(`http://127.0.0.1:${anvil.port}`);
      const client = createPublicClient({ transport: http(anvil.rpcUrl) });
      expect(await client.getChainId()).toBe(4242);
      expect(anvil.accounts).toHaveLength(3);
      // Account 0 of "test test ... junk" is well known.
      expect(anvil.accounts[0]!.address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
      expect(anvil.accounts[0]!.privateKey).toBe(
        '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
      );
      expect(await client.getBalance({ address: anvil.accounts[2]!.address })).toBe(7n * 10n ** 18n);
      expect(isAlive(anvil.pid)).toBe(true);
    } finally {
      await anvil.stop();
    }
    expect(isAlive(anvil.pid)).toBe(false);
    await anvil.stop(); // idempotent
  });

  it('two instances run side by side on different ports', async () => {
    const [a, b] = await Promise.all([startAnvil({ chainId: 1001 }), startAnvil({ chainId: 1002 })]);
    try {
      expect(a.port).not.toBe(b.port);
      expect(await createPublicClient({ transport: http(b.rpcUrl) }).getChainId()).toBe(1002);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('interval mining with blockTime', async () => {
    const anvil = await startAnvil({ blockTime: 1 });
    try {
      const client = createPublicClient({ transport: http(anvil.rpcUrl) });
      const first = await client.getBlockNumber({ cacheTime: 0 });
      await new Promise((r) => setTimeout(r, 2200));
      expect(await client.getBlockNumber({ cacheTime: 0 })).toBeGreaterThan(first);
    } finally {
      await anvil.stop();
    }
  });

  it('leaves no orphan when the owning process exits without stop() (or is killed by SIGTERM)', async () => {
    for (const how of ['exit', 'SIGTERM'] as const) {
      // A child Node process starts anvil, prints its pid, then exits (or waits to be killed).
      const script = `
        const { startAnvil } = await import('./src/chain/anvil.ts');
        const a = await startAnvil();
        console.log(a.pid);
        ${how === 'exit' ? 'process.exit(3);' : 'setInterval(() => {}, 1000);'}
      `;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const pid = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /^(\d+)\s*$/m.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${out}`)));
      });
      expect(isAlive(pid)).toBe(true);
      if (how === 'SIGTERM') child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      // SIGKILL is immediate, but give the kernel a moment to reap.
      const deadline = Date.now() + 3000;
      while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(isAlive(pid), `anvil ${pid} survived its parent (${how})`).toBe(false);
    }
  });
});
