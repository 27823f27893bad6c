// End-to-end provider runs: real git worktrees, real bwrap, real child processes. The network side is the
// in-process FakeNetwork (see helpers.ts), since the relay/ILP wiring belongs to the Mayor runtime.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JobReport, ProviderService } from '../../../src/mayor/provider/index.js';
import { giftWrapSigned } from '../../../src/mayor/runtime/private-jobs.js';
import { verifyEvent } from '../../../src/nostr/event.js';
import { parseHandlerInfo } from '../../../src/nostr/nip89.js';
import { parseJobFeedback, parseJobResult } from '../../../src/nostr/nip90.js';
import type { NostrEvent } from '../../../src/nostr/types.js';
import { parseCiResultContent } from '../../../src/skills/builtin/ci-result.js';
import { jobRequestSkill } from '../../../src/skills/builtin/job-request.js';
import { decompressLogs } from '../../../src/skills/logs.js';
import { encodeEventBytes } from '../../../src/toon/index.js';
import { FakeAudit, FakeNetwork, FIXTURES, jobRequest, makeTarGz, requester, tempHome } from './helpers.js';

const HAS_BWRAP = existsSync('/usr/bin/bwrap');

async function accepted(
  service: ProviderService,
  event: Parameters<ProviderService['handleJobRequest']>[0],
): Promise<JobReport> {
  const intake = await service.handleJobRequest(event);
  if (intake.status !== 'accepted')
    throw new Error(`expected acceptance, got ${intake.status}: ${intake.reason}`);
  return intake.done;
}

function content(report: JobReport) {
  const result = parseJobResult(report.result!);
  const c = parseCiResultContent(result.content);
  return { result, c, logs: c.logs ? decompressLogs(c.logs) : '' };
}

describe.runIf(HAS_BWRAP)('provider service in bwrap', () => {
  const network = new FakeNetwork();
  const audit = new FakeAudit();
  let service: ProviderService;
  let home: string;

  beforeAll(async () => {
    home = tempHome();
    ({ service } = await ProviderService.start({
      home,
      pubkey: network.pubkey,
      ilpAddress: 'g.crosstown.provider',
      prices: { 'ci-cd-linux': 500n, 'docker-build-amd64': 900n },
      network,
      audit,
      poolSize: 4,
      timeoutMs: 20_000,
      maxOutputBytes: 256 * 1024,
      sandbox: 'auto',
    }));
  });
  afterAll(() => service.stop());

  it('detected bwrap and advertises what it can run (no docker engine here)', () => {
    expect(service.sandbox.kind).toBe('bwrap');
    const info = parseHandlerInfo(network.sign(service.advertisement()));
    expect(info.kinds).toEqual([5065]);
    expect(info.jobTypes).toEqual(['ci-cd-linux']);
    expect(info.prices).toEqual({ 'ci-cd-linux': 500n });
    expect(info.ilpAddress).toBe('g.crosstown.provider');
    expect(info.limits).toEqual({ timeoutSeconds: 20, maxOutputBytes: 32767, concurrency: 4 });
    expect(service.subscriptionFilter(100)).toEqual({ kinds: [5065], '#t': ['ci-cd-linux'], since: 100 });
  });

  it('runs a passing sample repository: success, tests 3/3, processing feedback first, fees and price', async () => {
    const req = jobRequest({ command: 'npm test', tarDir: path.join(FIXTURES, 'passing') });
    const report = await accepted(service, req);
    expect(report.error).toBeUndefined();
    const { result, c, logs } = content(report);
    expect(verifyEvent(report.result!)).toBe(true);
    expect(result.status).toBe('success');
    expect(result.statusInfo).toBe('tests 3/3 passed');
    expect(result.amount?.amount).toBe(500n);
    expect(result.jobId).toBe(req.id);
    expect(result.requester).toBe(requester.pubkey);
    expect(result.request?.id).toBe(req.id);
    expect(c).toMatchObject({ build: 'SUCCESS', tests: { passed: 3, failed: 0 }, logsTruncated: false });
    expect(logs).toContain('# pass 3');
    // The worktree was a real one, and it is gone.
    expect(report.worktree).toContain(path.join(home, 'worktrees', req.id));
    expect(existsSync(report.worktree)).toBe(false);
    const feedback = network.ofKind(7000, req.id).map((e) => parseJobFeedback(e));
    expect(feedback.map((f) => f.status)).toEqual(['processing']);
    // Both writes (feedback, result) were paid and logged with their bytes.
    const fees = audit.entries.filter((e) => e.jobId === req.id);
    expect(fees).toHaveLength(2);
    expect(fees.every((e) => e.direction === 'out' && e.status === 'fulfilled')).toBe(true);
    const resultFee = fees.find((e) => e.bytes === encodeEventBytes(report.result!).length);
    expect(resultFee?.amount).toBe(report.fee);
    // The runtime reports the requester's payment: it lands in the same log.
    service.recordEarning(req.id, 500n, requester.pubkey);
    expect(audit.entries.at(-1)).toMatchObject({
      direction: 'in',
      jobId: req.id,
      amount: 500n,
      status: 'fulfilled',
    });
  });

  it('reports a failing suite as a failure with the failing count', async () => {
    const report = await accepted(
      service,
      jobRequest({ command: 'npm test', tarDir: path.join(FIXTURES, 'failing') }),
    );
    const { result, c } = content(report);
    expect(result.status).toBe('error');
    expect(result.statusInfo).toBe('2 of 4 tests failed');
    expect(c).toMatchObject({ build: 'FAILURE', tests: { passed: 2, failed: 2 } });
    expect(result.amount?.amount).toBe(500n);
  });

  it('kills a job past its time limit, background children included', async () => {
    const short = tempHome();
    const { service: quick } = await ProviderService.start({
      home: short,
      pubkey: network.pubkey,
      ilpAddress: 'g.crosstown.provider',
      prices: { 'ci-cd-linux': 500n },
      network,
      timeoutMs: 700,
    });
    const marker = `sleep 43${Math.floor(Math.random() * 1000)}`;
    const t0 = Date.now();
    const report = await accepted(quick, jobRequest({ command: `(${marker}) & ${marker}; echo never` }));
    expect(Date.now() - t0).toBeLessThan(10_000);
    const { result, c, logs } = content(report);
    expect(result.status).toBe('error');
    expect(result.statusInfo).toBe('killed after 0.7 s (time limit)');
    expect(c.build).toBe('TIMEOUT');
    expect(logs).not.toContain('never');
    await new Promise((r) => setTimeout(r, 200));
    const left = execFileSync('ps', ['-eo', 'args'])
      .toString()
      .split('\n')
      .filter((l) => l.includes(marker.slice(6)));
    expect(left).toEqual([]);
    await quick.stop();
  });

  it('blocks a malicious job: no writes outside its worktree, no network', async () => {
    const outside = path.join(tempHome('outside-'), 'victim.txt');
    const server = net.createServer((s) => s.end('reached'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const connected: string[] = [];
    server.on('connection', () => connected.push('yes'));
    const script = [
      `echo pwned > ${outside} && echo WROTE-OUTSIDE || echo write-outside-blocked`,
      // The provider's home is not mounted: this lands in the sandbox's private /tmp, never the real file.
      `echo pwned > ${path.join(home, 'polecats.json')}`,
      `echo pwned > ${path.join(home, 'work', 'README')}`,
      `echo pwned > /usr/evil 2>/dev/null && echo WROTE-USR || echo write-usr-blocked`,
      `node -e "require('net').connect(${port},'127.0.0.1').on('connect',()=>console.log('CONNECTED')).on('error',e=>console.log('net-blocked',e.code))"`,
      `node -e "require('net').connect(443,'1.1.1.1').on('connect',()=>console.log('CONNECTED')).on('error',e=>console.log('net-blocked',e.code))"`,
      'echo ok > inside.txt && echo inside-ok',
    ].join('; ');
    const report = await accepted(service, jobRequest({ command: script }));
    server.close();
    const { logs } = content(report);
    expect(logs).toContain('write-outside-blocked');
    expect(readFileSync(path.join(home, 'polecats.json'), 'utf8')).not.toContain('pwned');
    expect(existsSync(path.join(home, 'work', 'README'))).toBe(false);
    expect(logs).toContain('write-usr-blocked');
    expect(logs.match(/net-blocked/g)).toHaveLength(2);
    expect(logs).toContain('inside-ok');
    expect(logs).not.toMatch(/WROTE-(OUTSIDE|USR)|CONNECTED/);
    expect(existsSync(outside)).toBe(false);
    expect(existsSync('/usr/evil')).toBe(false);
    expect(connected).toEqual([]);
  });

  it('truncates oversized output with the sha256 of the full output; the event fits one PREPARE', async () => {
    // ~2 MB of incompressible but reproducible output: well past maxOutputBytes (256 KiB) and one packet.
    const line = (i: number) => {
      const h = createHash('sha256').update(String(i)).digest('hex');
      return `${i} ${h}${h}${h}${h}\n`;
    };
    const gen = `const c=require('crypto');for(let i=0;i<8000;i++){const h=c.createHash('sha256').update(String(i)).digest('hex');process.stdout.write(i+' '+h+h+h+h+'\\n')}`;
    const cmd = `node -e "${gen}" > out.txt; cat out.txt`;
    let expected = '';
    for (let i = 0; i < 8000; i++) expected += line(i);
    const report = await accepted(
      service,
      jobRequest({ command: cmd, params: { artifacts: 'out.txt,../../etc' } }),
    );
    const { c, logs, result } = content(report);
    expect(encodeEventBytes(report.result!).length).toBeLessThanOrEqual(32767);
    expect(result.status).toBe('success');
    expect(c.logsTruncated).toBe(true);
    expect(c.logsSha256).toBe(createHash('sha256').update(expected).digest('hex'));
    expect(logs.startsWith(line(0) + line(1))).toBe(true); // the head is kept...
    expect(logs.endsWith(line(7999))).toBe(true); // ...and the tail
    expect(logs).toContain('characters cut to fit one packet');
    const full = JSON.parse(result.content) as { logBytes: number; artifacts: unknown[] };
    expect(full.logBytes).toBe(expected.length);
    // The manifest names out.txt with its hash; the path outside the worktree is ignored.
    expect(full.artifacts).toEqual([
      {
        path: 'out.txt',
        bytes: expected.length,
        sha256: createHash('sha256').update(expected).digest('hex'),
      },
    ]);
  });

  it("a private job's result is sized to fit one PREPARE once gift-wrapped (about twice the event)", async () => {
    // What the Mayor runtime does for a private job: the result goes out wrapped to its requester, and a relay
    // refuses a write over 32767 bytes. Sized as if it went out clear, verbose output made it never deliverable.
    class WrappingNetwork extends FakeNetwork {
      readonly wrapped: number[] = [];
      publishedBytes(event: NostrEvent): number {
        return encodeEventBytes(giftWrapSigned(event, this.secretKey, requester.pubkey)).length;
      }
      override async publishPaid(event: NostrEvent): Promise<{ fee: bigint }> {
        const bytes = event.kind === 6065 ? this.publishedBytes(event) : encodeEventBytes(event).length;
        if (bytes > 32767) throw new Error(`F01: data of ${bytes} bytes is over 32767`);
        if (event.kind === 6065) this.wrapped.push(bytes);
        return super.publishPaid(event);
      }
    }
    const wrapping = new WrappingNetwork();
    const { service: privately } = await ProviderService.start({
      home: tempHome(),
      pubkey: wrapping.pubkey,
      ilpAddress: 'g.crosstown.provider',
      prices: { 'ci-cd-linux': 500n },
      network: wrapping,
      poolSize: 1,
    });
    try {
      const gen = `const c=require('crypto');for(let i=0;i<3000;i++)process.stdout.write(c.randomBytes(24).toString('hex')+'\\n')`;
      const report = await accepted(privately, jobRequest({ command: `node -e "${gen}"` }));
      expect(report.error).toBeUndefined();
      expect(report.result).toBeDefined();
      expect(wrapping.wrapped).toHaveLength(1);
      expect(wrapping.wrapped[0]).toBeLessThanOrEqual(32767);
      expect(content(report).c.logsTruncated).toBe(true);
    } finally {
      await privately.stop();
    }
  });

  it('refuses by policy, each refusal with kind 7000 error feedback and its reason', async () => {
    const strict = tempHome();
    const blocked = new FakeNetwork(); // another key, to act as a blocked requester
    const { service: picky } = await ProviderService.start({
      home: strict,
      pubkey: network.pubkey,
      ilpAddress: 'g.crosstown.provider',
      prices: { 'ci-cd-linux': 500n },
      network,
      poolSize: 1,
      policy: { blockedRequesters: [blocked.pubkey], maxInputBytes: 2000 },
    });
    const cases: Array<[string, ReturnType<typeof jobRequest>, RegExp]> = [
      [
        'requester_blocked',
        jobRequest({ command: 'true' }, blocked.secretKey),
        /does not accept jobs from you/,
      ],
      [
        'job_type_not_served',
        jobRequest({ command: 'true', jobType: 'gpu-train' }),
        /gpu-train is not served/,
      ],
      ['no_bid', jobRequest({ command: 'true', bid: null }), /no bid/],
      ['bid_too_low', jobRequest({ command: 'true', bid: 499n }), /bid 499 is below the price 500/],
      ['input_too_large', jobRequest({ command: 'x'.repeat(3000) }), /over the limit of 2000/],
      ['invalid_input', jobRequest({ command: '' }), /no command/],
      [
        'invalid_input',
        jobRequest({ command: 'true', inputs: [{ data: 'file:///etc', type: 'git' }] }),
        /commit/,
      ],
    ];
    for (const [code, event, reason] of cases) {
      const intake = await picky.handleJobRequest(event);
      expect(intake.status, code).toBe('refused');
      if (intake.status !== 'refused') continue;
      expect(intake.code).toBe(code);
      expect(intake.reason).toMatch(reason);
      const fb = parseJobFeedback(intake.feedback!);
      expect(fb).toMatchObject({ status: 'error', jobId: event.id, requester: event.pubkey });
      expect(fb.statusInfo).toMatch(reason);
    }
    // Busy: one slot, one long job running.
    const long = await picky.handleJobRequest(jobRequest({ command: 'sleep 30' }));
    expect(long.status).toBe('accepted');
    const busy = await picky.handleJobRequest(jobRequest({ command: 'true' }));
    expect(busy).toMatchObject({ status: 'refused', code: 'busy' });
    expect(picky.cancel(long.jobId!)).toBe(true);
    if (long.status === 'accepted') {
      const report = await long.done;
      expect(content(report).c.build).toBe('CANCELLED');
      expect(content(report).result.amount).toBeUndefined(); // not charged
    }
    // Ignored without feedback: our own request, one naming another provider, a duplicate.
    const before = network.published.length;
    const own = jobRequest({ command: 'true' }, network.secretKey);
    expect((await picky.handleJobRequest(own)).status).toBe('ignored');
    const other = jobRequest({ command: 'true', provider: blocked.pubkey });
    expect((await picky.handleJobRequest(other)).status).toBe('ignored');
    const dup = cases[0]![1];
    expect((await picky.handleJobRequest(dup)).status).toBe('ignored');
    expect(network.published.length).toBe(before);
    await picky.stop();
  });

  it('refuses unsafe archives before touching the worktree', async () => {
    const tgz = makeTarGz([
      { name: 'ok.txt', body: 'x' },
      { name: '../../escape.txt', body: 'pwned' },
    ]);
    const intake = await service.handleJobRequest(
      jobRequest({ command: 'true', inputs: [{ data: tgz.toString('base64'), type: 'tar.gz+base64' }] }),
    );
    expect(intake).toMatchObject({ status: 'refused', code: 'invalid_input' });
    if (intake.status === 'refused') expect(intake.reason).toMatch(/climbs out/);
  });

  it('runs a job from a git URL and commit', async () => {
    const src = tempHome('gitsrc-');
    execFileSync('cp', ['-r', `${path.join(FIXTURES, 'passing')}/.`, src]);
    const g = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: src })
        .toString()
        .trim();
    g('init', '-q');
    g('add', '.');
    g('commit', '-qm', 'sample');
    const commit = g('rev-parse', 'HEAD');
    const { service: gitsvc } = await ProviderService.start({
      home: tempHome(),
      pubkey: network.pubkey,
      ilpAddress: 'g.crosstown.provider',
      prices: { 'ci-cd-linux': 500n },
      network,
      gitProtocols: ['file'],
    });
    const report = await accepted(
      gitsvc,
      jobRequest({
        command: 'node --test',
        inputs: [{ data: `file://${src}`, type: 'git' }],
        params: { commit },
      }),
    );
    expect(content(report).result.statusInfo).toBe('tests 3/3 passed');
    // https only by default: a file URL is refused at run time with the reason in the result.
    const report2 = await accepted(
      service,
      jobRequest({
        command: 'node --test',
        inputs: [{ data: `file://${src}`, type: 'git' }],
        params: { commit },
      }),
    );
    expect(content(report2).result.statusInfo).toMatch(/protocol this provider does not fetch/);
    expect(content(report2).result.amount).toBeUndefined();
    await gitsvc.stop();
  });

  it('plugs into the job-request skill through jobProvider()', async () => {
    const skill = jobRequestSkill({ provider: service.jobProvider(), jobTypes: Object.keys(service.prices) });
    const req = jobRequest({ command: 'echo via-skill' });
    const before = network.ofKind(6065, req.id).length;
    const res = await skill.handleToon(encodeEventBytes(req), {
      kind: 5065,
      receivedAt: Date.now(),
      attempt: 1,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      identityPubkey: network.pubkey,
      context: { identityPubkey: network.pubkey },
      signal: new AbortController().signal,
    });
    expect(res).toMatchObject({ status: 'handled', summary: `job ${req.id} accepted` });
    expect(before).toBe(0);
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (network.ofKind(6065, req.id).length > 0) {
          clearInterval(t);
          resolve();
        }
      }, 20);
    });
    const logs = decompressLogs(parseCiResultContent(network.ofKind(6065, req.id)[0]!.content).logs!);
    expect(logs).toBe('via-skill\n');
  });

  it('leaves no worktrees or polecat branches behind', async () => {
    // The skill test's cleanup (directory, then branch) runs just after its result went out: give it up to 5 s.
    const branches = () =>
      execFileSync('git', ['branch', '--list', 'polecat/*'], { cwd: path.join(home, 'work') })
        .toString()
        .trim();
    for (
      let i = 0;
      i < 100 && (readdirSync(path.join(home, 'worktrees')).length > 0 || branches() !== '');
      i++
    )
      await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(path.join(home, 'worktrees'))).toEqual([]);
    expect(branches()).toBe('');
  });
});

describe('provider without a sandbox', () => {
  it('refuses untrusted jobs unless allowUnsandboxed, runs trusted ones', async () => {
    const network = new FakeNetwork();
    const base = {
      pubkey: network.pubkey,
      ilpAddress: 'g.crosstown.provider',
      prices: { 'ci-cd-linux': 500n },
      network,
      sandbox: 'none' as const,
    };
    const { service } = await ProviderService.start({
      ...base,
      home: tempHome(),
      policy: { trustedRequesters: [] },
    });
    const intake = await service.handleJobRequest(jobRequest({ command: 'true' }));
    expect(intake).toMatchObject({ status: 'refused', code: 'no_sandbox' });
    await service.stop();
    const { service: trusting } = await ProviderService.start({
      ...base,
      home: tempHome(),
      policy: { trustedRequesters: [requester.pubkey] },
    });
    const report = await accepted(trusting, jobRequest({ command: 'echo hi' }));
    expect(content(report).result.status).toBe('success');
    await trusting.stop();
    const { service: open } = await ProviderService.start({
      ...base,
      home: tempHome(),
      policy: { allowUnsandboxed: true },
    });
    expect((await open.handleJobRequest(jobRequest({ command: 'true' }))).status).toBe('accepted');
    await open.stop();
  });

  it('does not advertise docker-build-amd64 without an engine, and refuses such jobs', async () => {
    const network = new FakeNetwork();
    const dir = tempHome();
    mkdirSync(dir, { recursive: true });
    const { service } = await ProviderService.start({
      home: dir,
      pubkey: network.pubkey,
      ilpAddress: 'g.crosstown.provider',
      prices: { 'ci-cd-linux': 500n, 'docker-build-amd64': 900n },
      network,
    });
    expect(Object.keys(service.prices)).toEqual(['ci-cd-linux']);
    const intake = await service.handleJobRequest(
      jobRequest({ command: 'make', jobType: 'docker-build-amd64' }),
    );
    expect(intake).toMatchObject({ status: 'refused', code: 'job_type_not_served' });
    await service.stop();
  });
});
