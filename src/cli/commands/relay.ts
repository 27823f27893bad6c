// `crosstown relay subscribe|status|disconnect`: the running Mayor's relay connections and its named subscriptions
// (events matching them are routed to skills by kind). Without a running Mayor, `status` probes the configured
// relays (NIP-11) and `disconnect` edits the saved subscriptions.
import type { Command } from 'commander';
import type { MayorConfig } from '../../mayor/config/index.js';
import { resolveConfig } from '../../mayor/config/index.js';
import type { RelayState } from '../../mayor/runtime/index.js';
import { openStateRepo, type SubscriptionRecord } from '../../mayor/state/index.js';
import type { Filter } from '../../nostr/types.js';
import { CliError, ExitCode, note, printResult } from '../output.js';
import { addBase, type BaseOptions, configFlags, helpExamples, run } from './common.js';
import { controlRequest, controlSocketPath } from './control.js';

interface RelayOptions extends BaseOptions {
  relayUrls?: string;
}

const config = (o: RelayOptions): MayorConfig =>
  resolveConfig({ flags: { ...configFlags(o), 'relay-urls': o.relayUrls } }).values;

const collect = (v: string, prev: string[]) => [...prev, v];

/** One relay in `relay status` (docs/cli.md "relay"). */
interface RelayJson {
  url: string;
  status: string;
  subscriptions: number | null;
  name: string | null;
  error: string | null;
}

/** NIP-11 over HTTP: is the relay up, and what does it call itself. */
async function probe(url: string): Promise<RelayJson> {
  const http = url.replace(/^ws/, 'http');
  try {
    const res = await fetch(http, {
      headers: { accept: 'application/nostr+json' },
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok)
      return { url, status: 'error', subscriptions: null, name: null, error: `HTTP ${res.status}` };
    const info = (await res.json()) as { name?: string };
    return { url, status: 'reachable', subscriptions: null, name: info.name ?? null, error: null };
  } catch (err) {
    const c = (err as { cause?: { code?: string; errors?: { code?: string }[] } }).cause;
    const cause = c?.code ?? c?.errors?.[0]?.code;
    return {
      url,
      status: 'unreachable',
      subscriptions: null,
      name: null,
      error: cause ?? (err as Error).message,
    };
  }
}

export function registerRelay(program: Command): void {
  const relay = program
    .command('relay')
    .description("Relays: the Mayor's connections and named subscriptions");

  helpExamples(
    addBase(
      relay
        .command('subscribe')
        .description('Open a named subscription on the running Mayor; matching events go to skills'),
    )
      .argument('<name>', 'a name for it (letters, digits, - and _)')
      .requiredOption('--kinds <list>', 'event kinds, comma-separated (e.g. 1059 or 5065)')
      .option('--tag <x=value>', 'tag filter, e.g. t=ci-cd-linux or p=<pubkey> (repeatable)', collect, [])
      .option('--author <pubkey>', 'only events by this author (repeatable)', collect, [])
      .option('--since <unix>', 'only events created at or after this Unix time'),
    [
      'crosstown relay subscribe dms --kinds 1059 --tag p=<my pubkey>',
      'crosstown relay subscribe builds --kinds 5065 --tag t=ci-cd-linux --format json',
    ],
    'The subscription is saved in the Mayor state and reopened (with since) when the Mayor restarts.',
  ).action(
    run(
      async (
        name: string,
        o: RelayOptions & { kinds: string; tag: string[]; author: string[]; since?: string },
      ) => {
        if (!/^[A-Za-z0-9_-]{1,64}$/.test(name))
          throw new CliError(`subscription name "${name}" must be letters, digits, - and _`, ExitCode.Usage);
        const kinds = o.kinds.split(',').map((k) => k.trim());
        if (kinds.some((k) => !/^\d{1,5}$/.test(k)))
          throw new CliError(`--kinds "${o.kinds}" must be comma-separated numbers`, ExitCode.Usage);
        const filter: Filter = { kinds: kinds.map(Number) };
        for (const t of o.tag) {
          const m = /^([A-Za-z])=(.+)$/.exec(t);
          if (!m)
            throw new CliError(
              `--tag "${t}" must be a single letter, =, and a value (t=ci-cd-linux)`,
              ExitCode.Usage,
            );
          const key = `#${m[1]}` as `#${string}`;
          filter[key] = [...((filter[key] as string[] | undefined) ?? []), m[2]!];
        }
        if (o.author.length) filter.authors = o.author;
        if (o.since !== undefined && !/^\d+$/.test(o.since))
          throw new CliError('--since must be Unix seconds', ExitCode.Usage);
        const c = config(o);
        const rec = (await controlRequest(controlSocketPath(c), {
          op: 'subscribe',
          name,
          filters: [filter],
          ...(o.since !== undefined ? { since: Number(o.since) } : {}),
        })) as SubscriptionRecord | undefined;
        if (!rec) {
          throw new CliError(
            `no Mayor named ${c.name} is running: start it (crosstown mayor start), then subscribe`,
            ExitCode.Unavailable,
          );
        }
        const value = { name: rec.name, filters: rec.filters, since: rec.since ?? null };
        printResult(o.format, {
          value,
          rows: [{ name: rec.name, filters: JSON.stringify(rec.filters), since: rec.since ?? '' }],
          text: () => `Subscribed "${rec.name}": ${JSON.stringify(rec.filters)}`,
        });
      },
    ),
  );

  helpExamples(
    addBase(
      relay
        .command('status')
        .description('Relay connections and subscriptions (exit 3 when no relay is reachable)'),
    ).option('--relay-urls <urls>', 'relays to probe when no Mayor runs (default: the relay-urls setting)'),
    ['crosstown relay status', 'crosstown relay status --format json | jq .relays'],
  ).action(
    run(async (o: RelayOptions) => {
      const c = config(o);
      const socket = controlSocketPath(c);
      const live = (await controlRequest(socket, { op: 'status' }, 10_000)) as
        | { relays: RelayState[] }
        | undefined;
      let relays: RelayJson[];
      let subscriptions: SubscriptionRecord[];
      if (live) {
        relays = live.relays.map((r) => ({
          url: r.url,
          status: r.status,
          subscriptions: r.subscriptions,
          name: null,
          error: r.lastError ?? null,
        }));
        subscriptions = (await controlRequest(socket, { op: 'subscriptions' })) as SubscriptionRecord[];
      } else {
        if (c.relayUrls.length === 0) {
          throw new CliError(
            'no relay is configured: pass --relay-urls or `crosstown config set relay-urls ws://…`',
            ExitCode.Usage,
          );
        }
        relays = await Promise.all(c.relayUrls.map(probe));
        subscriptions = [];
      }
      const value = {
        mayorRunning: live !== undefined,
        network: c.network,
        relays,
        subscriptions: subscriptions.map((s) => ({
          name: s.name,
          filters: s.filters,
          since: s.since ?? null,
        })),
      };
      printResult(o.format, {
        value,
        rows: relays,
        text: () =>
          [
            `Network: ${c.network}; Mayor ${c.name} ${live ? 'running' : 'not running (probed the configured relays)'}`,
            ...relays.map(
              (r) =>
                `${r.url}  ${r.status}${r.subscriptions !== null ? `, ${r.subscriptions} subscriptions` : ''}${r.name ? ` (${r.name})` : ''}${r.error ? `: ${r.error}` : ''}`,
            ),
            ...value.subscriptions.map((s) => `subscription ${s.name}: ${JSON.stringify(s.filters)}`),
          ].join('\n'),
      });
      const up = relays.filter((r) => r.status === 'connected' || r.status === 'reachable');
      if (up.length === 0)
        throw new CliError(
          'no relay is reachable: check relay-urls and that the relay runs',
          ExitCode.Unavailable,
        );
    }),
  );

  helpExamples(
    addBase(relay.command('disconnect').description('Close a named subscription and forget it')).argument(
      '<name>',
      'the subscription',
    ),
    ['crosstown relay disconnect dms', 'crosstown relay disconnect builds --format json'],
  ).action(
    run(async (name: string, o: RelayOptions) => {
      const c = config(o);
      let removed = (await controlRequest(controlSocketPath(c), { op: 'unsubscribe', name })) !== undefined;
      if (!removed) {
        const state = await openStateRepo({ dir: c.stateDir });
        try {
          if (name === 'results')
            throw new CliError('"results" is the Mayor\'s own subscription and stays open', ExitCode.Usage);
          removed = state.subscriptions.remove(name);
        } finally {
          await state.close();
        }
        if (!removed)
          throw new CliError(
            `no subscription named "${name}": see \`crosstown relay status\``,
            ExitCode.Usage,
          );
        note('no Mayor is running: removed the saved subscription');
      }
      const value = { name, removed: true };
      printResult(o.format, {
        value,
        rows: [value],
        text: () => `Subscription "${name}" closed and removed`,
      });
    }),
  );
}
