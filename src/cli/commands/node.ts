// `crosstown node start`: runs the node (connector + relay) until SIGINT/SIGTERM, then shuts down gracefully.
import { type Command, Option } from 'commander';
import { NodeError } from '../../node/errors.js';
import { type NodeFlags, resolveNodeConfig, startNode } from '../../node/index.js';
import { CliError, ExitCode, type OutputFormat, parseFormat, printResult } from '../output.js';

/**
 * After a graceful stop the process should exit by itself; if a library left something running (viem's event
 * watcher keeps polling when its RPC died before it was stopped), exit anyway after `ms`. Unref'd: it never
 * delays a clean exit.
 */
export function exitSoonAfterStop(ms = 2000): void {
  setTimeout(() => process.exit(process.exitCode ?? 0), ms).unref();
}

/** Resolves once the process gets SIGINT or SIGTERM (replacing the default: terminate at once). */
export function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export function registerNode(program: Command): void {
  const node = program
    .command('node')
    .description('Run a crosstown node: the ILP connector and the ILP-gated Nostr relay in one process')
    .addHelpText(
      'after',
      `
Example:
  $ crosstown node start --config crosstown.toml`,
    );
  node
    .command('start')
    .description(
      'Start the node and run until SIGINT/SIGTERM (graceful: in-flight writes finish, the store closes)',
    )
    .option('--config <file>', 'crosstown.toml with a [node] table (or $CROSSTOWN_NODE_CONFIG)')
    .option('--name <name>', 'node name; ILP address g.crosstown.<name> (default node1)')
    .option('--host <host>', 'listen address (default 127.0.0.1)')
    .option('--relay-port <port>', 'relay WebSocket + NIP-11 port, 0 = free port (default 7777)')
    .option('--btp-port <port>', 'BTP WebSocket + SPSP HTTP port, 0 = free port (default 7768)')
    .option('--data-dir <dir>', 'SQLite relay.db and nostr.key (default $CROSSTOWN_HOME/nodes/<name>)')
    .option(
      '--base-price-per-byte <units>',
      'relay write price, base units per byte (default 10000000000000)',
    )
    .option('--nostr-key-file <file>', 'hex Nostr secret key (default <data-dir>/nostr.key, created once)')
    .option('--wallet-key-file <file>', 'hex settlement wallet key (or $CROSSTOWN_NODE_WALLET_KEY)')
    .option('--rpc-url <url>', 'chain RPC URL')
    .option('--chain-id <id>', 'chain id')
    .option('--token <address>', 'M2M token address')
    .option('--channels <address>', 'PaymentChannels contract address')
    .option('--credit-limit <units>', 'most a Mayor may owe before it must send a claim (default 1 M2M)')
    .option('--settle-threshold <units>', 'owed to a Mayor at which the node signs a claim (default 0)')
    .option(
      '--on-chain-threshold <units>',
      'redeem claims on-chain once this much is unredeemed (default: on close)',
    )
    .option('--channel-deposit <units>', 'deposit of channels the node opens to Mayors (default 10 M2M)')
    .option(
      '--database-url <url>',
      'relay event store: postgres://… lets several relay processes share one database (or $CROSSTOWN_RELAY_DATABASE_URL; default SQLite in the data dir)',
    )
    .option('--tls-cert <file>', 'PEM certificate: serve wss:// (relay) and BTP over wss:// (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option(
      '--unused-peer-ttl <seconds>',
      'remove a peer SPSP made for a Nostr key that stays unused this long (default 86400)',
    )
    .option(
      '--max-unused-peers <n>',
      'keep at most this many unused SPSP peers, longest idle removed first (default 10000)',
    )
    .option(
      '--trusted-proxies <ips>',
      'reverse proxies (comma-separated IPs) whose X-Forwarded-For names the client, for per-IP limits (default none)',
    )
    .option(
      '--relay-public-url <url>',
      'the relay URL clients use (wss://relay.example.org behind a proxy); NIP-42 AUTH must name it (default: from the Host header)',
    )
    .option(
      '--btp-public-url <url>',
      'the BTP URL clients use (btp+wss://node.example.org behind a proxy): advertised in peer info and SPSP answers, base of NIP-11 payments_url (default: the listener)',
    )
    .option(
      '--verify-threads <n>',
      'worker threads verifying paid writes (default: one per core, at most 4; 0: main thread)',
    )
    .addOption(
      new Option('--log-level <level>', 'debug | info | warn | error (default info)').choices([
        'debug',
        'info',
        'warn',
        'error',
      ]),
    )
    .option('--format <format>', 'endpoints on start: text | json', parseFormat, 'text' as OutputFormat)
    .addHelpText(
      'after',
      `
Priority: flags > environment (CROSSTOWN_NODE_*) > [node] in crosstown.toml > defaults. Keys come from
CROSSTOWN_NODE_WALLET_KEY / CROSSTOWN_NODE_NOSTR_KEY or key files, never from flags. Logs are JSON lines on stderr.
See docs/node.md.

Example:
  $ export CROSSTOWN_NODE_WALLET_KEY=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
  $ crosstown node start --rpc-url http://127.0.0.1:8545 --chain-id 31337 \\
      --token 0x5FbDB2315678afecb367f032d93F642f64180aa3 --channels 0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512
  $ crosstown node start --config crosstown.toml --log-level debug --format json`,
    )
    .action(async (options: NodeFlags & { config?: string; format: OutputFormat }) => {
      const { config: configFile, format, ...flags } = options;
      let running: Awaited<ReturnType<typeof startNode>>;
      try {
        const config = resolveNodeConfig({ flags, ...(configFile ? { configFile } : {}) });
        running = await startNode(config);
      } catch (err) {
        if (err instanceof NodeError) {
          throw new CliError(
            err.message,
            err.code === 'START_FAILED' ? ExitCode.Unavailable : ExitCode.Usage,
          );
        }
        throw err;
      }
      const endpoints = {
        relayUrl: running.relayUrl,
        btpUrl: running.btpUrl,
        spspUrl: running.spspUrl,
        ilpAddress: running.ilpAddress,
        pubkey: running.pubkey,
        settlementAddress: running.settlementAddress,
      };
      printResult(format, {
        value: endpoints,
        rows: [endpoints],
        text: () =>
          [
            `crosstown node ${running.ilpAddress} is running (Ctrl-C to stop)`,
            `  relay   ${running.relayUrl}`,
            `  btp     ${running.btpUrl}`,
            `  spsp    ${running.spspUrl}`,
            `  pubkey  ${running.pubkey}`,
            `  wallet  ${running.settlementAddress}`,
          ].join('\n'),
      });
      await waitForSignal();
      await running.stop();
      exitSoonAfterStop();
    });
}
