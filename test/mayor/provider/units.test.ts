// Unit-level checks of the provider's parts: archive inspection, result sizing, docker command lines,
// bwrap arguments, process limits. Real tar/gzip/child processes; no network side involved.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildResult,
  bwrapArgs,
  cutLog,
  dockerBuildArgs,
  dockerExecutor,
  dockerRunArgs,
  inspectTarGz,
  type JobOutcome,
  MAX_PACKET_DATA,
  ProviderError,
  runProcess,
} from '../../../src/mayor/provider/index.js';
import { finalizeEvent } from '../../../src/nostr/event.js';
import { generateSecretKey } from '../../../src/nostr/keys.js';
import { parseJobRequest, parseJobResult } from '../../../src/nostr/nip90.js';
import { ciCdCallbackSkill } from '../../../src/skills/builtin/ci-cd-callback.js';
import { parseCiResultContent } from '../../../src/skills/builtin/ci-result.js';
import { decompressLogs } from '../../../src/skills/logs.js';
import { encodeEventBytes } from '../../../src/toon/index.js';
import { FIXTURES, jobRequest, makeTarGz, requester, tarGzBase64, tempHome } from './helpers.js';

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).code).toBe('unsafe_archive');
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('inspectTarGz', () => {
  it('lists a normal archive made by system tar', () => {
    const entries = inspectTarGz(Buffer.from(tarGzBase64(path.join(FIXTURES, 'passing')), 'base64'));
    const files = entries
      .filter((e) => e.type === 'file')
      .map((e) => e.path)
      .sort();
    expect(files).toEqual(['math.js', 'package.json', 'test/math.test.js']);
  });

  it('accepts links that stay inside', () => {
    const entries = inspectTarGz(
      makeTarGz([
        { name: 'a/', type: '5' },
        { name: 'a/f', body: 'x' },
        { name: 'link', type: '2', linkname: 'a/f' },
        { name: 'a/side', type: '2', linkname: 'f' },
        { name: 'hard', type: '1', linkname: 'a/f' },
      ]),
    );
    expect(entries.map((e) => e.type)).toEqual(['dir', 'file', 'symlink', 'symlink', 'hardlink']);
  });

  it('refuses absolute paths, .., escaping links, paths through links, devices', () => {
    expect(refusal(() => inspectTarGz(makeTarGz([{ name: '/etc/passwd', body: 'x' }])))).toMatch(/absolute/);
    expect(refusal(() => inspectTarGz(makeTarGz([{ name: 'a/../../x', body: 'x' }])))).toMatch(/climbs out/);
    expect(refusal(() => inspectTarGz(makeTarGz([{ name: 'l', type: '2', linkname: '/etc' }])))).toMatch(
      /points to absolute/,
    );
    expect(
      refusal(() => inspectTarGz(makeTarGz([{ name: 'd/l', type: '2', linkname: '../../etc' }]))),
    ).toMatch(/climbs with '\.\.'/);
    // Issue 14: no '..' in a link target at all, even one that would stay inside lexically.
    expect(
      refusal(() => inspectTarGz(makeTarGz([{ name: 'a/up', type: '2', linkname: '../link' }]))),
    ).toMatch(/climbs with '\.\.'/);
    // The classic: a link to somewhere harmless-looking, then a write through it.
    expect(
      refusal(() =>
        inspectTarGz(
          makeTarGz([
            { name: 'deep/a', type: '2', linkname: 'x' },
            { name: 'deep/a/b', type: '2', linkname: 'y' },
          ]),
        ),
      ),
    ).toMatch(/goes through symlink/);
    expect(refusal(() => inspectTarGz(makeTarGz([{ name: 'h', type: '1', linkname: '../x' }])))).toMatch(
      /climbs out/,
    );
    expect(refusal(() => inspectTarGz(makeTarGz([{ name: 'dev', type: '3' }])))).toMatch(/device, fifo/);
    // GNU long names and pax paths are checked too.
    expect(
      refusal(() =>
        inspectTarGz(
          makeTarGz([
            { name: '././@LongLink', type: 'L', body: '../evil\0' },
            { name: 'short', body: 'x' },
          ]),
        ),
      ),
    ).toMatch(/climbs out/);
    expect(
      refusal(() =>
        inspectTarGz(
          makeTarGz([
            { name: 'pax', type: 'x', body: '20 path=/etc/shadow\n' },
            { name: 'ok', body: 'x' },
          ]),
        ),
      ),
    ).toMatch(/absolute/);
  });

  it('refuses a gzip bomb past the size limit', () => {
    const big = makeTarGz([{ name: 'zeros', body: '\0'.repeat(2 * 1024 * 1024) }]);
    expect(big.length).toBeLessThan(10_000);
    expect(refusal(() => inspectTarGz(big, { maxBytes: 1024 * 1024 }))).toMatch(/more than 1048576 bytes/);
  });
});

function outcome(log: string, extra: Partial<JobOutcome> = {}): JobOutcome {
  return {
    build: 'SUCCESS',
    status: 'success',
    statusInfo: 'tests 47/47 passed',
    exitCode: 0,
    tests: { passed: 47, failed: 0, runner: 'vitest' },
    log,
    logBytes: Buffer.byteLength(log),
    logSha256: createHash('sha256').update(log).digest('hex'),
    logTruncated: false,
    artifacts: [],
    durationMs: 1234,
    ...extra,
  };
}

describe('buildResult', () => {
  const providerKey = generateSecretKey();

  it('builds a 6065 the ci-cd-callback skill reads back', async () => {
    const request = jobRequest({ command: 'npm test' });
    const built = buildResult({ request, outcome: outcome('all good\n'), amount: 500n });
    expect(built.logsCut).toBe(false);
    const event = finalizeEvent(built.template, providerKey);
    const parsed = parseJobResult(event);
    expect(parsed).toMatchObject({
      kind: 6065,
      jobId: request.id,
      requester: requester.pubkey,
      status: 'success',
    });
    expect(parsed.amount?.amount).toBe(500n);
    expect(parsed.request?.id).toBe(request.id);
    const skill = ciCdCallbackSkill();
    const res = await skill.handleToon(encodeEventBytes(event), {
      kind: 6065,
      receivedAt: Date.now(),
      attempt: 1,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      identityPubkey: requester.pubkey,
      context: { identityPubkey: requester.pubkey },
      signal: new AbortController().signal,
    });
    expect(res.summary).toBe('Build: SUCCESS | Tests: 47/47 passed');
    expect(res.data?.logs).toBe('all good\n');
  });

  it('cuts large logs to fit one PREPARE and names the full output by sha256', () => {
    const request = jobRequest({ command: 'npm test' });
    let log = '';
    for (let i = 0; i < 20_000; i++) log += `${i} ${createHash('sha256').update(String(i)).digest('hex')}\n`;
    const o = outcome(log);
    const built = buildResult({ request, outcome: o });
    expect(built.logsCut).toBe(true);
    const event = finalizeEvent(built.template, providerKey);
    const bytes = encodeEventBytes(event).length;
    expect(bytes).toBeLessThanOrEqual(MAX_PACKET_DATA);
    expect(bytes).toBeGreaterThan(MAX_PACKET_DATA - 2000); // it used the room it had
    const c = parseCiResultContent(event.content);
    expect(c).toMatchObject({ logsTruncated: true, logsSha256: o.logSha256 });
    const logs = decompressLogs(c.logs!);
    expect(logs.startsWith('0 ')).toBe(true);
    expect(logs.endsWith(`19999 ${createHash('sha256').update('19999').digest('hex')}\n`)).toBe(true);
  });

  it('drops copied inline inputs, then the embedded request, before giving up', () => {
    // A request carrying ~20 kB of incompressible inline input: copied twice (i tag + request tag) it cannot fit.
    let data = '';
    for (let i = 0; data.length < 20_000; i++) data += createHash('sha256').update(`${i}`).digest('base64');
    const request = jobRequest({ command: 'true', inputs: [{ data, type: 'text' }] });
    const built = buildResult({ request, outcome: outcome('ok\n') });
    expect(built.droppedInputs).toBe(true);
    const event = finalizeEvent(built.template, providerKey);
    expect(encodeEventBytes(event).length).toBeLessThanOrEqual(MAX_PACKET_DATA);
    expect(parseJobResult(event).jobId).toBe(request.id);
    expect(event.tags.some((t) => t[0] === 'i')).toBe(false);
  });

  it('cutLog keeps head and tail', () => {
    expect(cutLog('abcdefghij', 100)).toBe('abcdefghij');
    const cut = cutLog('abcdefghij', 4);
    expect(cut.startsWith('ab\n')).toBe(true);
    expect(cut.endsWith('\nij')).toBe(true);
    expect(cut).toContain('6 characters cut');
  });
});

describe('docker-build-amd64', () => {
  const id = 'a'.repeat(64);
  it('builds for amd64 and runs with no network, no capabilities, limits, by job-derived names', () => {
    expect(dockerBuildArgs(id, '/w/x')).toEqual([
      'docker',
      'build',
      '--platform',
      'linux/amd64',
      '--pull=false',
      '-t',
      `crosstown-job:${'a'.repeat(16)}`,
      '/w/x',
    ]);
    const run = dockerRunArgs(id, 'make test', { memory: '1g', pidsLimit: 64 });
    expect(run.slice(0, 2)).toEqual(['docker', 'run']);
    expect(run).toEqual(
      expect.arrayContaining(['--rm', '--network', 'none', '--cap-drop', 'ALL', 'no-new-privileges']),
    );
    expect(run[run.indexOf('--memory') + 1]).toBe('1g');
    expect(run[run.indexOf('--pids-limit') + 1]).toBe('64');
    expect(run[run.indexOf('--name') + 1]).toBe(`crosstown-job-${'a'.repeat(16)}`);
    expect(run.slice(-4)).toEqual([`crosstown-job:${'a'.repeat(16)}`, 'sh', '-c', 'make test']);
  });

  it('is unavailable without an engine, refuses jobs without a context, and reports the refusal when run', async () => {
    // No Docker engine runs on this machine: `docker info` fails, as it would on any engine-less provider.
    const ex = dockerExecutor({ dockerPath: '/nonexistent/docker' });
    expect(await ex.available()).toBe(false);
    expect(ex.check(parseJobRequest(jobRequest({ command: 'make', jobType: 'docker-build-amd64' })))).toMatch(
      /needs a build context/,
    );
    const job = parseJobRequest(
      jobRequest({ command: 'make', jobType: 'docker-build-amd64', tarDir: path.join(FIXTURES, 'passing') }),
    );
    expect(ex.check(job)).toBeUndefined();
    const out = await ex.run({
      job,
      worktree: tempHome(),
      sandbox: { kind: 'none', wrap: (c) => c, env: () => ({}) },
      timeoutMs: 1000,
      maxOutputBytes: 1000,
      signal: new AbortController().signal,
      onSpawn() {},
      gitProtocols: [],
    });
    expect(out).toMatchObject({ build: 'ERROR', status: 'error' });
    expect(out.statusInfo).toMatch(/no Docker engine/);
  });
});

describe('bwrapArgs', () => {
  it('unshares the network, drops capabilities, binds only the worktree writable', () => {
    const args = bwrapArgs(['/bin/sh', '-c', 'true'], '/home/p/worktrees/j');
    expect(args).toEqual(
      expect.arrayContaining(['--unshare-all', '--unshare-net', '--die-with-parent', '--new-session']),
    );
    expect(args.slice(args.indexOf('--cap-drop'), args.indexOf('--cap-drop') + 2)).toEqual([
      '--cap-drop',
      'ALL',
    ]);
    const writable = args.flatMap((a, i) => (a === '--bind' ? [args[i + 1]] : []));
    expect(writable).toEqual(['/home/p/worktrees/j']);
    expect(args.slice(args.indexOf('--tmpfs'), args.indexOf('--tmpfs') + 2)).toEqual(['--tmpfs', '/tmp']);
    expect(args.slice(args.indexOf('--ro-bind'), args.indexOf('--ro-bind') + 3)).toEqual([
      '--ro-bind',
      '/usr',
      '/usr',
    ]);
    expect(args.slice(-4)).toEqual(['--', '/bin/sh', '-c', 'true']);
  });
});

describe('runProcess', () => {
  const base = { cwd: '/tmp', env: { PATH: '/usr/bin:/bin' }, timeoutMs: 10_000 };

  it('keeps head and tail of large output and hashes all of it', async () => {
    const out = await runProcess({ ...base, argv: ['sh', '-c', 'seq 1 100000'], maxOutputBytes: 4096 });
    const full = execFileSync('seq', ['1', '100000']);
    expect(out.exitCode).toBe(0);
    expect(out.outputBytes).toBe(full.length);
    expect(out.outputSha256).toBe(createHash('sha256').update(full).digest('hex'));
    expect(out.truncated).toBe(true);
    expect(out.output.startsWith('1\n2\n3\n')).toBe(true);
    expect(out.output.endsWith('99999\n100000\n')).toBe(true);
    expect(out.output).toMatch(/bytes omitted/);
  });

  it('keeps small output whole', async () => {
    const out = await runProcess({
      ...base,
      argv: ['sh', '-c', 'echo a; echo b >&2; exit 3'],
      maxOutputBytes: 4096,
    });
    expect(out).toMatchObject({ exitCode: 3, truncated: false, timedOut: false });
    expect(out.output.split('\n').sort()).toEqual(['', 'a', 'b']);
  });

  it('kills the whole group when output runs away', async () => {
    const out = await runProcess({
      ...base,
      argv: ['sh', '-c', 'yes polecat'],
      maxOutputBytes: 1024,
      killAfterOutputBytes: 1024 * 1024,
    });
    expect(out.outputOverflow).toBe(true);
    expect(out.signal).toBe('SIGKILL');
  });

  it('reports a program that cannot start', async () => {
    const out = await runProcess({ ...base, argv: ['/nonexistent/prog'], maxOutputBytes: 1024 });
    expect(out.spawnError).toMatch(/could not start/);
  });
});
