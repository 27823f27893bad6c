import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileContracts, generatedDir } from '../../scripts/compile-contracts.js';

describe('generated contract artifacts', () => {
  it('match a fresh solc compile of src/chain/contracts (run `npx tsx scripts/compile-contracts.ts` if not)', () => {
    const fresh = compileContracts();
    expect([...fresh.keys()].sort()).toEqual(['M2MToken.ts', 'PaymentChannels.ts']);
    const committed = readdirSync(generatedDir)
      .filter((f) => f.endsWith('.ts'))
      .sort();
    expect(committed).toEqual([...fresh.keys()].sort());
    for (const [file, text] of fresh) {
      expect(readFileSync(join(generatedDir, file), 'utf8'), `${file} drifted from its source`).toBe(text);
    }
  });
});
