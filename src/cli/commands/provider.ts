// `crosstown provider reports <pubkey>`: the NIP-56 reports (kind 1984) a relay holds about a provider, each
// fraud proof verified here with public data alone (docs/provider.md "Fraud proofs and reports"), and whether
// this Mayor has stopped buying from that provider. `crosstown provider blocked`: the providers it stopped buying
// from, with the reason and the report.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CliError, ExitCode, printResult } from '../output.js';
import { addBase, type BaseOptions, helpExamples, loadConfig, run } from './common.js';

interface ReportsOptions extends BaseOptions {
  relayUrl?: string;
  timeout: string;
}

/** --relay-url, else the first configured relay, else the running devnet's relay. */
function relayUrlFor(o: ReportsOptions, config: { relayUrls: string[]; home: string }): string {
  if (o.relayUrl) return o.relayUrl;
  if (config.relayUrls[0]) return config.relayUrls[0];
  const file = join(config.home, 'devnet.json');
  if (existsSync(file)) {
    try {
      const url = (JSON.parse(readFileSync(file, 'utf8')) as { relayUrl?: string }).relayUrl;
      if (url) return url;
    } catch {
      // an unreadable devnet.json names no relay
    }
  }
  throw new CliError(
    'no relay to read from: pass --relay-url ws://…, `crosstown config set relay-urls ws://…`, or start `crosstown devnet up`',
    ExitCode.Usage,
  );
}

const date = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString().replace('.000Z', 'Z');

export function registerProvider(program: Command): void {
  const provider = program.command('provider').description('Providers: what others report about them');
  helpExamples(
    addBase(
      provider
        .command('reports')
        .description('List the reports (NIP-56, kind 1984) about a provider and verify each fraud proof'),
    )
      .argument('<pubkey>', "the provider's Nostr public key (64 hex characters)")
      .option(
        '--relay-url <url>',
        'relay to read from (default: the relay-urls setting, or the devnet relay)',
      )
      .option('--timeout <ms>', 'how long to wait for the relay', '10000'),
    [
      'crosstown provider reports 3bf0c63fcb93463407af97a5e5ee64fa883d107ef9e558472c4eb9aaaefa459d',
      'crosstown provider reports <pubkey> --relay-url ws://127.0.0.1:7777 --format json',
    ],
    'A fraud proof verifies when the result it embeds is signed by the provider, the key it reveals hashes to the\n' +
      "result's condition (so only the provider can have released it), and the result does not decrypt under that\n" +
      'key or contradicts its signed summary. Anyone can check it: it needs no key of yours. Reading is free.',
  ).action(
    run(async (pubkey: string, o: ReportsOptions) => {
      if (!/^[0-9a-f]{64}$/.test(pubkey))
        throw new CliError(
          `"${pubkey}" is not a public key: give the provider's 64 lowercase hex characters`,
          ExitCode.Usage,
        );
      const timeoutMs = Number(o.timeout);
      if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0)
        throw new CliError('--timeout must be a positive number of milliseconds', ExitCode.Usage);
      const config = loadConfig(o);
      const relayUrl = relayUrlFor(o, config);
      const { providerReports } = await import('../../mayor/fraud/reports.js');
      const { Blocklist } = await import('../../mayor/fraud/blocklist.js');
      let reports: Awaited<ReturnType<typeof providerReports>>;
      try {
        reports = await providerReports(relayUrl, pubkey, { timeoutMs });
      } catch (err) {
        throw new CliError(
          `could not read reports from ${relayUrl}: ${(err as Error).message} (is the relay running? check --relay-url)`,
          ExitCode.Unavailable,
        );
      }
      let blocked: { reason: string; since: string; reportId: string | null } | null = null;
      try {
        const entry = Blocklist.open(config.stateDir).get(pubkey);
        if (entry)
          blocked = {
            reason: entry.reason,
            since: new Date(entry.at).toISOString(),
            reportId: entry.reportId ?? null,
          };
      } catch {
        // No readable blocklist for this Mayor: it has blocked nobody we can show.
      }
      const rows = reports.map((r) => ({
        id: r.id,
        reporter: r.reporter,
        date: date(r.createdAt),
        type: r.type,
        fraudProof: r.fraudProof,
        resultEventId: r.resultEventId ?? null,
        verified: r.verified,
        code: r.code,
        reason: r.reason,
        claim: r.claim,
      }));
      const proven = rows.filter((r) => r.verified).length;
      printResult(o.format, {
        value: {
          provider: pubkey,
          relay: relayUrl,
          reports: rows,
          verified: proven,
          blockedByThisMayor: blocked,
        },
        rows,
        text: () =>
          [
            `Reports about ${pubkey} on ${relayUrl}: ${rows.length} (${proven} verified fraud proof${proven === 1 ? '' : 's'})`,
            blocked
              ? `This Mayor stopped buying from it on ${blocked.since}: ${blocked.reason}`
              : 'This Mayor has not blocked it.',
            ...rows.flatMap((r) => [
              '',
              `${r.id}  ${r.date}  verified: ${r.verified ? 'yes' : 'no'}`,
              `  reporter ${r.reporter}`,
              `  ${r.fraudProof ? 'fraud proof' : `report (${r.type})`}${r.resultEventId ? ` about result ${r.resultEventId}` : ''}`,
              ...(r.claim ? [`  claims:  ${r.claim}`] : []),
              `  checked: ${r.reason}`,
            ]),
          ].join('\n'),
      });
    }),
  );

  helpExamples(
    addBase(
      provider
        .command('blocked')
        .description('The providers this Mayor stopped buying from after a proven fraud, and why'),
    ),
    ['crosstown provider blocked', 'crosstown provider blocked --name alpha --format json'],
    'Read from <state dir>/blocked-providers.json. To buy from a provider again, stop the Mayor and remove its entry.',
  ).action(
    run(async (o: BaseOptions) => {
      const config = loadConfig(o);
      const { Blocklist } = await import('../../mayor/fraud/blocklist.js');
      const list = Blocklist.open(config.stateDir).list();
      const rows = list.map((e) => ({
        pubkey: e.pubkey,
        since: new Date(e.at).toISOString(),
        reason: e.reason,
        jobId: e.jobId ?? null,
        resultEventId: e.resultEventId ?? null,
        reportId: e.reportId ?? null,
        published: e.published,
      }));
      printResult(o.format, {
        value: { file: Blocklist.open(config.stateDir).path, providers: rows },
        rows,
        text: () =>
          rows.length === 0
            ? 'This Mayor buys from every provider: none is blocked.'
            : rows
                .map(
                  (r) =>
                    `${r.pubkey}  blocked since ${r.since}\n  ${r.reason}${r.reportId ? `\n  report ${r.reportId}${r.published ? '' : ' (not on the relay yet: sent at the next start)'}` : '\n  no public report (the evidence was private)'}`,
                )
                .join('\n'),
      });
    }),
  );
}
