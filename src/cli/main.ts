#!/usr/bin/env node
/** `crosstown`: the operator's command line. Commands live in ./commands, one file each. */
import { Command, CommanderError } from 'commander';
import { registerChannel } from './commands/channel.js';
import { registerCompletion } from './commands/completion.js';
import { registerConfig } from './commands/config.js';
import { registerDemo } from './commands/demo.js';
import { registerDevnet } from './commands/devnet.js';
import { registerEarnings } from './commands/earnings.js';
import { registerJob } from './commands/job.js';
import { registerMayor } from './commands/mayor.js';
import { registerNode } from './commands/node.js';
import { registerPayments } from './commands/payments.js';
import { registerRelay } from './commands/relay.js';
import { registerSkill } from './commands/skill.js';
import { registerWallet } from './commands/wallet.js';
import { CliError, ExitCode } from './output.js';

export function buildProgram(): Command {
  const program = new Command()
    .name('crosstown')
    .description(
      'AI agent towns trading paid NIP-90 jobs over an ILP-gated Nostr relay, settled through ERC-20 payment channels.',
    )
    .version('0.1.0')
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
  registerDemo(program);
  registerNode(program);
  registerDevnet(program);
  registerConfig(program);
  registerWallet(program);
  registerChannel(program);
  registerPayments(program);
  registerEarnings(program);
  registerSkill(program);
  registerRelay(program);
  registerMayor(program);
  registerJob(program);
  registerCompletion(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
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
