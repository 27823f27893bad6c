// The fraud handler end to end against a real relay (src/relay on SQLite, loopback), a real git-backed state
// repository and payment audit: a proven fraud blocks the provider durably and publishes a report anyone reads
// back and verifies; a report a failure left unpublished goes out once on the next start, probed first so it is
// not paid twice; an honest result blocks nobody; evidence without a public proof blocks without publishing.
// Stand-in (named): the node attachment. Reports reach the relay's ILP gate directly (relay.handlePrepare with
// a real SPSP account and condition) instead of through a BTP connector; the write, its price and the
// relay's checks are the real ones.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { conditionOf, deriveFulfillment, IlpPacketType } from '../../../src/ilp/index.js';
import { openPaymentAudit, type PaymentAudit } from '../../../src/mayor/audit/index.js';
import {
  assertNotBlocked,
  BLOCKLIST_FILE,
  Blocklist,
  BlocklistError,
  blocklistFor,
  createFraudHandler,
  fraudHandlerFor,
  ignoredProvider,
  relayPublisher,
  verifyFraudReport,
} from '../../../src/mayor/fraud/index.js';
import { providerReports } from '../../../src/mayor/fraud/reports.js';
import { MAX_PACKET_DATA } from '../../../src/mayor/provider/results.js';
import type { Attachment } from '../../../src/mayor/runtime/attach.js';
import { openStateRepo, type StateRepo } from '../../../src/mayor/state/index.js';
import { finalizeEvent, getPublicKey } from '../../../src/nostr/index.js';
import { KIND_REPORT } from '../../../src/nostr/nip56.js';
import type { NostrEvent } from '../../../src/nostr/types.js';
import { AccountSecretStore, type NostrRelay, startRelay } from '../../../src/relay/index.js';
import { openSqliteStore } from '../../../src/store/index.js';
import { encodeEventBytes } from '../../../src/toon/index.js';
import { readEvents } from '../../devnet/helpers.js';
import { alphaSk, betaSk, sealedResult } from './sealed.js';

const PRICE = 2n;
let relay: NostrRelay;
let secrets: AccountSecretStore;
const open: StateRepo[] = [];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fraud-relay-'));
  secrets = new AccountSecretStore('g.test.relay');
  relay = await startRelay({
    store: await openSqliteStore({ path: join(dir, 'r.sqlite') }),
    secrets,
    basePricePerByte: PRICE,
  });
});
afterAll(async () => {
  await relay?.close();
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

/** What the Mayor's attachment does for a relay write: pay `amount` to the relay account, data = the TOON. */
function attachmentTo(): { att: Attachment; writes: bigint[] } {
  const account = secrets.issue();
  const writes: bigint[] = [];
  const att = {
    spsp: { basePricePerByte: PRICE, destinationAccount: account.destination },
    channel: () => ({ channelId: `0x${'1'.repeat(64)}` }),
    writeToRelay: async (data: Uint8Array, amount?: bigint) => {
      const paid = amount ?? BigInt(data.length) * PRICE;
      writes.push(paid);
      const reply = await relay.handlePrepare({
        type: IlpPacketType.Prepare,
        amount: paid,
        expiresAt: new Date(Date.now() + 10_000),
        executionCondition: conditionOf(deriveFulfillment(account.sharedSecret, data)),
        destination: account.destination,
        data,
      });
      return { reply, attempts: 1 };
    },
  } as unknown as Attachment;
  return { att, writes };
}

async function mayorParts() {
  const state = await openStateRepo({ dir: mkdtempSync(join(tmpdir(), 'fraud-state-')) });
  open.push(state);
  const audit: PaymentAudit = openPaymentAudit({ state });
  const log: string[] = [];
  const { att, writes } = attachmentTo();
  let attached: Attachment | undefined = att;
  const deps = {
    state,
    audit,
    secretKey: alphaSk,
    att: () => attached,
    activity: (_kind: string, text: string) => log.push(text),
  };
  return { state, audit, log, writes, deps, detach: () => (attached = undefined) };
}

const reportsAbout = (pubkey: string) => readEvents(relay.url, { kinds: [KIND_REPORT], '#p': [pubkey] });
const garbage = () => Buffer.from(crypto.getRandomValues(new Uint8Array(96))).toString('base64');

describe('fraud handler', () => {
  it('blocks a provider whose paid result does not decrypt, and publishes a report anyone verifies', async () => {
    const { state, audit, log, writes, deps } = await mayorParts();
    const { request, result, key } = sealedResult({ ciphertext: garbage() });
    const out = await fraudHandlerFor(deps).onFraud({
      jobId: request.id,
      resultEvent: result,
      key,
      mismatch: 'DECRYPT_FAILED: authentication tag mismatch',
    });
    expect(out).toMatchObject({ blocked: true, published: true });
    expect(out.verdict).toMatchObject({ verified: true, code: 'DECRYPT_FAILED' });

    // Durable: a fresh read of the file (another process, or after a restart) has it.
    const reread = Blocklist.open(state.dir);
    const entry = reread.get(result.pubkey)!;
    expect(entry).toMatchObject({ reason: 'DECRYPT_FAILED: authentication tag mismatch', jobId: request.id });
    expect(entry.reportId).toBe(out.report!.id);
    expect(entry.published).toBe(true);
    expect(statSync(join(state.dir, BLOCKLIST_FILE)).mode & 0o777).toBe(0o600);

    // On the relay, read free by anyone, and it verifies with public data alone.
    const found = await reportsAbout(result.pubkey);
    expect(found.map((e) => e.id)).toEqual([out.report!.id]);
    expect(verifyFraudReport(found[0]!)).toMatchObject({ verified: true, provider: result.pubkey });

    // One paid write, bytes x price, in the audit.
    expect(writes).toHaveLength(1);
    await state.durable();
    const paid = (await audit.list()).filter((p) => p.jobId === request.id);
    expect(paid).toHaveLength(1);
    expect(paid[0]).toMatchObject({ direction: 'out', status: 'fulfilled', amount: writes[0] });
    expect(paid[0]!.amount).toBe(BigInt(paid[0]!.bytes!) * PRICE);

    // Results from it are ignored from now on, and jobs are not sent to it.
    const activity: string[] = [];
    expect(ignoredProvider({ state, activity: (_k, t) => activity.push(t) }, result.pubkey, request.id)).toBe(
      true,
    );
    expect(activity[0]).toMatch(/ignored: blocked since .*DECRYPT_FAILED/);
    expect(ignoredProvider({ state, activity: () => {} }, getPublicKey(alphaSk), request.id)).toBe(false);
    expect(() => assertNotBlocked(state.dir, result.pubkey)).toThrow(
      /is blocked since .*choose another provider/,
    );
    expect(log.some((l) => /Provider .* blocked/.test(l))).toBe(true);

    // A second fraud event for the same provider publishes nothing more.
    const again = await fraudHandlerFor(deps).onFraud({
      jobId: request.id,
      resultEvent: result,
      key,
      mismatch: 'x',
    });
    expect(again.blocked).toBe(true);
    expect(writes).toHaveLength(1);
  });

  it('publishes a report the relay refused on the next start, once, probing first', async () => {
    const { state, audit, writes, deps, detach } = await mayorParts();
    const provider = sealedResult({
      sk: betaSk,
      plain: JSON.stringify({ build: 'FAILURE', tests: { passed: 1, failed: 4 } }),
    });
    detach(); // The node link is down when the fraud is found: the report cannot be written.
    const out = await fraudHandlerFor(deps).onFraud({
      jobId: provider.request.id,
      resultEvent: provider.result,
      key: provider.key,
      mismatch: 'summary says success, build FAILURE',
    });
    expect(out).toMatchObject({ blocked: true, published: false });
    expect(out.verdict).toMatchObject({ verified: true, code: 'CONTRADICTS_SUMMARY' });
    // Blocked at once, even before the report is out; the signed report waits in the file.
    expect(
      Blocklist.open(state.dir)
        .unpublished()
        .map((e) => e.reportId),
    ).toEqual([out.report!.id]);

    // Restart: a new attachment; the report goes out once (probe refused as underpaid, then paid).
    const { att, writes: restartWrites } = attachmentTo();
    const restarted = { ...deps, att: () => att };
    const list = Blocklist.open(state.dir);
    const handler = createFraudHandler({
      blocklist: list,
      sign: (t) => finalizeEvent(t, alphaSk),
      publish: relayPublisher(restarted),
      activity: () => {},
    });
    await handler.resume();
    expect(restartWrites[0]).toBe(0n);
    expect(restartWrites).toHaveLength(2);
    expect(list.unpublished()).toEqual([]);
    expect(Blocklist.open(state.dir).get(provider.result.pubkey)!.published).toBe(true);

    // A crash after the write, before `published` was recorded: the probe finds it stored, nothing paid.
    writeFileSync(
      join(state.dir, BLOCKLIST_FILE),
      readFileSync(join(state.dir, BLOCKLIST_FILE), 'utf8').replace(
        '"published": true',
        `"report": ${JSON.stringify(out.report)}, "published": false`,
      ),
    );
    const { att: att2, writes: probeOnly } = attachmentTo();
    await createFraudHandler({
      blocklist: Blocklist.open(state.dir),
      sign: (t) => finalizeEvent(t, alphaSk),
      publish: relayPublisher({ ...deps, att: () => att2 }),
      activity: () => {},
    }).resume();
    expect(probeOnly).toEqual([0n]);
    expect((await reportsAbout(provider.result.pubkey)).filter((e) => e.id === out.report!.id)).toHaveLength(
      1,
    );
    await state.durable();
    const fees = (await audit.list()).filter((p) => p.jobId === provider.request.id);
    expect(fees).toHaveLength(1);
    expect(writes).toEqual([]);
  });

  it('refers to a result too large to embed by id; readers verify it against the relay copy', async () => {
    const { deps, writes } = await mayorParts();
    // A result just under the PREPARE limit: it fits, a report embedding it (escaped JSON) would not.
    const base = sealedResult({ ciphertext: '' });
    const room = MAX_PACKET_DATA - 400 - encodeEventBytes(base.result).length;
    const bytes = Math.floor((room / 4) * 3);
    const big = sealedResult({
      request: base.request,
      ciphertext: Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('base64'),
    });
    expect(encodeEventBytes(big.result).length).toBeLessThanOrEqual(MAX_PACKET_DATA);
    const { att } = attachmentTo();
    const { reply } = await att.writeToRelay(encodeEventBytes(big.result));
    expect(reply.type).toBe(IlpPacketType.Fulfill);
    const out = await fraudHandlerFor(deps).onFraud({
      jobId: big.request.id,
      resultEvent: big.result,
      key: big.key,
      mismatch: 'DECRYPT_FAILED',
    });
    expect(out).toMatchObject({ blocked: true, published: true });
    expect(out.report!.content).toBe('');
    expect(encodeEventBytes(out.report!).length).toBeLessThan(2000);
    expect(writes).toHaveLength(1);
    const rows = await providerReports(relay.url, big.result.pubkey);
    const row = rows.find((r) => r.id === out.report!.id)!;
    expect(row).toMatchObject({ verified: true, code: 'DECRYPT_FAILED', resultEventId: big.result.id });
  });

  it('an honest result blocks nobody and publishes nothing', async () => {
    const { state, writes, deps } = await mayorParts();
    const { request, result, key } = sealedResult({ request: undefined });
    const out = await fraudHandlerFor(deps).onFraud({
      jobId: request.id,
      resultEvent: result,
      key,
      mismatch: 'bogus',
    });
    expect(out).toMatchObject({ blocked: false, published: false });
    expect(out.verdict).toMatchObject({ verified: false, code: 'HONEST' });
    expect(blocklistFor(state.dir).has(result.pubkey)).toBe(false);
    expect(writes).toEqual([]);
  });

  it('evidence nobody else can check (an unsigned private rumor) blocks locally and publishes nothing', async () => {
    const { state, writes, deps } = await mayorParts();
    const { request, result, key } = sealedResult({ ciphertext: garbage() });
    const rumor = { ...result, sig: '' } as unknown as NostrEvent;
    const out = await fraudHandlerFor(deps).onFraud({
      jobId: request.id,
      resultEvent: rumor,
      key,
      mismatch: 'DECRYPT_FAILED',
    });
    expect(out).toMatchObject({ blocked: true, published: false });
    expect(out.report).toBeUndefined();
    const entry = Blocklist.open(state.dir).get(result.pubkey)!;
    expect(entry.reportId).toBeUndefined();
    expect(Blocklist.open(state.dir).unpublished()).toEqual([]);
    expect(writes).toEqual([]);
  });
});

describe('blocklist file', () => {
  it('refuses a corrupt file with what to do, and unblocks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fraud-list-'));
    writeFileSync(join(dir, BLOCKLIST_FILE), '{"providers": [');
    expect(() => Blocklist.open(dir)).toThrow(BlocklistError);
    expect(() => Blocklist.open(dir)).toThrow(/git checkout/);
    writeFileSync(join(dir, BLOCKLIST_FILE), '{"providers": [{"pubkey": "nope"}]}');
    expect(() => Blocklist.open(dir)).toThrow(/without a pubkey/);

    const clean = mkdtempSync(join(tmpdir(), 'fraud-list-'));
    const list = Blocklist.open(clean);
    const pk = getPublicKey(betaSk);
    list.block({ pubkey: pk, reason: 'r', at: 1, published: true });
    expect(Blocklist.open(clean).has(pk)).toBe(true);
    expect(list.unblock(pk)).toBe(true);
    expect(Blocklist.open(clean).has(pk)).toBe(false);
    expect(list.unblock(pk)).toBe(false);
  });
});
