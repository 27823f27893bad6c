// The artifact walk on a worktree the job controlled (issue 14 item 4, noticed after it): a job that fills a
// listed directory with entries that are not files (links, empty directories) used to make the provider lstat
// every one of them, however many: 100,000 links cost it seconds of event-loop time and the whole name list in
// memory. The walk now looks at most `maxEntries` names per manifest (10,000 by default) and says so.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { artifactManifest, MAX_WALKED_ENTRIES } from '../../../src/mayor/provider/artifacts.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'crosstown-walk-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('artifact walk limits', () => {
  it('stops after maxEntries names, links and empty directories included', async () => {
    mkdirSync(join(dir, 'out'));
    // 300 dead links, then real files whose names sort after them.
    for (let i = 0; i < 300; i++)
      symlinkSync('/etc/passwd', join(dir, 'out', `a${String(i).padStart(4, '0')}`));
    for (let i = 0; i < 3; i++) writeFileSync(join(dir, 'out', `z${i}.txt`), `file ${i}\n`);
    const seen: number[] = [];
    const capped = await artifactManifest(dir, 'out', { maxEntries: 100, onLimit: (n) => seen.push(n) });
    expect(capped).toEqual([]); // the real files lie past the first 100 names
    expect(seen).toEqual([100]);
    // Under the default limit the same tree lists the three files (and only them: links are never followed).
    const all = await artifactManifest(dir, 'out');
    expect(all.map((e) => e.path)).toEqual(['out/z0.txt', 'out/z1.txt', 'out/z2.txt']);
    expect(MAX_WALKED_ENTRIES).toBe(10_000);
  });

  it('a listed name counts against the limit too, nested directories included', async () => {
    mkdirSync(join(dir, 'a', 'b', 'c'), { recursive: true });
    writeFileSync(join(dir, 'a', 'b', 'c', 'f.txt'), 'x');
    writeFileSync(join(dir, 'top.txt'), 'y');
    // a, a/b, a/b/c, a/b/c/f.txt: four names; the fifth (top.txt) is over a limit of 4.
    const seen: number[] = [];
    const m = await artifactManifest(dir, 'a,top.txt', { maxEntries: 4, onLimit: (n) => seen.push(n) });
    expect(m.map((e) => e.path)).toEqual(['a/b/c/f.txt']);
    expect(seen).toEqual([4]);
    expect((await artifactManifest(dir, 'a,top.txt', { maxEntries: 5 })).map((e) => e.path)).toEqual([
      'a/b/c/f.txt',
      'top.txt',
    ]);
  });
});
