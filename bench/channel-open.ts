// `channel open` on the devnet chain (anvil, automine, contracts deployed): the library call (openChannel: approve
// + open, each waited for its receipt) and the CLI command as a user runs it (`crosstown channel open … --yes`, a
// child process: start-up, wallet unlock, approve + open). Medians of a few runs, wall clock.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createChainClients, openChannel, startDevChain } from '../src/chain/index.js';
import { runCli, tempHome } from '../test/cli/helpers.js';

const RUNS = Number(process.env.BENCH_CHANNEL_RUNS ?? 3);
const M2M = 10n ** 18n;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function channelOpen(): Promise<void> {
  const chain = await startDevChain({ accounts: 4 });
  try {
    const sender = createChainClients({
      rpcUrl: chain.network.rpcUrl,
      chainId: chain.network.chainId,
      privateKey: chain.anvil.accounts[1]!.privateKey,
    });
    const receiver = chain.anvil.accounts[3]!.address;
    const lib: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      await openChannel(sender, {
        channels: chain.network.channels,
        token: chain.network.token,
        receiver,
        amount: 10n * M2M,
        challengeWindow: 86_400n,
      });
      lib.push(performance.now() - t0);
    }

    const home = tempHome();
    const pass = join(home, 'pass.txt');
    writeFileSync(pass, 'bench passphrase\n', { mode: 0o600 });
    const keyFile = join(home, 'key.txt');
    writeFileSync(keyFile, `${chain.anvil.accounts[2]!.privateKey}\n`, { mode: 0o600 });
    const env = { CROSSTOWN_HOME: home, CROSSTOWN_PASSPHRASE_FILE: pass };
    const configured = await runCli(['wallet', 'configure', '--key-file', keyFile, '--yes'], env);
    if (configured.status !== 0) throw new Error(`wallet configure failed: ${configured.stderr}`);
    const args = [
      'channel',
      'open',
      '--rpc-url',
      chain.network.rpcUrl,
      '--token',
      chain.network.token,
      '--channels',
      chain.network.channels,
      '--deposit',
      '10',
      '--receiver',
      receiver,
      '--yes',
      '--format',
      'json',
    ];
    const cli: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const r = await runCli(args, env);
      if (r.status !== 0) throw new Error(`crosstown channel open failed: ${r.stderr}`);
      cli.push(performance.now() - t0);
    }
    console.log(
      `channel open on the devnet (anvil, automine), median of ${RUNS}: library openChannel (approve + open) ${median(lib).toFixed(0)} ms; ` +
        `CLI \`crosstown channel open --deposit 10 --yes\` (process start, wallet unlock, approve + open) ${median(cli).toFixed(0)} ms`,
    );
  } finally {
    await chain.stop();
  }
}
