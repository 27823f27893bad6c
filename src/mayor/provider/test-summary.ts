// Pass/fail counts read from the output of common test runners. Each runner prints a final summary line;
// we read the LAST match of each runner's pattern (watch modes and nested suites print several).
export interface TestSummary {
  passed: number;
  failed: number;
  /** Which runner's format matched. */
  runner: 'vitest' | 'jest' | 'tap' | 'pytest' | 'go' | 'mocha' | 'cargo';
}

// ANSI colour codes split numbers from their words ("\x1b[32m3 passed\x1b[39m").
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

function lastMatch(text: string, re: RegExp): RegExpMatchArray | undefined {
  let last: RegExpMatchArray | undefined;
  for (const m of text.matchAll(re)) last = m;
  return last;
}

function num(s: string | undefined): number {
  return s === undefined ? 0 : Number.parseInt(s, 10);
}

type Parser = (text: string) => TestSummary | undefined;

// vitest: "      Tests  2 failed | 5 passed (7)"
const vitest: Parser = (t) => {
  const m = lastMatch(t, /^\s*Tests\s+(.*)\((\d+)\)\s*$/gm);
  if (!m) return undefined;
  const body = m[1] ?? '';
  if (/,/.test(body)) return undefined; // jest's "Tests: 1 failed, 2 passed, 3 total" has commas
  return {
    runner: 'vitest',
    passed: num(/(\d+) passed/.exec(body)?.[1]),
    failed: num(/(\d+) failed/.exec(body)?.[1]),
  };
};

// jest: "Tests:       1 failed, 2 skipped, 5 passed, 8 total"
const jest: Parser = (t) => {
  const m = lastMatch(t, /^Tests:\s+(.*\d+ total)\s*$/gm);
  if (!m) return undefined;
  const body = m[1] ?? '';
  return {
    runner: 'jest',
    passed: num(/(\d+) passed/.exec(body)?.[1]),
    failed: num(/(\d+) failed/.exec(body)?.[1]),
  };
};

// node --test (TAP): "# pass 5" / "# fail 1"; also plain TAP counting "ok"/"not ok" lines when no footer.
const tap: Parser = (t) => {
  const pass = lastMatch(t, /^# pass (\d+)\s*$/gm);
  const fail = lastMatch(t, /^# fail (\d+)\s*$/gm);
  if (pass || fail) return { runner: 'tap', passed: num(pass?.[1]), failed: num(fail?.[1]) };
  // node --test's spec reporter (the default on a TTY-less run in Node 20 is TAP, in 22 spec): "ℹ pass 5"
  const specPass = lastMatch(t, /^ℹ pass (\d+)\s*$/gm);
  const specFail = lastMatch(t, /^ℹ fail (\d+)\s*$/gm);
  if (specPass || specFail) return { runner: 'tap', passed: num(specPass?.[1]), failed: num(specFail?.[1]) };
  return undefined;
};

// pytest: "===== 3 passed, 1 failed, 2 skipped in 0.12s =====" or "==== 4 passed in 0.01s ===="
const pytest: Parser = (t) => {
  const m = lastMatch(t, /^=+ (.*\b(?:passed|failed|error|errors)\b.*) in [\d.]+s.*=+\s*$/gm);
  if (!m) return undefined;
  const body = m[1] ?? '';
  return {
    runner: 'pytest',
    passed: num(/(\d+) passed/.exec(body)?.[1]),
    failed: num(/(\d+) failed/.exec(body)?.[1]) + num(/(\d+) errors?\b/.exec(body)?.[1]),
  };
};

// go test -v: one "--- PASS: TestX" / "--- FAIL: TestX" per test (subtests indented); count them.
const go: Parser = (t) => {
  const passed = [...t.matchAll(/^\s*--- PASS: /gm)].length;
  const failed = [...t.matchAll(/^\s*--- FAIL: /gm)].length;
  if (passed + failed === 0) return undefined;
  return { runner: 'go', passed, failed };
};

// mocha: "  5 passing (12ms)" and "  1 failing"
const mocha: Parser = (t) => {
  const pass = lastMatch(t, /^\s*(\d+) passing \(/gm);
  if (!pass) return undefined;
  const fail = lastMatch(t, /^\s*(\d+) failing\s*$/gm);
  return { runner: 'mocha', passed: num(pass[1]), failed: num(fail?.[1]) };
};

// cargo test: "test result: FAILED. 3 passed; 1 failed; 0 ignored; ..." once per test binary: sum them.
const cargo: Parser = (t) => {
  let passed = 0;
  let failed = 0;
  let seen = false;
  for (const m of t.matchAll(/^test result: \w+\. (\d+) passed; (\d+) failed;/gm)) {
    seen = true;
    passed += num(m[1]);
    failed += num(m[2]);
  }
  return seen ? { runner: 'cargo', passed, failed } : undefined;
};

// Order matters only where formats could overlap: jest before vitest (both say "Tests"), cargo and pytest
// before go (a go-style line would not appear in their output anyway).
const PARSERS: Parser[] = [jest, vitest, cargo, pytest, mocha, tap, go];

/** The test summary in a job's output, or undefined when no known runner's summary is there. */
export function parseTestSummary(output: string): TestSummary | undefined {
  const text = output.replace(ANSI, '');
  for (const parse of PARSERS) {
    const summary = parse(text);
    if (summary) return summary;
  }
  return undefined;
}
