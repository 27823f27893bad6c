// `crosstown devnet up|down`: the embedded default on this machine. `up` runs until Ctrl-C and records its
// endpoints (and its pid) in $CROSSTOWN_HOME/devnet.json; `down` stops it from another terminal.
import type { Command } from 'commander';
import {
  devnetFilePath,
  devnetInfo,
  isAlive,
  readDevnetFile,
  removeDevnetFile,
  startDevnet,
  writeDevnetFile,
} from '../../devnet/index.js';
import { createLogger, type LogLevel } from '../../node/logger.js';
import { CliError, ExitCode, type OutputFormat, parseFormat, printResult } from '../output.js';
import { exitSoonAfterStop, waitForSignal } from './node.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function registerDevnet(program: Command): void {
  const devnet = program
    .command('devnet')
    .description('A local network on this machine: anvil, contracts, funded accounts and a node')
    .addHelpText(
      'after',
      `
Example:
  $ crosstown devnet up --format json
  $ crosstown devnet down`,
    );

  devnet
    .command('up')
    .description('Start the devnet, print every endpoint, and run until Ctrl-C (or `crosstown devnet down`)')
    .option('--format <format>', 'output: text | json | csv', parseFormat, 'text' as OutputFormat)
    .option('--log-level <level>', 'node logs on stderr: debug | info | warn | error', 'warn')
    .addHelpText(
      'after',
      `
Starts anvil on a free port, deploys the M2M token and the PaymentChannels contract, funds the node's wallet and
the Mayors "alpha" and "beta" (ETH for gas, 1000 M2M), and starts a node (relay + connector) on free ports.
Endpoints and the devnet's throwaway keys are written to $CROSSTOWN_HOME/devnet.json (default ~/.crosstown).

Example:
  $ crosstown devnet up
  $ crosstown devnet up --format json > devnet.json   # in another terminal: crosstown devnet down`,
    )
    .action(async (options: { format: OutputFormat; logLevel: LogLevel }) => {
      const file = devnetFilePath();
      const existing = readDevnetFile(file);
      if (existing && isAlive(existing.pid)) {
        throw new CliError(
          `a devnet is already running (pid ${existing.pid}, ${file}); stop it with \`crosstown devnet down\``,
        );
      }
      const net = await startDevnet({ logger: createLogger({ level: options.logLevel }) });
      const info = devnetInfo(net);
      try {
        writeDevnetFile(file, { ...info, pid: process.pid, startedAt: new Date().toISOString() });
        const rows = [
          { name: 'rpc', value: info.rpcUrl },
          { name: 'chainId', value: String(info.chainId) },
          { name: 'token', value: info.token },
          { name: 'channels', value: info.channels },
          { name: 'relay', value: info.relayUrl },
          { name: 'btp', value: info.btpUrl },
          { name: 'spsp', value: info.spspUrl },
          { name: 'nodeIlpAddress', value: info.node.ilpAddress },
          { name: 'nodePubkey', value: info.node.pubkey },
          { name: 'nodeSettlementAddress', value: info.node.settlementAddress },
          ...Object.values(info.mayors).map((m) => ({ name: `mayor.${m.name}`, value: m.walletAddress })),
        ];
        printResult(options.format, {
          value: { ...info, pid: process.pid, file },
          rows,
          text: () =>
            [
              'crosstown devnet is up (Ctrl-C or `crosstown devnet down` to stop)',
              ...rows.map((r) => `  ${r.name.padEnd(22)} ${r.value}`),
              `  endpoints and keys in ${file}`,
            ].join('\n'),
        });
        await waitForSignal();
      } finally {
        await net.stop();
        removeDevnetFile(file, process.pid);
        exitSoonAfterStop();
      }
    });

  devnet
    .command('down')
    .description(
      'Stop the devnet started by `crosstown devnet up` (by the pid in devnet.json) and wait for it',
    )
    .option('--timeout <seconds>', 'how long to wait before killing it', '30')
    .addHelpText(
      'after',
      `
Example:
  $ crosstown devnet down`,
    )
    .action(async (options: { timeout: string }) => {
      const file = devnetFilePath();
      const state = readDevnetFile(file);
      if (!state) {
        process.stdout.write(`no devnet is running (no ${file})\n`);
        return;
      }
      if (!isAlive(state.pid)) {
        removeDevnetFile(file);
        process.stdout.write(`no devnet is running (pid ${state.pid} is gone); removed the stale ${file}\n`);
        return;
      }
      process.kill(state.pid, 'SIGTERM');
      const deadline = Date.now() + Number(options.timeout) * 1000;
      while (isAlive(state.pid) && Date.now() < deadline) await sleep(100);
      if (isAlive(state.pid)) {
        process.kill(state.pid, 'SIGKILL');
        removeDevnetFile(file);
        throw new CliError(
          `the devnet (pid ${state.pid}) did not stop within ${options.timeout} s; killed it`,
          ExitCode.Failure,
        );
      }
      removeDevnetFile(file);
      process.stdout.write(`devnet stopped (pid ${state.pid})\n`);
    });
}
