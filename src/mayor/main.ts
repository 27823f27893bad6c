// Runs a Mayor as a process (crash tests now, `crosstown mayor start` later). Configuration comes from the
// environment / crosstown.toml (src/mayor/config); keys from the encrypted keystore, whose passphrase is the
// first line on stdin (never an argument or a variable, so it shows in no process listing or log).
//
// Protocol: after the passphrase line, each stdin line is a JSON command:
//   {"post": {"jobType": "...", "params": {...}, "bid": "<base units>", "callbackSkill": "..."}}
//   {"chain": [{"jobType": "...", "bid": "...", "callbackSkill": "..."}, ...]}
//   {"stop": true}
// and stdout carries one JSON object per line: {"ready": {...}}, {"posted": {...}}, {"chain": "<id>"},
// {"job": {"id", "status"}}, {"error": "..."}, {"stopped": true}. Fault injection: CROSSTOWN_FAULT (docs/mayor.md).
import { createInterface } from 'node:readline';
import { loadSkills } from '../skills/loader.js';
import { resolveConfig } from './config/index.js';
import { keyInfo, readKey, resolveWalletKey } from './keystore/index.js';
import { faultsFromEnv, type Mayor, startMayor } from './runtime/index.js';

const out = (obj: unknown) =>
  process.stdout.write(`${JSON.stringify(obj, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);

async function main(): Promise<void> {
  const config = resolveConfig({ env: process.env }).values;
  const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const first = await lines.next();
  const passphrase = first.done ? '' : first.value;

  if (!keyInfo(config.keystoreDir, 'nostr')) {
    throw new Error(`No Nostr key in ${config.keystoreDir}: create one first (crosstown keys init).`);
  }
  // Both keys are unlocked at once: each scrypt takes about half a second on its own thread. The wallet's error
  // (the one a user fixes first) is the one reported when both fail.
  const [walletKey, nostrKey] = await Promise.allSettled([
    resolveWalletKey({
      dir: config.keystoreDir,
      ...(passphrase ? { passphrase } : {}),
      onWarning: (m) => process.stderr.write(`${m}\n`),
    }),
    readKey({ dir: config.keystoreDir, entry: 'nostr', passphrase }),
  ]);
  if (walletKey.status === 'rejected') throw walletKey.reason;
  if (nostrKey.status === 'rejected') throw nostrKey.reason;
  const wallet = walletKey.value;
  const nostrSecretKey = nostrKey.value;
  const loaded = await loadSkills({ skillsDir: config.skillsDir, context: { identityPubkey: '' } });
  for (const p of loaded.problems) process.stderr.write(`skill ${p.source}: ${p.message}\n`);

  const mayor: Mayor = await startMayor({
    config,
    walletKey: wallet.secretKey,
    nostrSecretKey,
    ...(process.env.CROSSTOWN_NODE_PUBKEY ? { nodePubkey: process.env.CROSSTOWN_NODE_PUBKEY } : {}),
    skills: loaded.skills,
    fault: faultsFromEnv(),
    logger: {
      debug: () => {},
      info: (m) => process.stderr.write(`${m}\n`),
      warn: (m) => process.stderr.write(`${m}\n`),
      error: (m) => process.stderr.write(`${m}\n`),
    },
  });
  mayor.on('job', (j: { id: string; status: string }) => out({ job: { id: j.id, status: j.status } }));
  const stop = async () => {
    await mayor.stop();
    out({ stopped: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  out({ ready: { pubkey: mayor.pubkey, pending: mayor.state.jobs.pending().length } });

  for (;;) {
    const next = await lines.next();
    if (next.done) break;
    if (!next.value.trim()) continue;
    try {
      const cmd = JSON.parse(next.value) as Record<string, unknown>;
      if (cmd.stop) break;
      const big = (x: unknown) => (typeof x === 'string' || typeof x === 'number' ? BigInt(x) : undefined);
      if (cmd.post) {
        const p = cmd.post as Record<string, unknown>;
        const bid = big(p.bid);
        out({
          posted: await mayor.postJob({
            ...(p as { jobType: string }),
            ...(bid !== undefined ? { bid } : {}),
          }),
        });
      } else if (Array.isArray(cmd.chain)) {
        const steps = (cmd.chain as Record<string, unknown>[]).map((s) => {
          const bid = big(s.bid);
          return { ...(s as { jobType: string }), ...(bid !== undefined ? { bid } : {}) };
        });
        out({ chain: await mayor.postChain(steps) });
      }
    } catch (err) {
      out({ error: (err as Error).message });
    }
  }
  await stop();
}

main().catch((err) => {
  process.stderr.write(`crosstown mayor: ${(err as Error).message}\n`);
  process.exit(1);
});
