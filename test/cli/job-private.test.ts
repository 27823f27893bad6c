// `job post --private`: argument checks happen before any Mayor is contacted.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '../../bin/crosstown.js');

describe('crosstown job post --private', () => {
  it('needs a provider to address the gift wrap to (exit 2, says what to add)', () => {
    const home = mkdtempSync(join(tmpdir(), 'crosstown-private-'));
    const run = spawnSync(
      process.execPath,
      [bin, 'job', 'post', '--type', 'ci-cd-linux', '--private', '--yes'],
      {
        encoding: 'utf8',
        env: { ...process.env, CROSSTOWN_HOME: home },
      },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--private needs --provider');
  });

  it('is documented in --help with an example', () => {
    const run = spawnSync(process.execPath, [bin, 'job', 'post', '--help'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/--private\s+send the request gift-wrapped/);
    expect(run.stdout).toContain('--private');
  });
});
