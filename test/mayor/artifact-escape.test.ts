// Issue 14 item 4 on a real devnet: a requester posts a ci-cd-linux job whose command links / (and a host directory)
// into its worktree and names host files through those links, directly, with '..' and under /proc as artifacts.
// The provider's published result (read back from the relay) lists only the file the job really made: no name,
// size or sha256 of any host file, a 0600 one included. A build context whose tar links climb with '..' is refused
// at intake (kind 7000 error): nothing is extracted, nothing runs, no result.
//
// No bwrap on this machine: the provider runs unsandboxed by explicit policy (allowUnsandboxed). The manifest is
// computed by the provider process outside any sandbox either way, which is what this test is about.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, startDevnet } from '../../src/devnet/index.js';
import type { Mayor } from '../../src/mayor/runtime/index.js';
import { makeTarGz } from './provider/helpers.js';
import { BID, startProviderMayor, startRequesterMayor } from './provider-e2e-helpers.js';
import { waitFor } from './runtime/helpers.js';

let devnet: Devnet;
let alpha: Mayor;
let beta: Mayor;
let hostDir: string;
const SECRET = 'host secret: must never be described in a result\n';

beforeAll(async () => {
  hostDir = mkdtempSync(join(tmpdir(), 'crosstown-host-'));
  writeFileSync(join(hostDir, 'secret.txt'), SECRET, { mode: 0o600 });
  devnet = await startDevnet({ mayors: ['alpha', 'beta'] });
  beta = await startProviderMayor(devnet, 'beta', { sandbox: 'none', policy: { allowUnsandboxed: true } });
  alpha = await startRequesterMayor(devnet, 'alpha');
}, 90_000);

afterAll(async () => {
  await alpha?.stop();
  await beta?.stop();
  await devnet?.stop();
  rmSync(hostDir, { recursive: true, force: true });
});

describe('artifacts stay inside the worktree (issue 14 item 4)', () => {
  it('a job that links / and names host files as artifacts publishes nothing about them', async () => {
    const command = [
      'ln -s / root',
      'mkdir -p sub',
      `ln -s ${hostDir} sub/host`,
      `ln -s ${hostDir}/secret.txt direct`,
      'echo built > out.txt',
    ].join(' && ');
    const artifacts = [
      'out.txt',
      `root${hostDir}/secret.txt`,
      'root/etc/hostname',
      'root/etc/passwd',
      'root/proc/self/environ',
      'sub/host/secret.txt',
      'sub',
      'direct',
      `${hostDir}/secret.txt`,
      `../../../../../../..${hostDir}/secret.txt`,
    ].join(',');
    const posted = await alpha.postJob({
      jobType: 'ci-cd-linux',
      params: { command, artifacts },
      bid: BID,
      provider: beta.pubkey,
      // A clear result: this test reads the manifest as published (an atomic one is sealed until paid).
      payment: 'after-result',
    });
    await alpha.settled([posted.jobId], 60_000);
    let results: Awaited<ReturnType<Mayor['pool']['query']>> = [];
    await waitFor(
      async () => {
        results = await alpha.pool.query([{ kinds: [6065], '#e': [posted.jobId] }]);
        return results.length > 0;
      },
      20_000,
      'the result on the relay',
    );
    const content = JSON.parse(results[0]!.event.content) as {
      build: string;
      artifacts: { path: string; bytes: number; sha256: string }[];
    };
    expect(content.build).toBe('SUCCESS');
    expect(content.artifacts).toEqual([
      {
        path: 'out.txt',
        bytes: 6,
        sha256: createHash('sha256').update('built\n').digest('hex'),
      },
    ]);
    const secretSha = createHash('sha256').update(SECRET).digest('hex');
    // The content is what the provider wrote (the embedded request tag repeats the job's own param).
    const published = results[0]!.event.content;
    expect(published).not.toContain(secretSha);
    expect(published).not.toContain('passwd');
    expect(published).not.toContain('hostname');
  }, 90_000);

  it("refuses at intake a build context whose tar symlink climbs with '..', even one that stays inside lexically", async () => {
    // `a/up -> ../x` looks harmless, but what `a/..` means depends on what `a` is once extracted (another link).
    const gz = makeTarGz([
      { name: 'a/', type: '5' },
      { name: 'x', body: 'inside\n' },
      { name: 'a/up', type: '2', linkname: '../x' },
    ]);
    const posted = await alpha.postJob({
      jobType: 'ci-cd-linux',
      inputs: [{ data: gz.toString('base64'), type: 'tar.gz+base64' }],
      params: { command: 'cat a/up > out.txt', artifacts: 'out.txt' },
      bid: BID,
      provider: beta.pubkey,
      payment: 'after-result',
    });
    let feedback: Awaited<ReturnType<Mayor['pool']['query']>> = [];
    await waitFor(
      async () => {
        feedback = await alpha.pool.query([{ kinds: [7000], '#e': [posted.jobId], authors: [beta.pubkey] }]);
        return feedback.some(({ event }) => event.tags.some((t) => t[0] === 'status' && t[1] === 'error'));
      },
      20_000,
      "the provider's refusal on the relay",
    );
    const error = feedback.find(({ event }) =>
      event.tags.some((t) => t[0] === 'status' && t[1] === 'error'),
    )!;
    const reason = error.event.tags.find((t) => t[0] === 'status')![2] ?? error.event.content;
    expect(reason).toMatch(/symlink "a\/up" points to "\.\.\/x", which climbs with '\.\.'/);
    expect(await alpha.pool.query([{ kinds: [6065], '#e': [posted.jobId] }])).toEqual([]);
  }, 60_000);
});
