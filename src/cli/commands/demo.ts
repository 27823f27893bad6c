// `crosstown demo`: the journeys end to end on a fresh devnet with Mayor-Alpha and Mayor-Beta (src/devnet/demo.ts).
// Exit 0 only when every check passed; otherwise exit 1 with what failed.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DemoError, runDemo } from '../../devnet/demo.js';
import { CliError, ExitCode, type OutputFormat, parseFormat, printResult } from '../output.js';
import { exitSoonAfterStop } from './node.js';

function parseSandbox(value: string): 'auto' | 'none' {
  if (value === 'auto' || value === 'none') return value;
  throw new CliError(`unknown --sandbox "${value}": use auto or none`, ExitCode.Usage);
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'Run the journeys end to end on a fresh local devnet: Mayor-Alpha posts a ci-cd-linux job, Mayor-Beta runs it, payments settle; exits 0 when every check passed',
    )
    .option('--format <format>', 'output: text | json | csv', parseFormat, 'text' as OutputFormat)
    .option(
      '--sandbox <mode>',
      "Mayor-Beta's sandbox: auto (bwrap when it works here) | none (run the demo job unsandboxed)",
      parseSandbox,
      'auto' as const,
    )
    .option('--repo <dir>', 'send this repository instead of the bundled examples/sample-repo')
    .addHelpText(
      'after',
      `
What it does: starts anvil with the M2M token and the channel contract, a node (relay + connector) and two
Mayors on free loopback ports: Mayor-Alpha (requester) and Mayor-Beta (provider of ci-cd-linux jobs). Each opens
a 50 M2M channel to the node. Alpha posts a job carrying examples/sample-repo (tar.gz, inline) as a paid write;
Beta runs \`node --test\` on it in a Polecat worktree (in bwrap when it works here; otherwise unsandboxed, with
the permission the demo grants for its own job only, and it says so); the result is routed to Alpha's callback
skill; Alpha pays Beta over ILP; the node pays Beta by channel claims and Beta redeems them on-chain.
It checks that the build succeeded, that the result was routed exactly once and that every balance adds up to the
base unit, prints payments and balances before/after, and stops everything it started. Nothing outside this
machine is used.

Example:
  $ crosstown demo
  $ crosstown demo --format json | jq .payments
  $ crosstown demo --repo ./my-project   # its tests must run with \`node --test\` and no install`,
    )
    .action(async (options: { format: OutputFormat; sandbox: 'auto' | 'none'; repo?: string }) => {
      const text = options.format === 'text';
      // Ctrl-C / SIGTERM: the demo stops what it started (temporary homes included) at its next wait.
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      // `on`, not `once`: while a listener stays, anvil's own signal hook leaves the shutdown to us.
      process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
      try {
        const report = await runDemo({
          signal: abort.signal,
          sandbox: options.sandbox,
          ...(options.repo !== undefined && { repoDir: resolve(options.repo) }),
          onLine: (line) => {
            if (text) process.stdout.write(`${line}\n`);
          },
        });
        // Text was printed line by line as it happened.
        if (!text) {
          printResult(options.format, {
            value: report,
            rows: report.checks.map((check) => ({ check, passed: true })),
            text: () => '',
          });
        }
      } catch (err) {
        if (err instanceof DemoError) {
          throw new CliError(
            `demo failed (${err.code}): ${err.message}`,
            err.code === 'INTERRUPTED' ? 130 : ExitCode.Failure,
          );
        }
        throw err;
      } finally {
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
        // Everything is stopped; a library timer left behind must not keep the process alive.
        exitSoonAfterStop();
      }
    });
}
