// `crosstown devnet up` records where everything is in <CROSSTOWN_HOME>/devnet.json (0600: it holds the devnet's
// throwaway keys), with the pid of the process to signal for `devnet down`.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crosstownHome } from '../node/config.js';
import type { DevnetInfo } from './devnet.js';

export interface DevnetFile extends DevnetInfo {
  /** The `crosstown devnet up` process. */
  pid: number;
  startedAt: string;
}

export function devnetFilePath(env: Record<string, string | undefined> = process.env): string {
  return join(crosstownHome(env), 'devnet.json');
}

export function writeDevnetFile(path: string, content: DevnetFile): void {
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

export function readDevnetFile(path: string): DevnetFile | undefined {
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as DevnetFile;
}

export function removeDevnetFile(path: string, pid?: number): void {
  // Only the owner removes it, so a second `devnet up` that refused to start cannot delete the live one's file.
  if (pid !== undefined && readDevnetFile(path)?.pid !== pid) return;
  rmSync(path, { force: true });
}

/**
 * Whether a process with this pid runs (signal 0 checks without sending anything). A zombie (exited, not yet
 * reaped by its parent) counts as gone: it holds no ports or files.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; the state letter follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true; // no /proc (macOS): trust kill(0)
  }
}
