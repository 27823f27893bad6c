// vitest globalSetup: tags every process of this test run and, when the run ends, kills any that outlived it.
// Each test must stop what it starts (anvil, nodes, Mayors, relays); this is the safety net, and it says what it
// killed so a leak is seen and fixed. The tag is an environment variable the test processes inherit (spawn keeps
// process.env unless a test replaces it; the CLI helpers drop only CROSSTOWN_/GASTOWN_ variables). Only processes
// carrying this run's tag and no longer descended from the vitest process (orphans: their test worker is gone) are
// killed, so other test runs on the same machine are never touched. Linux (/proc) only; elsewhere it does nothing.
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

export const RUN_TAG_ENV = 'XTOWN_TEST_RUN';

/** The tag as an environment entry, for a test that spawns a child with an environment of its own. */
export function runTag(): Record<string, string> {
  const tag = process.env[RUN_TAG_ENV];
  return tag ? { [RUN_TAG_ENV]: tag } : {};
}

function parentOf(pid: number): number | undefined {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function descendsFrom(pid: number, ancestor: number): boolean {
  for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 64; hops++) {
    if (p === ancestor) return true;
    p = parentOf(p);
  }
  return false;
}

function tagged(tag: string): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of entries) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`${RUN_TAG_ENV}=${tag}`))
        continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 160);
      out.push({ pid, cmd });
    } catch {
      // gone already, or not ours to read
    }
  }
  return out;
}

export default function setup(): () => void {
  const tag = randomUUID();
  process.env[RUN_TAG_ENV] = tag;
  return () => {
    const leftovers = tagged(tag).filter((p) => !descendsFrom(p.pid, process.pid));
    for (const p of leftovers) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    if (leftovers.length > 0) {
      process.stderr.write(
        `test run left ${leftovers.length} process(es) running; killed them (a test does not stop what it starts):\n${leftovers.map((p) => `  ${p.pid} ${p.cmd}`).join('\n')}\n`,
      );
    }
  };
}
