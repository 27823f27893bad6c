// `crosstown devnet up|down`: the embedded default on this machine. `up` starts anvil, the contracts, a node and
// the two Mayors (Alpha requester, Beta ci-cd-linux provider), runs until Ctrl-C and records its endpoints (and
// its pid) in $CROSSTOWN_HOME/devnet.json; `down` stops it from another terminal.
import { join } from 'node:path';
import type { Command } from 'commander';
import { type Address, isAddress } from 'viem';
import { formatM2M, parseM2M } from '../../chain/index.js';
import {
  devnetFilePath,
  devnetWithMayorsInfo,
  fundOnDevnet,
  isAlive,
  readDevnetFile,
  removeDevnetFile,
  startDevnetWithMayors,
  writeDevnetFile,
} from '../../devnet/index.js';
import { crosstownHome } from '../../node/config.js';
import { createLogger, type LogLevel } from '../../node/logger.js';
import type { SkillLogger } from '../../skills/types.js';
import { CliError, ExitCode, type OutputFormat, parseFormat, printResult } from '../output.js';
import { loadConfig, run, walletAddress } from './common.js';
import { exitSoonAfterStop, waitForSignal } from './node.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function registerDevnet(program: Command): void {
  const devnet = program
    .command('devnet')
    .description(
      'A local network on this machine: anvil, contracts, funded accounts, a node, Mayor-Alpha and Mayor-Beta',
    )
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
    .option('--log-level <level>', 'node and Mayor logs on stderr: debug | info | warn | error', 'warn')
    .addHelpText(
      'after',
      `
Starts anvil on a free port, deploys the M2M token and the PaymentChannels contract, funds the node's wallet and
the Mayors "alpha" and "beta" (ETH for gas, 1000 M2M), starts a node (relay + connector) on free ports, then
Mayor-Beta (provider of ci-cd-linux jobs, bwrap sandbox when it works here) and Mayor-Alpha (requester); each
opens a 50 M2M channel to the node. Their state lives in $CROSSTOWN_HOME/devnet/<name>/ (emptied at each up).
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
      const net = await startDevnetWithMayors({
        logger: createLogger({ level: options.logLevel }),
        mayorLogger: stderrLogger(options.logLevel),
        home: join(crosstownHome(), 'devnet'),
      });
      const info = devnetWithMayorsInfo(net);
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
          ...Object.values(info.running).flatMap((m) => [
            {
              name: `${m.name}.role`,
              value: `${m.label}, ${m.role}${m.sandbox ? ` (ci-cd-linux, sandbox ${m.sandbox})` : ''}`,
            },
            { name: `${m.name}.pubkey`, value: m.pubkey },
            { name: `${m.name}.ilpAddress`, value: m.ilpAddress },
            { name: `${m.name}.wallet`, value: m.walletAddress },
            { name: `${m.name}.channel`, value: m.channelId },
            { name: `${m.name}.stateDir`, value: m.stateDir },
          ]),
        ];
        printResult(options.format, {
          value: { ...info, pid: process.pid, file },
          rows,
          text: () =>
            [
              'crosstown devnet is up (Ctrl-C or `crosstown devnet down` to stop)',
              ...rows.map((r) => `  ${r.name.padEnd(22)} ${r.value}`),
              `  endpoints and keys in ${file}`,
              ...(info.running.beta.sandbox === 'none'
                ? [
                    '  note: no sandbox works here (bwrap missing or not permitted), so Mayor-Beta refuses jobs from',
                    '  requesters it does not trust; `crosstown demo` grants that permission for its own job only',
                  ]
                : []),
            ].join('\n'),
        });
        await waitForSignal();
      } finally {
        await net.stop();
        removeDevnetFile(file, process.pid);
        exitSoonAfterStop();
      }
    });

  registerFund(devnet);

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

function registerFund(devnet: Command): void {
  devnet
    .command('fund')
    .description('The devnet faucet: add M2M and ETH (gas) to a wallet on the running devnet')
    .argument('[address]', 'wallet to fund (default: the Mayor wallet in the keystore)')
    .option('--m2m <amount>', 'M2M to mint, decimal', '100')
    .option('--eth <amount>', 'ETH to add for gas, decimal', '1')
    .option('--home <dir>', 'crosstown home (default $CROSSTOWN_HOME or ~/.crosstown)')
    .option('--name <mayor>', 'Mayor whose wallet is funded (default $CROSSTOWN_MAYOR_NAME or "mayor")')
    .option('--format <format>', 'output: text | json | csv', parseFormat, 'text' as OutputFormat)
    .addHelpText(
      'after',
      `
Only on a devnet started by \`crosstown devnet up\` (its endpoints come from devnet.json); on Base Sepolia use the
M2M faucet and a testnet ETH faucet instead.

Example:
  $ crosstown wallet configure --generate && crosstown devnet fund
  $ crosstown devnet fund 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC --m2m 250 --format json`,
    )
    .action(
      run(
        async (
          address: string | undefined,
          o: { m2m: string; eth: string; home?: string; name?: string; format: OutputFormat },
        ) => {
          if (o.home) process.env.CROSSTOWN_HOME = o.home;
          const state = readDevnetFile(devnetFilePath());
          if (!state || !isAlive(state.pid)) {
            throw new CliError(
              'no devnet is running: start one with `crosstown devnet up`',
              ExitCode.Unavailable,
            );
          }
          let to: Address;
          if (address !== undefined) {
            if (!isAddress(address)) throw new CliError(`"${address}" is not a 0x address`, ExitCode.Usage);
            to = address;
          } else {
            to = walletAddress(
              loadConfig({ ...(o.home ? { home: o.home } : {}), ...(o.name ? { name: o.name } : {}) }),
            );
          }
          const amount = (v: string, flag: string) => {
            try {
              return parseM2M(v);
            } catch {
              throw new CliError(`${flag} "${v}" is not a decimal amount`, ExitCode.Usage);
            }
          };
          const funded = await fundOnDevnet({
            rpcUrl: state.rpcUrl,
            chainId: state.chainId,
            token: state.token as Address,
            to,
            m2m: amount(o.m2m, '--m2m'),
            eth: amount(o.eth, '--eth'), // ETH has 18 decimals too
          });
          const value = { network: 'devnet', address: funded.address, m2m: funded.m2m, eth: funded.eth };
          printResult(o.format, {
            value,
            rows: [value],
            text: () =>
              `Network: devnet (chain ${state.chainId})\nFunded ${to}: now ${formatM2M(funded.m2m)} M2M, ${formatM2M(funded.eth)} ETH`,
          });
        },
      ),
    );
}

/** Mayor log lines on stderr at or above `level` (stdout stays the endpoints). */
function stderrLogger(level: LogLevel): SkillLogger {
  const order = ['debug', 'info', 'warn', 'error'];
  const at = (l: string) => (m: string) => {
    if (order.indexOf(l) >= order.indexOf(level)) process.stderr.write(`mayor ${l}: ${m}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
