import { describe, expect, it } from 'vitest';
import { parseTestSummary } from '../../../src/mayor/provider/test-summary.js';

describe('parseTestSummary', () => {
  it('vitest', () => {
    const out =
      ' ✓ a.test.ts (3)\n\n Test Files  1 failed | 2 passed (3)\n      Tests  2 failed | 40 passed (42)\n   Start at 10:00\n';
    expect(parseTestSummary(out)).toEqual({ runner: 'vitest', passed: 40, failed: 2 });
    const green = '      Tests  \x1b[1m\x1b[32m47 passed\x1b[39m\x1b[22m\x1b[90m (47)\x1b[39m\n';
    expect(parseTestSummary(green)).toEqual({ runner: 'vitest', passed: 47, failed: 0 });
  });

  it('jest', () => {
    const out =
      'Test Suites: 1 failed, 3 passed, 4 total\nTests:       1 failed, 2 skipped, 12 passed, 15 total\nSnapshots:   0 total\n';
    expect(parseTestSummary(out)).toEqual({ runner: 'jest', passed: 12, failed: 1 });
  });

  it('node --test (TAP) and its spec reporter', () => {
    const tap =
      'ok 1 - adds\nnot ok 2 - mul\n1..2\n# tests 2\n# suites 0\n# pass 1\n# fail 1\n# cancelled 0\n';
    expect(parseTestSummary(tap)).toEqual({ runner: 'tap', passed: 1, failed: 1 });
    const spec = '✔ adds (0.5ms)\nℹ tests 3\nℹ pass 3\nℹ fail 0\n';
    expect(parseTestSummary(spec)).toEqual({ runner: 'tap', passed: 3, failed: 0 });
  });

  it('pytest, counting errors as failures', () => {
    expect(parseTestSummary('====== 3 passed, 1 failed, 2 skipped in 0.12s ======\n')).toEqual({
      runner: 'pytest',
      passed: 3,
      failed: 1,
    });
    expect(parseTestSummary('=== 4 passed, 2 errors in 1.01s ===\n')).toEqual({
      runner: 'pytest',
      passed: 4,
      failed: 2,
    });
    expect(parseTestSummary('============ 7 passed in 0.01s ============\n')).toEqual({
      runner: 'pytest',
      passed: 7,
      failed: 0,
    });
  });

  it('go test -v, with subtests', () => {
    const out =
      '=== RUN   TestA\n--- PASS: TestA (0.00s)\n=== RUN   TestB\n    --- PASS: TestB/sub (0.00s)\n--- FAIL: TestB (0.00s)\nFAIL\n';
    expect(parseTestSummary(out)).toEqual({ runner: 'go', passed: 2, failed: 1 });
  });

  it('mocha', () => {
    expect(parseTestSummary('\n  5 passing (12ms)\n  1 failing\n\n  1) x:\n')).toEqual({
      runner: 'mocha',
      passed: 5,
      failed: 1,
    });
    expect(parseTestSummary('\n  9 passing (3s)\n')).toEqual({ runner: 'mocha', passed: 9, failed: 0 });
  });

  it('cargo test sums every test binary', () => {
    const out =
      'test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n' +
      'test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out\n';
    expect(parseTestSummary(out)).toEqual({ runner: 'cargo', passed: 4, failed: 2 });
  });

  it('the last summary wins when a runner prints several', () => {
    const out = '# pass 1\n# fail 0\n...rerun...\n# pass 5\n# fail 2\n';
    expect(parseTestSummary(out)).toEqual({ runner: 'tap', passed: 5, failed: 2 });
  });

  it('returns undefined for output with no known summary', () => {
    expect(parseTestSummary('make: *** [all] Error 2\nbuild failed\n')).toBeUndefined();
    expect(parseTestSummary('')).toBeUndefined();
  });
});
