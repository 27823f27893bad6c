#!/usr/bin/env node
import { readFileSync } from 'node:fs';
/**
 * `crosstown`: the operator's command line. Commands live in ./commands, one file each, and are loaded lazily: a
 * run imports only the module of the command it names (`--version` imports none), so start-up does not pay for
 * viem, the relay or the dashboard when a command does not use them (docs/cli.md "Start-up").
 */
import { Command, CommanderError } from 'commander';
import { CliError, ExitCode } from './output.js';

type Register = (program: Command) => void;

/** The package's version (src/cli and dist/cli both sit two levels below package.json). */
function packageVersion(): string {
  return (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
}

/** Top-level commands in help order: name -> loader of its register function. To add one, add one line. */
const COMMANDS: Record<string, () => Promise<Register>> = {
  demo: async () => (await import('./commands/demo.js')).registerDemo,
  node: async () => (await import('./commands/node.js')).registerNode,
  devnet: async () => (await import('./commands/devnet.js')).registerDevnet,
  config: async () => (await import('./commands/config.js')).registerConfig,
  wallet: async () => (await import('./commands/wallet.js')).registerWallet,
  channel: async () => (await import('./commands/channel.js')).registerChannel,
  payments: async () => (await import('./commands/payments.js')).registerPayments,
  skill: async () => (await import('./commands/skill.js')).registerSkill,
  relay: async () => (await import('./commands/relay.js')).registerRelay,
  mayor: async () => (await import('./commands/mayor.js')).registerMayor,
  job: async () => (await import('./commands/job.js')).registerJob,
  earnings: async () => (await import('./commands/earnings.js')).registerEarnings,
  completion: async () => (await import('./commands/completion.js')).registerCompletion,
};

/**
 * Which commands a run needs: only the one it names; none for `--version`; all of them for the top-level help,
 * an unknown command (so commander can suggest the right one) and `completion` (it prints the whole tree).
 */
export function commandsFor(argv: readonly string[] | undefined): string[] {
  const all = Object.keys(COMMANDS);
  if (argv === undefined) return all;
  const args = argv.slice(2);
  const operands = args.filter((a) => !a.startsWith('-'));
  const named = operands[0] === 'help' ? operands[1] : operands[0];
  if (named === undefined) {
    const versionOnly =
      args.some((a) => a === '-V' || a === '--version') && !args.some((a) => a === '-h' || a === '--help');
    return versionOnly ? [] : all;
  }
  if (named === 'completion' || !(named in COMMANDS)) return all;
  return [named];
}

/** The program with the commands `argv` needs (every command when argv is omitted). */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command()
    .name('crosstown')
    .description(
      'AI agent towns trading paid NIP-90 jobs over an ILP-gated Nostr relay, settled through ERC-20 payment channels.',
    )
    .version(packageVersion())
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 failure, 2 usage error, 3 a relay/connector/chain was unavailable or refused, 4 refused by a configured limit.

Example:
  $ crosstown demo              run the journeys end to end on a local devnet
  $ crosstown demo --format json`,
    )
    .exitOverride();
  const names = commandsFor(argv);
  const registers = await Promise.all(names.map((name) => COMMANDS[name]!()));
  for (const register of registers) register(program);
  return program;
}

/** A reader that stops early (`crosstown … | head`) closes the pipe: end quietly, as other Unix tools do. */
let pipeGuarded = false;
function quietOnClosedPipe(): void {
  if (pipeGuarded) return;
  pipeGuarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
}

export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipe();
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
    return ExitCode.Ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with code 0.
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    if (error instanceof CliError) {
      process.stderr.write(`crosstown: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(
      `crosstown: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return ExitCode.Failure;
  }
}

const isEntryPoint =
  process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isEntryPoint) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
