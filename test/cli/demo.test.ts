// Runs the real `crosstown` binary as a child process: the README's first command, minus the install.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '../../bin/crosstown.js');

describe('crosstown demo', () => {
  it('posts a paid job on a fresh devnet and reports balances that add up', () => {
    const run = spawnSync(process.execPath, [bin, 'demo', '--format', 'json'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout) as {
      [field in
        | 'price'
        | 'toonBytes'
        | 'nodeAfter'
        | 'nodeBefore'
        | 'requesterBefore'
        | 'requesterAfter']: string;
    } & { steps: { step: string }[] };
    expect(report.steps.map((s) => s.step)).toEqual(['devnet', 'relay', 'channel', 'post', 'settle', 'read']);
    const price = BigInt(report.price);
    expect(price).toBe(BigInt(report.toonBytes) * 10n ** 13n);
    // The node gained exactly the price; the requester locked 50 M2M in the channel.
    expect(BigInt(report.nodeAfter) - BigInt(report.nodeBefore)).toBe(price);
    expect(BigInt(report.requesterBefore) - BigInt(report.requesterAfter)).toBe(50n * 10n ** 18n);
  });

  it('refuses an unknown output format with exit code 2 and a clear message', () => {
    const run = spawnSync(process.execPath, [bin, 'demo', '--format', 'xml'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('use one of text, json, csv');
  });
});
