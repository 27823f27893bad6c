// `crosstown provider reports <pubkey>`: the real binary reads a real relay (src/relay on SQLite, loopback)
// holding reports written as paid events: a true fraud proof, one that refers to its result by id, a false
// accusation, a forged key, an ordinary NIP-56 report, and a report about someone else. Each is listed and
// verified with public data only; this Mayor's own blocklist is shown.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conditionOf, deriveFulfillment, IlpPacketType } from '../../src/ilp/index.js';
import { Blocklist } from '../../src/mayor/fraud/blocklist.js';
import { buildFraudReport } from '../../src/mayor/fraud/proof.js';
import { finalizeEvent, generateSecretKey, getPublicKey } from '../../src/nostr/index.js';
import { buildReport } from '../../src/nostr/nip56.js';
import type { NostrEvent } from '../../src/nostr/types.js';
import { AccountSecretStore, type NostrRelay, startRelay } from '../../src/relay/index.js';
import { openSqliteStore } from '../../src/store/index.js';
import { encodeEventBytes } from '../../src/toon/index.js';
import { alphaSk, betaSk, sealedResult } from '../mayor/fraud/sealed.js';
import { json, runCli, tempHome } from './helpers.js';
import { arrayOf, bool, nullable, num, obj, oneOf, problems, str } from './shapes.js';

const beta = getPublicKey(betaSk);
let relay: NostrRelay;
let secrets: AccountSecretStore;
const ids: Record<string, string> = {};

/** A paid write into the relay's ILP gate (bytes x price, a real SPSP account and condition). */
async function paidWrite(event: NostrEvent): Promise<void> {
  const data = encodeEventBytes(event);
  const account = secrets.issue();
  const reply = await relay.handlePrepare({
    type: IlpPacketType.Prepare,
    amount: BigInt(data.length),
    expiresAt: new Date(Date.now() + 10_000),
    executionCondition: conditionOf(deriveFulfillment(account.sharedSecret, data)),
    destination: account.destination,
    data,
  });
  expect(reply.type).toBe(IlpPacketType.Fulfill);
}

const garbage = () => Buffer.from(randomBytes(96)).toString('base64');
const fraud = (
  resultEvent: NostrEvent,
  key: Uint8Array,
  sk: Uint8Array,
  o: { created_at: number; ref?: boolean },
) =>
  finalizeEvent(
    {
      ...buildFraudReport({ resultEvent, key, mismatch: 'does not decrypt', referenceOnly: o.ref ?? false }),
      created_at: o.created_at,
    },
    sk,
  );

const reportShape = obj({
  provider: str,
  relay: str,
  verified: num,
  reports: arrayOf(
    obj({
      id: str,
      reporter: str,
      date: str,
      type: str,
      fraudProof: bool,
      resultEventId: nullable(str),
      verified: bool,
      code: oneOf('DECRYPT_FAILED', 'CONTRADICTS_SUMMARY', 'HONEST', 'INVALID', 'NOT_A_PROOF'),
      reason: str,
      claim: str,
    }),
  ),
  blockedByThisMayor: nullable(obj({ reason: str, since: str, reportId: nullable(str) })),
});

beforeAll(async () => {
  secrets = new AccountSecretStore('g.test.relay');
  relay = await startRelay({
    store: await openSqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'reports-relay-')), 'r.sqlite') }),
    secrets,
    basePricePerByte: 1n,
  });
  const t = Math.floor(Date.now() / 1000) - 100;
  const mallory = generateSecretKey();

  const broken = sealedResult({ ciphertext: garbage() });
  const proof = fraud(broken.result, broken.key, alphaSk, { created_at: t + 5 });
  ids.proof = proof.id;

  // Refers to its result by id: the result itself is on the relay too.
  const big = sealedResult({
    request: undefined,
    plain: JSON.stringify({ build: 'FAILURE', tests: { passed: 0, failed: 3 } }),
  });
  await paidWrite(big.result);
  const byRef = fraud(big.result, big.key, alphaSk, { created_at: t + 4, ref: true });
  ids.byRef = byRef.id;

  const honest = sealedResult();
  const accusation = fraud(honest.result, honest.key, mallory, { created_at: t + 3 });
  ids.accusation = accusation.id;

  const forgedKey = fraud(broken.result, new Uint8Array(randomBytes(32)), mallory, { created_at: t + 2 });
  ids.forgedKey = forgedKey.id;

  const spam = finalizeEvent(
    { ...buildReport({ reported: beta, type: 'spam', content: 'too many adverts' }), created_at: t + 1 },
    mallory,
  );
  ids.spam = spam.id;

  const otherProvider = generateSecretKey();
  const elsewhere = sealedResult({ sk: otherProvider, ciphertext: garbage() });
  await paidWrite(fraud(elsewhere.result, elsewhere.key, alphaSk, { created_at: t }));

  for (const e of [proof, byRef, accusation, forgedKey, spam]) await paidWrite(e);
});
afterAll(async () => {
  await relay?.close();
});

describe('crosstown provider reports', () => {
  it('lists every report about the provider, newest first, and verifies each (--format json)', async () => {
    const home = tempHome();
    const run = await runCli(['provider', 'reports', beta, '--relay-url', relay.url, '--format', 'json'], {
      CROSSTOWN_HOME: home,
    });
    expect(run.status, run.stderr).toBe(0);
    const value = json(run) as {
      reports: Record<string, unknown>[];
      verified: number;
      blockedByThisMayor: unknown;
    };
    expect(problems(reportShape, value)).toEqual([]);
    expect(value.reports.map((r) => r.id)).toEqual([
      ids.proof,
      ids.byRef,
      ids.accusation,
      ids.forgedKey,
      ids.spam,
    ]);
    const byId = Object.fromEntries(value.reports.map((r) => [r.id, r]));
    expect(byId[ids.proof!]).toMatchObject({
      verified: true,
      code: 'DECRYPT_FAILED',
      reporter: getPublicKey(alphaSk),
      fraudProof: true,
    });
    expect(byId[ids.byRef!]).toMatchObject({ verified: true, code: 'CONTRADICTS_SUMMARY' });
    expect(byId[ids.accusation!]).toMatchObject({ verified: false, code: 'HONEST' });
    expect(byId[ids.forgedKey!]).toMatchObject({ verified: false, code: 'INVALID' });
    expect(byId[ids.forgedKey!]!.reason).toMatch(/condition/);
    expect(byId[ids.spam!]).toMatchObject({
      verified: false,
      code: 'NOT_A_PROOF',
      type: 'spam',
      claim: 'too many adverts',
    });
    expect(value.verified).toBe(2);
    expect(value.blockedByThisMayor).toBeNull();
  });

  it('prints id, reporter, date, verified yes/no and the reason, and this Mayor’s block', async () => {
    const home = tempHome();
    Blocklist.open(join(home, 'mayor')).block({
      pubkey: beta,
      reason: 'DECRYPT_FAILED: tag mismatch',
      at: Date.parse('2026-12-01T10:00:00Z'),
      reportId: ids.proof!,
      published: true,
    });
    const run = await runCli(['provider', 'reports', beta, '--relay-url', relay.url], {
      CROSSTOWN_HOME: home,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Reports about ${beta}`);
    expect(run.stdout).toMatch(/: 5 \(2 verified fraud proofs\)/);
    expect(run.stdout).toContain(
      'This Mayor stopped buying from it on 2026-12-01T10:00:00.000Z: DECRYPT_FAILED: tag mismatch',
    );
    expect(run.stdout).toMatch(new RegExp(`${ids.proof}  \\d{4}-\\d\\d-\\d\\dT[0-9:]+Z  verified: yes`));
    expect(run.stdout).toMatch(new RegExp(`${ids.accusation}  .*verified: no`));
    expect(run.stdout).toContain(`reporter ${getPublicKey(alphaSk)}`);
    expect(run.stdout).toContain(
      'checked: the result decrypts under the key and matches its signed summary: a false accusation',
    );
  });

  it('provider blocked lists this Mayor’s blocklist; a corrupt one is a clear error', async () => {
    const [home, none, torn] = [tempHome(), tempHome(), tempHome()];
    Blocklist.open(join(home, 'mayor')).block({
      pubkey: beta,
      reason: 'summary says success, build FAILURE',
      at: Date.parse('2026-12-01T10:00:00Z'),
      jobId: 'a'.repeat(64),
      reportId: ids.proof!,
      published: false,
    });
    mkdirSync(join(torn, 'mayor'));
    writeFileSync(join(torn, 'mayor', 'blocked-providers.json'), '{ torn');
    // Independent runs (separate homes) at once: each is a Node start.
    const [empty, run, text, corrupt] = await Promise.all([
      runCli(['provider', 'blocked'], { CROSSTOWN_HOME: none }),
      runCli(['provider', 'blocked', '--format', 'json'], { CROSSTOWN_HOME: home }),
      runCli(['provider', 'blocked'], { CROSSTOWN_HOME: home }),
      runCli(['provider', 'blocked'], { CROSSTOWN_HOME: torn }),
    ]);
    expect(empty.status, empty.stderr).toBe(0);
    expect(empty.stdout).toContain('none is blocked');
    expect(run.status, run.stderr).toBe(0);
    expect(json(run)).toEqual({
      file: join(home, 'mayor', 'blocked-providers.json'),
      providers: [
        {
          pubkey: beta,
          since: '2026-12-01T10:00:00.000Z',
          reason: 'summary says success, build FAILURE',
          jobId: 'a'.repeat(64),
          resultEventId: null,
          reportId: ids.proof,
          published: false,
        },
      ],
    });
    expect(text.stdout).toContain('not on the relay yet');
    expect(corrupt.status).toBe(1);
    expect(corrupt.stderr).toMatch(/not valid JSON: restore it/);
    expect(corrupt.stderr).not.toMatch(/at .*\.ts:/);
  });

  it('a provider nobody reported, a bad pubkey, an unreachable relay', async () => {
    const home = tempHome();
    const nobody = getPublicKey(generateSecretKey());
    const env = { CROSSTOWN_HOME: home };
    const [none, bad, down, noRelay] = await Promise.all([
      runCli(['provider', 'reports', nobody, '--relay-url', relay.url, '--format', 'json'], env),
      runCli(['provider', 'reports', 'npub1xyz', '--relay-url', relay.url], env),
      runCli(['provider', 'reports', nobody, '--relay-url', 'ws://127.0.0.1:1', '--timeout', '3000'], env),
      runCli(['provider', 'reports', nobody], env),
    ]);
    expect(none.status, none.stderr).toBe(0);
    expect(json(none)).toMatchObject({ reports: [], verified: 0 });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/64 lowercase hex/);
    expect(down.status).toBe(3);
    expect(down.stderr).toMatch(/could not read reports from ws:\/\/127\.0\.0\.1:1/);
    expect(noRelay.status).toBe(2);
    expect(noRelay.stderr).toMatch(/--relay-url/);
  });
});
