// `crosstown wallet …` and `crosstown channel …` through the real binary against a real anvil (startDevChain).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevChain, readChannel, startDevChain } from '../../src/chain/index.js';
import { json, runCli, tempHome } from './helpers.js';
import {
  channelCloseShape,
  channelListShape,
  channelOpenShape,
  channelStatusShape,
  channelTopupShape,
  exportKeyShape,
  problems,
  walletBalanceShape,
  walletConfigureShape,
} from './shapes.js';

const M2M = 10n ** 18n;
let chain: DevChain;
let home: string;
let env: Record<string, string>;
let chainFlags: string[];

async function rpc(method: string, params: unknown[]): Promise<unknown> {
  const res = await fetch(chain.network.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return ((await res.json()) as { result: unknown }).result;
}

beforeAll(async () => {
  chain = await startDevChain();
  home = tempHome();
  const pass = join(home, 'pass.txt');
  writeFileSync(pass, 'correct horse battery staple\n', { mode: 0o600 });
  env = { CROSSTOWN_HOME: home, CROSSTOWN_PASSPHRASE_FILE: pass };
  chainFlags = [
    '--rpc-url',
    chain.network.rpcUrl,
    '--token',
    chain.network.token,
    '--channels',
    chain.network.channels,
  ];
});

afterAll(async () => {
  await chain?.stop();
});

describe('crosstown wallet', () => {
  it('configures the wallet from a key file, shows balances with the network, exports the key only when confirmed', async () => {
    const account = chain.anvil.accounts[1]!;
    const keyFile = join(home, 'key.txt');
    writeFileSync(keyFile, `${account.privateKey}\n`, { mode: 0o600 });
    const configured = await runCli(
      ['wallet', 'configure', '--key-file', keyFile, '--yes', '--format', 'json'],
      env,
    );
    expect(configured.status, configured.stderr).toBe(0);
    expect(problems(walletConfigureShape, json(configured))).toEqual([]);
    expect(json(configured)).toMatchObject({ address: account.address, replaced: false });
    expect(configured.stdout).not.toContain(account.privateKey.slice(2));

    const [again, balance, text, noConfirm] = await Promise.all([
      runCli(['wallet', 'configure', '--key-file', keyFile, '--yes'], env),
      runCli(['wallet', 'balance', ...chainFlags, '--format', 'json'], env),
      runCli(['wallet', 'balance', ...chainFlags], env),
      runCli(['wallet', 'export-key'], env),
    ]);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('--force');
    expect(problems(walletBalanceShape, json(balance))).toEqual([]);
    expect(json(balance)).toMatchObject({
      network: 'devnet',
      chainId: chain.network.chainId,
      m2m: (1000n * M2M).toString(),
    });
    expect(text.stdout).toContain(`Network: devnet (chain ${chain.network.chainId})`);
    expect(text.stdout).toContain('M2M: 1000');
    // Without a terminal and without --yes, nothing is printed: exit 2 and the warning on stderr.
    expect(noConfirm.status).toBe(2);
    expect(noConfirm.stdout).toBe('');
    expect(noConfirm.stderr).toContain('WARNING');

    const exported = await runCli(['wallet', 'export-key', '--yes', '--format', 'json'], env);
    expect(exported.status, exported.stderr).toBe(0);
    expect(problems(exportKeyShape, json(exported))).toEqual([]);
    expect(json(exported)).toMatchObject({
      address: account.address,
      privateKey: account.privateKey.toLowerCase(),
    });
    expect(exported.stderr).toContain('WARNING');

    const wrongPass = join(home, 'wrong.txt');
    writeFileSync(wrongPass, 'nope\n');
    const wrong = await runCli(['wallet', 'export-key', '--yes', '--passphrase-file', wrongPass], env);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('Wrong passphrase');
    expect(wrong.stdout).toBe('');
    const noPassFile = await runCli(['wallet', 'export-key', '--yes'], { CROSSTOWN_HOME: home });
    expect(noPassFile.status).toBe(2);
    expect(noPassFile.stderr).toContain('--passphrase-file');
  }, 120_000);
});

describe('crosstown channel', () => {
  it('opens, reads, tops up, lists and closes a channel; refuses above the max deposit with exit 4', async () => {
    const receiver = chain.anvil.accounts[2]!.address;
    const [tooBig, noYes] = await Promise.all([
      runCli(['channel', 'open', ...chainFlags, '--deposit', '150', '--receiver', receiver, '--yes'], env),
      runCli(['channel', 'open', ...chainFlags, '--deposit', '10', '--receiver', receiver], env),
    ]);
    expect(tooBig.status).toBe(4);
    expect(tooBig.stderr).toContain('max-channel-deposit');
    expect(noYes.status).toBe(2);
    expect(noYes.stderr).toContain('--yes');

    const open = await runCli(
      [
        'channel',
        'open',
        ...chainFlags,
        '--deposit',
        '50',
        '--receiver',
        receiver,
        '--challenge-window',
        '3600',
        '--yes',
        '--format',
        'json',
      ],
      env,
    );
    expect(open.status, open.stderr).toBe(0);
    const opened = json(open) as { channelId: `0x${string}`; deposit: string };
    expect(problems(channelOpenShape, opened)).toEqual([]);
    expect(opened).toMatchObject({ deposit: (50n * M2M).toString(), state: 'open', receiver });
    const onChain = await readChannel(chain.deployer.public, {
      channels: chain.network.channels,
      channelId: opened.channelId,
    });
    expect(onChain.deposit).toBe(50n * M2M);
    const id = opened.channelId;

    const [status, statusText, topupRefused] = await Promise.all([
      runCli(['channel', 'status', id, ...chainFlags, '--format', 'json'], env),
      runCli(['channel', 'status', id, ...chainFlags], env),
      runCli(['channel', 'topup', id, ...chainFlags, '--amount', '60', '--yes'], env),
    ]);
    expect(problems(channelStatusShape, json(status))).toEqual([]);
    expect(json(status)).toMatchObject({ available: (50n * M2M).toString(), lowBalance: false });
    expect(statusText.stdout).toContain('Network: devnet');
    expect(topupRefused.status).toBe(4);

    const topup = await runCli(
      ['channel', 'topup', id, ...chainFlags, '--amount', '25', '--yes', '--format', 'json'],
      env,
    );
    expect(topup.status, topup.stderr).toBe(0);
    expect(problems(channelTopupShape, json(topup))).toEqual([]);
    expect(json(topup)).toMatchObject({ deposit: (75n * M2M).toString(), added: (25n * M2M).toString() });

    const list = await runCli(['channel', 'list', ...chainFlags, '--format', 'json'], env);
    expect(problems(channelListShape, json(list))).toEqual([]);
    const listed = (json(list) as { channels: { channelId: string; role: string; deposit: string }[] })
      .channels;
    expect(listed).toEqual([
      expect.objectContaining({ channelId: id, role: 'sender', deposit: (75n * M2M).toString() }),
    ]);

    const close = await runCli(['channel', 'close', id, ...chainFlags, '--yes', '--format', 'json'], env);
    expect(close.status, close.stderr).toBe(0);
    expect(problems(channelCloseShape, json(close))).toEqual([]);
    expect(json(close)).toMatchObject({ action: 'close-started', state: 'closing' });
    const waiting = await runCli(['channel', 'close', id, ...chainFlags, '--yes', '--format', 'json'], env);
    expect(json(waiting)).toMatchObject({ action: 'waiting', state: 'closing' });

    await rpc('evm_increaseTime', [3601]);
    await rpc('evm_mine', []);
    const withdrawn = await runCli(['channel', 'close', id, ...chainFlags, '--yes', '--format', 'json'], env);
    expect(withdrawn.status, withdrawn.stderr).toBe(0);
    expect(problems(channelCloseShape, json(withdrawn))).toEqual([]);
    expect(json(withdrawn)).toMatchObject({
      action: 'withdrawn',
      state: 'settled',
      refunded: (75n * M2M).toString(),
    });
  }, 180_000);

  it('says the chain is unavailable (exit 3), refuses mainnet without the flag (exit 2) and bad ids (exit 2)', async () => {
    const id = `0x${'11'.repeat(32)}`;
    const [down, mainnet, badId, unknown] = await Promise.all([
      runCli(
        ['channel', 'status', id, '--rpc-url', 'http://127.0.0.1:9', '--channels', chain.network.channels],
        env,
      ),
      runCli(['channel', 'list', '--network', 'base'], env),
      runCli(['channel', 'status', '0x1234', ...chainFlags], env),
      runCli(['channel', 'status', id, ...chainFlags], env),
    ]);
    expect(down.status).toBe(3);
    expect(down.stderr).toContain('crosstown devnet up');
    expect(mainnet.status).toBe(2);
    expect(mainnet.stderr).toContain('--allow-mainnet');
    expect(badId.status).toBe(2);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('does not exist');
  });
});
