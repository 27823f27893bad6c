// The artifact manifest of a finished job: names, sizes and sha256 of the files the `artifacts` param lists. The
// job controlled the worktree, so every name is hostile: a symlink to / mid-path would otherwise make the provider
// hash host files outside the sandbox and publish their names, sizes and digests (issue 14). Each path is walked
// component by component without following links (no symlink anywhere, directories then one regular file), the
// file is opened O_NOFOLLOW and its real path checked inside the worktree, and sizes are capped.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, opendir, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { ArtifactEntry } from './results.js';

export const MAX_ARTIFACTS = 100;
/** Largest file hashed (bigger ones are left out of the manifest). */
export const MAX_ARTIFACT_BYTES = 256 * 1024 * 1024;
/** Most bytes hashed for one manifest. */
export const MAX_MANIFEST_BYTES = 1024 * 1024 * 1024;
/**
 * Most names looked at for one manifest (listed names, directories and their entries, links included): a job that
 * fills a listed directory with a million links would otherwise cost the provider a million lstat calls.
 */
export const MAX_WALKED_ENTRIES = 10_000;

export interface ManifestLimits {
  /** Default MAX_WALKED_ENTRIES. */
  maxEntries?: number;
  /** Called once when the walk stops at the limit (the provider logs it). */
  onLimit?: (maxEntries: number) => void;
}

/** Whether `child` (a real path) is `root` or under it. */
const inside = (root: string, child: string) => child === root || child.startsWith(root + path.sep);

/** The worktree-relative components of a listed name, or undefined when it is absolute, climbs or is empty. */
function components(name: string): string[] | undefined {
  if (name === '' || name.includes('\0') || path.isAbsolute(name)) return undefined;
  const parts = name.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..')) return undefined;
  return parts;
}

/** Real path of an open descriptor (Linux); undefined where /proc/self/fd does not exist. */
async function fdPath(fd: number): Promise<string | undefined> {
  try {
    return await readlink(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

/** Up to `max` entry names of a directory, sorted (read as a stream: a huge directory is never loaded whole). */
async function listDir(dir: string, max: number): Promise<string[]> {
  const names: string[] = [];
  const d = await opendir(dir).catch(() => undefined);
  if (!d) return names;
  try {
    // One past the budget, so the walk sees that there was more and reports the limit.
    for await (const entry of d) {
      names.push(entry.name);
      if (names.length > max) break;
    }
  } catch {
    // unreadable mid-way: what was read is walked
  }
  return names.sort();
}

/** Manifest of the files named by the `artifacts` param (comma-separated paths in the worktree); anything else is left out. */
export async function artifactManifest(
  worktree: string,
  spec: string | undefined,
  limits: ManifestLimits = {},
): Promise<ArtifactEntry[]> {
  if (!spec) return [];
  const maxEntries = limits.maxEntries ?? MAX_WALKED_ENTRIES;
  let walked = 0;
  let stopped = false;
  /** Takes one name from the budget; false (once reported) when it is spent. */
  const take = (): boolean => {
    if (walked < maxEntries) {
      walked++;
      return true;
    }
    if (!stopped) limits.onLimit?.(maxEntries);
    stopped = true;
    return false;
  };
  const root = await realpath(worktree);
  const out: ArtifactEntry[] = [];
  const seen = new Set<string>();
  let hashed = 0;

  const hashFile = async (rel: string): Promise<void> => {
    const abs = path.join(root, rel);
    // O_NOFOLLOW: a file swapped for a link after the walk is not followed; O_NONBLOCK: a fifo does not hang us.
    const fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(
      () => undefined,
    );
    if (!fh) return;
    try {
      const st = await fh.stat();
      if (!st.isFile() || st.size > MAX_ARTIFACT_BYTES || hashed + st.size > MAX_MANIFEST_BYTES) return;
      const real = await fdPath(fh.fd);
      if (real !== undefined && (!inside(root, real) || real.startsWith('/proc/'))) return;
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of fh.createReadStream({ autoClose: false, end: MAX_ARTIFACT_BYTES - 1 })) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
      }
      hashed += bytes;
      out.push({ path: rel, bytes, sha256: hash.digest('hex') });
    } finally {
      await fh.close();
    }
  };

  const visit = async (parts: string[]): Promise<void> => {
    if (out.length >= MAX_ARTIFACTS || stopped) return;
    const rel = parts.join('/');
    if (seen.has(rel)) return;
    seen.add(rel);
    // The components above the last were taken when their own directory was listed, or are the path of a name
    // listed in the spec (a few, bounded by the spec's length): only the name itself counts.
    if (!take()) return;
    // Every component is looked at without following it: a link anywhere on the way drops the name.
    for (let i = 1; i <= parts.length; i++) {
      const st = await lstat(path.join(root, ...parts.slice(0, i))).catch(() => undefined);
      if (!st || st.isSymbolicLink()) return;
      if (i < parts.length && !st.isDirectory()) return;
      if (i === parts.length) {
        if (st.isDirectory()) {
          for (const name of await listDir(path.join(root, ...parts), maxEntries - walked))
            await visit([...parts, name]);
        } else if (st.isFile()) await hashFile(rel);
      }
    }
  };

  for (const part of spec.split(',')) {
    const parts = components(part.trim());
    if (parts) await visit(parts);
  }
  return out;
}
