// `crosstown mayor start|attach|status`: run the Mayor daemon in the foreground (start), or with the terminal
// dashboard over it (attach), and ask a running one how it is (status). A running Mayor serves `job …` and
// `mayor status` from other terminals through its control socket (control.ts).
import { existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { join } from 'node:path';
import type { Command } from 'commander';
import { formatM2M } from '../../chain/index.js';
import { type MayorConfig, providerConfigProblem, resolveConfig } from '../../mayor/config/index.js';
import { ensureNostrKey, keyInfo, resolveWalletKey } from '../../mayor/keystore/index.js';
// The runtime, skills loader and dashboard (Ink, React) are loaded only by the commands that run a Mayor, so every
// other command starts without them.
import { MayorError } from '../../mayor/runtime/errors.js';
import type { Mayor, MayorStatus } from '../../mayor/runtime/index.js';
import type { Filter } from '../../nostr/types.js';
import { CliError, ExitCode, note, printResult, toJson } from '../output.js';
import { withProgress } from '../progress.js';
import { readPassphrase } from '../prompt.js';
import {
  addBase,
  addChain,
  type BaseOptions,
  type ChainOptions,
  configFlags,
  configuredContracts,
  helpExamples,
  loadConfig,
  run,
} from './common.js';
import {
  type ControlRequest,
  closeControl,
  controlRequest,
  controlSocketPath,
  serveControl,
} from './control.js';

export interface MayorOptions extends ChainOptions {
  relayUrls?: string;
  connectorBtp?: string;
  nodePubkey?: string;
  acceptPrice?: boolean;
  resetChannelState?: boolean;
}

const network = (config: MayorConfig) =>
  `Network: ${config.network}${config.network === 'base' ? ' (MAINNET: real money)' : ''}`;

function mayorFlags(cmd: Command): Command {
  return addChain(cmd)
    .option('--relay-urls <urls>', 'relays, comma-separated (env CROSSTOWN_RELAY_URL)')
    .option('--connector-btp <url>', 'the node connector (env CROSSTOWN_CONNECTOR_BTP)')
    .option(
      '--node-pubkey <hex>',
      "the node's Nostr pubkey (env CROSSTOWN_NODE_PUBKEY; else found on the relay)",
    )
    .option('--accept-price', 'accept a relay price above max-base-price-per-byte', false)
    .option(
      '--reset-channel-state',
      'after a chain reset (a restarted devnet): forget channels the chain no longer has and open a new one',
      false,
    );
}

function loadMayorConfig(o: MayorOptions): MayorConfig {
  const flags = { ...configFlags(o), 'relay-urls': o.relayUrls, 'connector-btp': o.connectorBtp };
  const config = resolveConfig({ flags }).values;
  // On the devnet, what is not configured comes from the running `crosstown devnet up` (devnet.json).
  const devnet = config.network === 'devnet' ? readDevnetEndpoints(config.home) : undefined;
  if (!devnet) return config;
  return resolveConfig({
    flags: {
      ...flags,
      ...(config.relayUrls.length === 0 ? { 'relay-urls': devnet.relayUrl } : {}),
      ...(config.connectorBtp ? {} : { 'connector-btp': devnet.btpUrl }),
      ...(config.rpcUrl ? {} : { 'rpc-url': devnet.rpcUrl }),
    },
  }).values;
}

/** The running devnet's endpoints, if `crosstown devnet up` recorded them in this home. */
function readDevnetEndpoints(
  home: string,
): { relayUrl: string; btpUrl: string; rpcUrl: string; node?: { pubkey?: string } } | undefined {
  const file = join(home, 'devnet.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Named subscriptions opened from the CLI (`relay subscribe`): events go to the skill pipeline. */
const openSubs = new Map<string, () => void>();

function openSubscription(mayor: Mayor, name: string, filters: Filter[], since?: number): void {
  openSubs.get(name)?.();
  openSubs.set(
    name,
    mayor.pool.subscribe(
      name,
      filters,
      (e) =>
        void mayor.pipeline.dispatch(e.toon, { eventId: e.event.id, relayUrl: e.relayUrl }).catch(() => {}),
      since !== undefined ? { since } : {},
    ),
  );
}

/** Provider mode in `mayor status`: what it serves, the jobs served in this run and what they earned. */
export interface ProviderStatus {
  jobTypes: string[];
  price: string;
  served: Record<'running' | 'done' | 'refused' | 'failed', number>;
  earned: string;
}

function providerStatus(mayor: Mayor): ProviderStatus | undefined {
  const p = mayor.provider();
  if (!p) return undefined;
  const served = { running: 0, done: 0, refused: 0, failed: 0 };
  for (const j of p.jobs()) served[j.state]++;
  const prices = Object.values(p.service.prices);
  return {
    jobTypes: Object.keys(p.service.prices),
    price: (prices[0] ?? 0n).toString(),
    served,
    earned: p.earned().toString(),
  };
}

/** The results subscription belongs to the runtime; every other saved one was opened with `relay subscribe`. */
const RUNTIME_SUBS = new Set(['results']);

/** The control requests a running Mayor answers. */
function controlHandler(mayor: Mayor, socket: string) {
  const job = (id: unknown) => {
    const j = mayor.state.jobs.get(String(id));
    if (!j)
      throw new MayorError(
        'JOB_UNKNOWN',
        `no job ${String(id)} in this Mayor's state: see \`crosstown job list\``,
      );
    // The callback skill's one-line summary ("Build: SUCCESS | Tests: 4/4 passed"), once the result was routed.
    const summary = mayor.results().get(j.id)?.result.summary;
    return summary === undefined ? j : { ...j, summary };
  };
  return async (req: ControlRequest): Promise<unknown> => {
    switch (req.op) {
      case 'status':
        return { ...mayor.status(), pid: process.pid, socket, provider: providerStatus(mayor) };
      case 'jobs':
        return mayor.jobs();
      case 'offers': {
        const { findOffers } = await import('../../mayor/offers.js');
        return findOffers(
          mayor.pool,
          String(req.jobType),
          typeof req.kind === 'number' ? req.kind : undefined,
        );
      }
      case 'job':
        return job(req.id);
      case 'post': {
        const r = req.request as Record<string, unknown>;
        return mayor.postJob({
          ...(r as { jobType: string }),
          ...(typeof r.bid === 'string' ? { bid: BigInt(r.bid) } : {}),
        });
      }
      case 'cancel':
        job(req.id);
        return mayor.state.jobs.put({
          id: String(req.id),
          status: 'cancelled',
          error: 'cancelled by the operator',
        });
      case 'wait':
        job(req.id);
        await mayor.settled([String(req.id)], Number(req.timeoutMs ?? 30_000));
        return job(req.id);
      case 'subscriptions':
        return mayor.state.subscriptions.list();
      case 'subscribe': {
        const name = String(req.name);
        if (RUNTIME_SUBS.has(name))
          throw new MayorError(
            'BAD_OPTIONS',
            `"${name}" is the Mayor's own subscription: choose another name`,
          );
        const filters = req.filters as Filter[];
        const since = typeof req.since === 'number' ? req.since : undefined;
        const rec = mayor.state.subscriptions.set(name, filters, since);
        openSubscription(mayor, name, filters, since);
        return rec;
      }
      case 'unsubscribe': {
        const name = String(req.name);
        if (RUNTIME_SUBS.has(name))
          throw new MayorError('BAD_OPTIONS', `"${name}" is the Mayor's own subscription and stays open`);
        openSubs.get(name)?.();
        openSubs.delete(name);
        if (!mayor.state.subscriptions.remove(name))
          throw new MayorError(
            'BAD_OPTIONS',
            `no subscription named "${name}": see \`crosstown relay status\``,
          );
        return { name, removed: true };
      }
      default:
        throw new MayorError('BAD_OPTIONS', `unknown control request ${JSON.stringify(req.op)}`);
    }
  };
}

interface Running {
  mayor: Mayor;
  config: MayorConfig;
  socket: string;
  server: Server;
  stop(): Promise<void>;
}

/**
 * Where the Mayor's log lines go: stderr, except while the dashboard owns the terminal (a line printed then
 * would tear the frame); those are kept and printed once the dashboard is gone.
 */
export function logSink() {
  let held: string[] | undefined;
  const write = (m: string) => (held ? held.push(m) : note(m));
  return {
    logger: { debug: () => {}, info: write, warn: write, error: write },
    hold: () => {
      held ??= [];
    },
    release: () => {
      const lines = held ?? [];
      held = undefined;
      for (const m of lines) note(m);
    },
  };
}

/** Typical size of a ci result event with compressed logs: what a provider pays the relay to publish one. */
const RESULT_BYTES_ESTIMATE = 5000n;

/** Unlocks the keys, loads skills, starts the Mayor (SPSP handshake, channel) and its control socket. */
async function boot(o: MayorOptions, sink = logSink()): Promise<Running> {
  const config = loadMayorConfig(o);
  const providerProblem = providerConfigProblem(config);
  if (providerProblem) throw new CliError(providerProblem, ExitCode.Usage);
  if (config.relayUrls.length === 0) {
    throw new CliError(
      'no relay is configured: pass --relay-urls or `crosstown config set relay-urls ws://…`',
      ExitCode.Usage,
    );
  }
  const socket = controlSocketPath(config);
  if ((await controlRequest(socket, { op: 'status' }, 2000).catch(() => undefined)) !== undefined) {
    throw new CliError(
      `a Mayor named ${config.name} is already running (${socket}): use \`crosstown mayor status\``,
      ExitCode.Usage,
    );
  }
  if (o.format === 'text') note(network(config));
  const encrypted =
    keyInfo(config.keystoreDir, 'wallet') !== undefined || keyInfo(config.keystoreDir, 'nostr') !== undefined;
  const passphrase = await readPassphrase({
    passphraseFile: o.passphraseFile,
    yes: o.yes,
    confirmNew: !encrypted,
  });
  const unlockWallet = () =>
    resolveWalletKey({
      dir: config.keystoreDir,
      passphrase,
      env: { ...process.env, GASTOWN_ALLOW_UNENCRYPTED_KEYS: config.allowUnencryptedKeys ? 'true' : 'false' },
      onWarning: note,
    });
  // Both keys at once when both exist (each scrypt takes about half a second on its own thread), the wallet's error
  // first. A Nostr key is only created once the wallet unlocked, so a mistyped passphrase never seals a new key.
  const [walletKey, nostrKey] = keyInfo(config.keystoreDir, 'nostr')
    ? await Promise.allSettled([unlockWallet(), ensureNostrKey({ dir: config.keystoreDir, passphrase })])
    : [{ status: 'fulfilled' as const, value: await unlockWallet() }, undefined];
  if (walletKey.status === 'rejected') throw walletKey.reason;
  if (nostrKey?.status === 'rejected') throw nostrKey.reason;
  const wallet = walletKey.value;
  const nostr = nostrKey?.value ?? (await ensureNostrKey({ dir: config.keystoreDir, passphrase }));
  if (nostr.created) note(`created the Mayor's Nostr key (${nostr.pubkey}) in ${config.keystoreDir}`);
  const { loadSkills } = await import('../../skills/loader.js');
  const { startMayor, expectedSettlementFor } = await import('../../mayor/runtime/index.js');
  const loaded = await loadSkills({ skillsDir: config.skillsDir, context: { identityPubkey: nostr.pubkey } });
  for (const p of loaded.problems) note(`skill ${p.source}: ${p.message}`);
  const nodePubkey =
    o.nodePubkey ??
    process.env.CROSSTOWN_NODE_PUBKEY ??
    (config.network === 'devnet' ? readDevnetEndpoints(config.home)?.node?.pubkey : undefined);
  const mayor = await withProgress('attaching: relay, SPSP handshake, payment channel', o, () =>
    startMayor({
      config,
      walletKey: wallet.secretKey,
      nostrSecretKey: nostr.secretKey,
      ...(nodePubkey ? { nodePubkey } : {}),
      expectedSettlement: expectedSettlementFor(config.network, configuredContracts(o, config)),
      skills: loaded.skills,
      ...(o.acceptPrice ? { acceptPrice: true } : {}),
      ...(o.resetChannelState ? { resetChannelState: true } : {}),
      logger: sink.logger,
    }),
  );
  wallet.secretKey.fill(0);
  const perByte = mayor.status().basePricePerByte;
  if (config.provider.enabled && perByte !== undefined) {
    const writeFee = RESULT_BYTES_ESTIMATE * perByte;
    if (config.provider.price < writeFee) {
      note(
        `warning: provider.price ${formatM2M(config.provider.price)} M2M is below the relay fee for publishing a result (about ${formatM2M(writeFee)} M2M for ${RESULT_BYTES_ESTIMATE} bytes at ${formatM2M(perByte)} M2M per byte): every job would lose money; raise it with \`crosstown config set provider.price ${formatM2M(writeFee * 2n)}${config.name === 'mayor' ? '' : ` --name ${config.name}`}\``,
      );
    }
  }
  // Reopen the subscriptions saved by `relay subscribe`, from where they stopped.
  for (const sub of mayor.state.subscriptions.list()) {
    if (!RUNTIME_SUBS.has(sub.name)) openSubscription(mayor, sub.name, sub.filters, sub.since);
  }
  let server: Server;
  try {
    server = await serveControl(socket, controlHandler(mayor, socket));
  } catch (err) {
    await mayor.stop();
    throw err;
  }
  return {
    mayor,
    config,
    socket,
    server,
    stop: async () => {
      await closeControl(server, socket);
      await mayor.stop();
    },
  };
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => () => resolve(sig);
    process.once('SIGINT', on('SIGINT'));
    process.once('SIGTERM', on('SIGTERM'));
  });
}

/** The JSON shape of `mayor status` (docs/cli.md "mayor"). */
export function statusJson(
  s: MayorStatus & { pid?: number; provider?: ProviderStatus | undefined },
  running: boolean,
) {
  return {
    running,
    name: s.name,
    pubkey: s.pubkey,
    network: s.network,
    chainId: s.chainId ?? null,
    relays: s.relays.map((r) => ({ url: r.url, status: r.status, subscriptions: r.subscriptions })),
    connector: s.connector.status,
    channel: s.channel
      ? {
          channelId: s.channel.channelId,
          deposit: s.channel.deposit.toString(),
          spent: s.channel.spent.toString(),
          remaining: s.channel.remaining.toString(),
        }
      : null,
    jobs: s.jobs,
    held: s.held,
    localMode: s.localMode,
    provider: s.provider ?? null,
    pid: s.pid ?? null,
  };
}

function statusText(s: ReturnType<typeof statusJson>): string {
  return [
    `Mayor ${s.name} (${s.pubkey.slice(0, 16)}…) running, pid ${s.pid}`,
    `Network: ${s.network}${s.chainId !== null ? ` (chain ${s.chainId})` : ''}`,
    ...s.relays.map((r) => `Relay: ${r.url} (${r.status}, ${r.subscriptions} subscriptions)`),
    `Connector: ${s.connector}`,
    s.channel
      ? `Channel: ${s.channel.channelId.slice(0, 18)}… ${formatM2M(BigInt(s.channel.remaining))} of ${formatM2M(BigInt(s.channel.deposit))} M2M left`
      : 'Channel: none yet',
    `Jobs: ${
      Object.entries(s.jobs)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    }${s.held.length ? `; ${s.held.length} waiting for payment approval` : ''}`,
    ...(s.provider
      ? [
          `Provider: serves ${s.provider.jobTypes.join(', ')} at ${formatM2M(BigInt(s.provider.price))} M2M; this run: ${s.provider.served.done} served, ${s.provider.served.running} running, ${s.provider.served.refused} refused, ${s.provider.served.failed} failed; earned ${formatM2M(BigInt(s.provider.earned))} M2M`,
        ]
      : []),
    ...(s.localMode ? ['LOCAL MODE: no relay reachable, jobs are kept until one is back'] : []),
  ].join('\n');
}

export function registerMayor(program: Command): void {
  const mayor = program.command('mayor').description('The Mayor daemon: start it, watch it, ask how it is');

  helpExamples(
    mayorFlags(
      mayor.command('start').description('Run the Mayor in the foreground until Ctrl-C (SIGINT) or SIGTERM'),
    ),
    [
      'crosstown mayor start',
      'crosstown mayor start --yes --passphrase-file ~/.crosstown/pass --format json   # for systemd and scripts',
    ],
    'Prints one line when it is ready (json: the status object) and runs until SIGINT/SIGTERM; exits 0 after a clean stop.',
  ).action(
    run(async (o: MayorOptions) => {
      const r = await boot(o);
      const s = statusJson(
        { ...r.mayor.status(), pid: process.pid, provider: providerStatus(r.mayor) },
        true,
      );
      // json: exactly one line when ready, so a supervisor can read it with a line reader.
      if (o.format === 'json')
        process.stdout.write(`${toJson({ ...s, socket: r.socket }).replace(/\n\s*/g, '')}\n`);
      else
        printResult(o.format, {
          value: undefined,
          rows: [{ name: s.name, pubkey: s.pubkey, network: s.network, pid: s.pid, socket: r.socket }],
          text: () => `${statusText(s)}\nControl socket: ${r.socket}\nRunning; Ctrl-C to stop.`,
        });
      const sig = await waitForSignal();
      note(`${sig}: stopping the Mayor (committing state)…`);
      await r.stop();
      note('stopped');
    }),
  );

  helpExamples(
    mayorFlags(
      mayor
        .command('attach')
        .description('Start the Mayor and watch it in the terminal dashboard (q to quit)'),
    ),
    ['crosstown mayor attach', 'crosstown mayor attach --network base-sepolia'],
    'The dashboard shows the network, relays, channel balance, jobs and payments. Quitting stops the Mayor cleanly.',
  ).action(
    run(async (o: MayorOptions) => {
      if (process.stdout.isTTY !== true) {
        throw new CliError(
          'mayor attach draws a dashboard and needs a terminal: use `crosstown mayor start` in scripts',
          ExitCode.Usage,
        );
      }
      const sink = logSink();
      const r = await boot(o, sink);
      const { renderDashboard } = await import('../../tui/index.js');
      const { mayorDashboardSource } = await import('../../mayor/runtime/index.js');
      sink.hold();
      const dashboard = renderDashboard(
        mayorDashboardSource(r.mayor, { lowBalanceThreshold: r.config.lowBalanceThreshold }),
      );
      const sig = waitForSignal().then(() => dashboard.unmount());
      await Promise.race([dashboard.waitUntilExit(), sig]);
      sink.release();
      await r.stop();
    }),
  );

  helpExamples(
    addBase(
      mayor
        .command('status')
        .description('How the running Mayor is: relays, connector, channel, jobs (exit 3 when none runs)'),
    ),
    ['crosstown mayor status', 'crosstown mayor status --format json | jq .channel.remaining'],
  ).action(
    run(async (o: BaseOptions) => {
      const format = o.format;
      const config = loadConfig(o);
      const socket = controlSocketPath(config);
      const s = (await controlRequest(socket, { op: 'status' }, 10_000)) as
        | (MayorStatus & { pid: number; provider?: ProviderStatus })
        | undefined;
      if (!s) {
        if (format === 'json')
          process.stdout.write(
            `${JSON.stringify({ running: false, name: config.name, network: config.network })}\n`,
          );
        throw new CliError(
          `no Mayor named ${config.name} is running (${network(config)}): start it with \`crosstown mayor start\``,
          ExitCode.Unavailable,
        );
      }
      const restore = (v: unknown) => (typeof v === 'string' && /^\d+$/.test(v) ? BigInt(v) : (v as bigint));
      const channel = s.channel
        ? {
            channelId: s.channel.channelId,
            deposit: restore(s.channel.deposit),
            spent: restore(s.channel.spent),
            remaining: restore(s.channel.remaining),
          }
        : undefined;
      const value = statusJson({ ...s, ...(channel ? { channel } : {}) }, true);
      printResult(format, {
        value,
        rows: [{ name: value.name, network: value.network, connector: value.connector, pid: value.pid }],
        text: () => statusText(value),
      });
    }),
  );
}
