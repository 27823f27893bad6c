// The CI version of `npm run soak` (scripts/soak.ts): a real devnet, a provider stand-in and the requester Mayor as
// a child process SIGKILLed twice at seeded random moments in a stream of 20 jobs. The script's own
// checks (routed once, paid once, node books = audit = write fees + provider earnings) must find no breach.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const SOAK = fileURLToPath(new URL('../../../scripts/soak.ts', import.meta.url));

describe('soak (CI: 20 jobs)', () => {
  it('20 jobs, 2 SIGKILLs: every job routed once and paid once; books, audit and earnings agree', async () => {
    const tsx = pathToFileURL(require.resolve('tsx')).href;
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', tsx, SOAK, '--jobs', '20', '--kills', '2', '--seed', '3', '--format', 'json'],
        { timeout: 280_000, maxBuffer: 1 << 20 },
        (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stderr}\n${stdout}`)) : resolve(stdout),
      );
    });
    const tally = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(tally.breaches).toEqual([]);
    expect(tally.kills).toBe(2);
    expect(tally.jobsRecorded).toBe(20);
    expect(tally.paid).toBe(20);
    expect(tally.routedTwice).toBe(0);
    expect(tally.providerPayments).toBe(tally.paid);
    expect(tally.auditOut).toBe(tally.nodeBooks);
  }, 290_000);
});
