import type { Command } from 'commander';
import { formatM2M } from '../../chain/index.js';
import { runDemo } from '../../devnet/demo.js';
import { type OutputFormat, parseFormat, printResult } from '../output.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'Run a paid job post end to end on a local devnet (anvil, relay, payment channel); exits 0 on success',
    )
    .option('--format <format>', 'output: text | json | csv', parseFormat, 'text' as OutputFormat)
    .addHelpText(
      'after',
      `
What it does: starts a local anvil chain with the M2M token and the channel contract, an ILP-gated relay on a free
loopback port, opens a 50 M2M channel, posts a TOON-encoded kind 5065 job as a paid ILP PREPARE, redeems the
payment claim on-chain, reads the job back for free, and prints balances before and after. Nothing outside this
machine is used; everything it starts is stopped before it exits.

Example:
  $ crosstown demo
  $ crosstown demo --format json | jq .price`,
    )
    .action(async (options: { format: OutputFormat }) => {
      const progress = options.format === 'text';
      const result = await runDemo((s) => {
        if (progress) process.stdout.write(`  ✓ ${s.step.padEnd(8)} ${s.detail}\n`);
      });
      printResult(options.format, {
        value: result,
        rows: result.steps,
        text: () =>
          [
            '',
            `Network: ${result.network.name} (chain ${result.network.chainId})`,
            `Job ${result.jobId}: ${result.toonBytes} TOON bytes, paid ${formatM2M(result.price)} M2M`,
            `Mayor-Alpha wallet: ${formatM2M(result.requesterBefore)} -> ${formatM2M(result.requesterAfter)} M2M (50 M2M locked in the channel)`,
            `Node wallet:        ${formatM2M(result.nodeBefore)} -> ${formatM2M(result.nodeAfter)} M2M`,
            'Demo succeeded.',
          ].join('\n'),
      });
    });
}
