// What a crashed provider left running for one job, found from /proc and killed before the job is reported:
// the process groups it recorded, everything descended from them (bwrap's sandbox runs in its own session,
// so a group kill alone reaches only its outer process), and anything still working in the job's worktree
// (a job that left its group with setsid). Recovery waits until they are gone: a job reported failed must
// not still be running, and its worktree must not be removed under a live process.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { ProcessRef } from './pool-state.js';

interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  state: string;
  startTime: string;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, state: f[0]!, ppid: Number(f[1]), pgrp: Number(f[2]), startTime: f[19]! };
  } catch {
    return undefined; // exited while we looked
  }
}

function listProcesses(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat !== undefined && stat.pid !== process.pid) out.push(stat);
  }
  return out;
}

function worksIn(pid: number, dir: string): boolean {
  try {
    // A process whose directory was removed reads "<path> (deleted)".
    const cwd = readlinkSync(`/proc/${pid}/cwd`);
    return cwd === dir || cwd.startsWith(`${dir}/`) || cwd.startsWith(`${dir} (deleted)`);
  } catch {
    return false; // gone, or not ours to look at
  }
}

/** The live processes of a job: its recorded groups (if still the ones it started), their descendants, its worktree's. */
function jobProcesses(groups: readonly ProcessRef[], worktree: string): ProcStat[] {
  const all = listProcesses().filter((p) => p.state !== 'Z');
  const pgids = new Set<number>();
  for (const g of groups) {
    // Only a group whose leader is still the process started (same start time) is ours: a pid reused by a later
    // process is not. What a gone leader left is found by its worktree instead.
    if (g.startTime !== undefined && readStat(g.pid)?.startTime === g.startTime) pgids.add(g.pid);
  }
  const found = new Map<number, ProcStat>();
  for (const p of all) if (pgids.has(p.pgrp) || worksIn(p.pid, worktree)) found.set(p.pid, p);
  // Descendants, to any depth: a sandbox's processes sit in their own session under the group's leader.
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all)
      if (!found.has(p.pid) && found.has(p.ppid)) {
        found.set(p.pid, p);
        grew = true;
      }
  }
  return [...found.values()];
}

/**
 * SIGKILLs every process of the job (see `jobProcesses`), looking again until none is alive (one forked while
 * we killed is found the next time), or until `timeoutMs`: then resolves with the pids that survived (a
 * process stuck in the kernel). A pid namespace's first process exits only after every process in it, so
 * waiting for the sandbox's first process covers what runs inside.
 */
export async function killJobProcesses(
  groups: readonly ProcessRef[],
  worktree: string,
  timeoutMs = 5_000,
): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  // Once found, a process is waited for even when it no longer looks like the job's (a sandbox's first
  // process is re-parented when its parent dies first).
  const known = new Map<number, ProcStat>();
  for (;;) {
    for (const p of jobProcesses(groups, worktree)) known.set(p.pid, p);
    for (const p of known.values()) if (!alive(p)) known.delete(p.pid);
    if (known.size === 0 || Date.now() >= deadline) return [...known.keys()];
    for (const pid of known.keys()) signal(pid);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function alive(p: ProcStat): boolean {
  const now = readStat(p.pid);
  return now !== undefined && now.startTime === p.startTime && now.state !== 'Z';
}

function signal(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone, or not ours
  }
}
