// `crosstown wallet configure|balance|export-key`: the Mayor's EVM wallet in the encrypted keystore.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { formatM2M, tokenBalance } from '../../chain/index.js';
import { keyInfo, readKey, writeKey } from '../../mayor/keystore/index.js';
import { generateSecretKey } from '../../nostr/keys.js';
import { CliError, ExitCode, note, printResult } from '../output.js';
import { withProgress } from '../progress.js';
import { confirm, readPassphrase, readSecret } from '../prompt.js';
import {
  addBase,
  addChain,
  type BaseOptions,
  type ChainOptions,
  chainContext,
  helpExamples,
  loadConfig,
  needToken,
  publicClientFor,
  run,
  walletAddress,
} from './common.js';

interface ConfigureOptions extends BaseOptions {
  keyFile?: string;
  generate: boolean;
  fromEnv: boolean;
  force: boolean;
  passphraseFile?: string;
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new CliError(
      `cannot read the key file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      ExitCode.Usage,
    );
  }
}

export function registerWallet(program: Command): void {
  const wallet = program.command('wallet').description('The Mayor wallet: keystore, balances, key export');

  helpExamples(
    addBase(
      wallet.command('configure').description('Import or generate the wallet key and store it encrypted'),
    )
      .option('--key-file <file>', 'import the hex private key in this file')
      .option('--from-env', 'import GASTOWN_WALLET_PRIVATE_KEY (then unset it)', false)
      .option('--generate', 'create a new random key', false)
      .option('--force', 'replace an existing wallet key (asks first unless --yes)', false)
      .option(
        '--passphrase-file <file>',
        'read the new passphrase from this file (env CROSSTOWN_PASSPHRASE_FILE)',
      ),
    [
      'crosstown wallet configure                # prompts for the key and a passphrase (no echo)',
      'crosstown wallet configure --generate --passphrase-file ~/.pass --yes --format json',
    ],
    'The key is encrypted with AES-256-GCM under a scrypt key from the passphrase; the passphrase is never stored.',
  ).action(
    run(async (o: ConfigureOptions) => {
      const config = loadConfig(o);
      const existing = keyInfo(config.keystoreDir, 'wallet');
      if (existing && !o.force) {
        throw new CliError(
          `a wallet key already exists (${existing.public}, ${existing.path}): pass --force to replace it`,
          ExitCode.Usage,
        );
      }
      if (existing)
        await confirm(
          `Replace the wallet key of ${existing.public}? The old key is lost unless backed up.`,
          o,
        );
      const sources = [o.keyFile !== undefined, o.fromEnv, o.generate].filter(Boolean).length;
      if (sources > 1) throw new CliError('choose one of --key-file, --from-env, --generate', ExitCode.Usage);
      let secretKey: string | Uint8Array;
      if (o.keyFile !== undefined) secretKey = readKeyFile(o.keyFile);
      else if (o.fromEnv) {
        secretKey = process.env.GASTOWN_WALLET_PRIVATE_KEY ?? '';
        if (secretKey === '') throw new CliError('GASTOWN_WALLET_PRIVATE_KEY is not set', ExitCode.Usage);
      } else if (o.generate) secretKey = generateSecretKey();
      else {
        const typed = await readSecret('Wallet private key (hex, hidden; empty to generate one): ', {
          yes: o.yes,
          instead: 'pass --key-file <file>, --from-env or --generate',
        });
        secretKey = typed.trim() === '' ? generateSecretKey() : typed.trim();
      }
      const passphrase = await readPassphrase({
        passphraseFile: o.passphraseFile,
        yes: o.yes,
        confirmNew: true,
      });
      const info = await writeKey({
        dir: config.keystoreDir,
        entry: 'wallet',
        secretKey,
        passphrase,
        overwrite: existing !== undefined,
      });
      if (o.fromEnv)
        note(
          'Imported. Now unset GASTOWN_WALLET_PRIVATE_KEY: the key no longer needs to be in the environment.',
        );
      const value = { address: info.public, keystore: info.path, replaced: existing !== undefined };
      printResult(o.format, {
        value,
        rows: [value],
        text: () => `Wallet ${info.public} stored encrypted in ${info.path}`,
      });
    }),
  );

  helpExamples(
    addChain(wallet.command('balance').description('ETH (gas) and M2M balances of the wallet')).option(
      '--address <address>',
      'another address to look at (default: the configured wallet)',
    ),
    ['crosstown wallet balance', 'crosstown wallet balance --network base-sepolia --format json'],
  ).action(
    run(async (o: ChainOptions & { address?: string }) => {
      const ctx = await chainContext(o);
      const address = (o.address ?? walletAddress(ctx.config)) as `0x${string}`;
      const token = needToken(ctx);
      const client = publicClientFor(ctx);
      const [eth, m2m] = await withProgress(`reading balances on ${ctx.network.name}`, o, () =>
        Promise.all([client.getBalance({ address }), tokenBalance(client, { token, owner: address })]),
      );
      const low = m2m < ctx.config.lowBalanceThreshold;
      const value = {
        network: ctx.network.name,
        chainId: ctx.network.chainId,
        address,
        token,
        eth: eth.toString(),
        m2m: m2m.toString(),
        lowBalance: low,
      };
      printResult(o.format, {
        value,
        rows: [value],
        text: () =>
          [
            ctx.banner,
            `Wallet ${address}`,
            `  M2M: ${formatM2M(m2m)}${low ? `  (below the low-balance threshold of ${formatM2M(ctx.config.lowBalanceThreshold)} M2M)` : ''}`,
            `  ETH: ${formatM2M(eth)} (gas)`,
          ].join('\n'),
      });
    }),
  );

  helpExamples(
    addBase(
      wallet.command('export-key').description('Print the wallet private key (after a confirmation)'),
    ).option(
      '--passphrase-file <file>',
      'read the passphrase from this file (env CROSSTOWN_PASSPHRASE_FILE)',
    ),
    ['crosstown wallet export-key', 'crosstown wallet export-key --yes --passphrase-file ~/.pass > key.txt'],
    'Anyone holding the printed key can spend the wallet. It is printed only after --yes or a typed confirmation.',
  ).action(
    run(async (o: BaseOptions & { passphraseFile?: string }) => {
      const config = loadConfig(o);
      const info = keyInfo(config.keystoreDir, 'wallet');
      if (!info) {
        throw new CliError(
          `no wallet key in ${config.keystoreDir}: run \`crosstown wallet configure\` first`,
          ExitCode.Failure,
        );
      }
      note(
        `WARNING: this prints the private key of ${info.public}. Anyone who sees it can spend from this wallet.`,
      );
      await confirm('Print the private key?', o);
      const passphrase = await readPassphrase({ passphraseFile: o.passphraseFile, yes: o.yes });
      const secret = await readKey({ dir: config.keystoreDir, entry: 'wallet', passphrase });
      const privateKey = `0x${Buffer.from(secret).toString('hex')}`;
      secret.fill(0);
      const value = { address: info.public, privateKey };
      printResult(o.format, { value, rows: [value], text: () => privateKey });
    }),
  );
}
