// Crash-safe file writes: write a temporary file, fsync it, rename it over the target, fsync the directory.
// A reader (or a crash) sees either the old or the new content, never a torn file.
import { randomBytes } from 'node:crypto';
import { closeSync, fsync, fsyncSync, mkdirSync, openSync, rename, renameSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;
/** Temporary files end in this; recovery deletes leftovers and `.gitignore` keeps them out of commits. */
export const TMP_SUFFIX = '.tmp';

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
}

/** Atomically replaces `path` with `data` (mode 0600) and fsyncs its directory. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = tmpPathFor(path);
  const fd = openSync(tmp, 'wx', FILE_MODE);
  try {
    writeAll(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

function tmpPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}${TMP_SUFFIX}`);
}

function writeAll(fd: number, data: string | Uint8Array): void {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/** fsyncs many descriptors at once on libuv's thread pool: far cheaper than one after the other. */
export function fsyncAll(fds: number[]): Promise<void> {
  return Promise.all(
    fds.map((fd) => new Promise<void>((res, rej) => fsync(fd, (err) => (err ? rej(err) : res())))),
  ).then(() => undefined);
}

/**
 * fsyncs many directories at once on libuv's thread pool (a directory that is gone is skipped): the event loop
 * does not stop for them, and a batch pays one directory fsync latency, not one per directory.
 */
export async function fsyncDirs(dirs: Iterable<string>): Promise<void> {
  const fds: number[] = [];
  try {
    for (const d of dirs) {
      try {
        fds.push(openSync(d, 'r'));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    await fsyncAll(fds);
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

/** Most descriptors held open at once by a batch write (stays well below the usual limit of 1024). */
const FD_CHUNK = 256;

/**
 * Atomically replaces many files (tmp + fsync + rename each, fsyncs in parallel), then fsyncs their
 * directories once (or, with `dirs`, adds them there for the caller to fsync with its own). Each file is either
 * old or new after a crash, never torn.
 */
export async function writeFilesAtomic(
  files: { path: string; data: string }[],
  dirsToSync?: Set<string>,
): Promise<void> {
  const dirs = dirsToSync ?? new Set<string>();
  for (let i = 0; i < files.length; i += FD_CHUNK) {
    const chunk = files.slice(i, i + FD_CHUNK);
    const open: { fd: number; tmp: string; path: string }[] = [];
    try {
      for (const f of chunk) {
        const tmp = tmpPathFor(f.path);
        const fd = openSync(tmp, 'wx', FILE_MODE);
        open.push({ fd, tmp, path: f.path });
        writeAll(fd, f.data);
      }
      await fsyncAll(open.map((o) => o.fd));
    } finally {
      for (const o of open) closeSync(o.fd);
    }
    // On the thread pool, all at once: a rename waits for the file system's journal, which other processes'
    // fsyncs can hold for milliseconds; on the event loop that stalled every socket of the Mayor (issue 17).
    await Promise.all(
      open.map(
        (o) => new Promise<void>((res, rej) => rename(o.tmp, o.path, (err) => (err ? rej(err) : res()))),
      ),
    );
    for (const o of open) dirs.add(dirname(o.path));
  }
  if (!dirsToSync) await fsyncDirs(dirs);
}

/** Writes more data to a descriptor opened by appendNoSync. */
export function appendMore(fd: number, data: string): void {
  writeAll(fd, data);
}

/** Opens `path` for appending (mode 0600 when created), writes `data` and returns the open descriptor. */
export function appendNoSync(path: string, data: string): number {
  const fd = openSync(path, 'a', FILE_MODE);
  try {
    writeAll(fd, data);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}
