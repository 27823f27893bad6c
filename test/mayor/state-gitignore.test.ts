// The state repository keeps the payer's record (payments-out.jsonl) out of commits. A repository made by an older
// version gets the line at its next open, and an operator's own lines stay. Real git, real files.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { git } from '../../src/mayor/state/git.js';
import { openStateRepo, PAYER_LOG_FILE } from '../../src/mayor/state/index.js';

const dir = mkdtempSync(join(tmpdir(), 'crosstown-gitignore-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('state repository .gitignore', () => {
  it("gains the payer's record at open, keeps an operator's lines, and never commits the record", async () => {
    const first = await openStateRepo({ dir });
    await first.close();
    // As an older version left it, with a line the operator added.
    writeFileSync(join(dir, '.gitignore'), '*.tmp\nnotes.txt');
    writeFileSync(join(dir, PAYER_LOG_FILE), '{"t":"sent","c":"aa","a":"5"}\n');
    const again = await openStateRepo({ dir });
    await again.close();
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe(`*.tmp\nnotes.txt\n/${PAYER_LOG_FILE}\n`);
    const tracked = (await git(dir, ['ls-files'])).stdout.split('\n');
    expect(tracked).toContain('.gitignore');
    expect(tracked).not.toContain(PAYER_LOG_FILE);
    expect((await git(dir, ['status', '--porcelain'])).stdout.trim()).toBe('');
  });
});
