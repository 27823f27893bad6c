// Inline build contexts arrive as tar.gz. Before the system `tar` touches the worktree, every entry is
// checked here: no absolute paths, no `..`, no links pointing out of the worktree, no devices or fifos,
// bounded size and count. (Extraction then also runs inside the sandbox, so a missed case still cannot
// write outside the worktree.)
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ProviderError } from './errors.js';

export interface ArchiveEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink';
  size: number;
  linkTarget?: string;
}

export interface ArchiveLimits {
  /** Uncompressed tar bytes (default 64 MiB). */
  maxBytes?: number;
  /** Entries (default 10 000). */
  maxEntries?: number;
}

const BLOCK = 512;

function cstr(buf: Buffer, start: number, len: number): string {
  const slice = buf.subarray(start, start + len);
  const nul = slice.indexOf(0);
  return slice.subarray(0, nul === -1 ? slice.length : nul).toString('utf8');
}

function octal(buf: Buffer, start: number, len: number): number {
  const field = buf.subarray(start, start + len);
  if ((field[0]! & 0x80) !== 0) unsafe('an entry uses a base-256 size (over 8 GiB); refusing it');
  const text = cstr(field, 0, len).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) unsafe(`bad size field ${JSON.stringify(text)} in a tar header`);
  return Number.parseInt(text, 8);
}

function unsafe(message: string): never {
  throw new ProviderError('unsafe_archive', `${message}; send a plain tar.gz of files and directories`);
}

/** A path inside the extraction root, or a refusal naming the entry. */
function safePath(name: string, what: string): string {
  if (name === '' || name.includes('\0')) unsafe(`${what} has an empty name`);
  if (name.startsWith('/')) unsafe(`${what} ${JSON.stringify(name)} is absolute`);
  const parts = name.split('/');
  if (parts.includes('..')) unsafe(`${what} ${JSON.stringify(name)} climbs out with '..'`);
  return path.posix.normalize(name);
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space === -1) break;
    const len = Number.parseInt(data.subarray(i, space).toString('ascii'), 10);
    if (!Number.isSafeInteger(len) || len <= 0) unsafe('a pax header record is malformed');
    const record = data.subarray(space + 1, i + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}

/** Decompresses and checks a tar.gz; returns its entries or throws ProviderError('unsafe_archive' | 'invalid_input'). */
export function inspectTarGz(gz: Uint8Array, limits: ArchiveLimits = {}): ArchiveEntry[] {
  const maxBytes = limits.maxBytes ?? 64 * 1024 * 1024;
  const maxEntries = limits.maxEntries ?? 10_000;
  let tar: Buffer;
  try {
    tar = gunzipSync(gz, { maxOutputLength: maxBytes });
  } catch (err) {
    const tooBig = err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    throw new ProviderError(
      tooBig ? 'unsafe_archive' : 'invalid_input',
      tooBig
        ? `the build context unpacks to more than ${maxBytes} bytes; send a smaller one or a git URL`
        : `the build context is not gzip: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const entries: ArchiveEntry[] = [];
  // Paths declared as symlinks: no later entry may go through one (lexical checks cannot follow links).
  const links = new Set<string>();
  const throughLink = (p: string, what: string) => {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (links.has(prefix))
        unsafe(`${what} ${JSON.stringify(p)} goes through symlink ${JSON.stringify(prefix)}`);
    }
  };
  let offset = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break; // end of archive
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156]!);
    const dataStart = offset + BLOCK;
    const data = tar.subarray(dataStart, dataStart + size);
    if (data.length < size) throw new ProviderError('invalid_input', 'the tar archive is cut short');
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L') {
      longName = cstr(data, 0, data.length);
      continue;
    }
    if (type === 'K') {
      longLink = cstr(data, 0, data.length);
      continue;
    }
    if (type === 'x') {
      pax = parsePax(data);
      continue;
    }
    if (type === 'g') continue; // global pax defaults (comments, mtimes): no paths in practice
    const magic = cstr(header, 257, 6);
    const prefix = magic.startsWith('ustar') ? cstr(header, 345, 155) : '';
    const rawName =
      pax.path ?? longName ?? (prefix ? `${prefix}/${cstr(header, 0, 100)}` : cstr(header, 0, 100));
    const rawLink = pax.linkpath ?? longLink ?? cstr(header, 157, 100);
    longName = undefined;
    longLink = undefined;
    pax = {};
    if (entries.length >= maxEntries) unsafe(`the archive has more than ${maxEntries} entries`);
    const name = safePath(rawName, 'entry');
    throughLink(name, 'entry');
    if (type === '0' || type === '\0' || type === '7') {
      entries.push({ path: name, type: 'file', size });
    } else if (type === '5') {
      entries.push({ path: name, type: 'dir', size: 0 });
    } else if (type === '2') {
      if (rawLink.startsWith('/'))
        unsafe(`symlink ${JSON.stringify(name)} points to absolute ${JSON.stringify(rawLink)}`);
      // No `..` at all: whether `a/../..` stays inside depends on what `a` is once extracted (another link).
      if (rawLink.split('/').includes('..'))
        unsafe(
          `symlink ${JSON.stringify(name)} points to ${JSON.stringify(rawLink)}, which climbs with '..'`,
        );
      links.add(name);
      entries.push({ path: name, type: 'symlink', size: 0, linkTarget: rawLink });
    } else if (type === '1') {
      const target = safePath(rawLink, 'hard link target');
      throughLink(target, 'hard link target');
      if (links.has(target))
        unsafe(`hard link ${JSON.stringify(name)} targets symlink ${JSON.stringify(target)}`);
      entries.push({ path: name, type: 'hardlink', size: 0, linkTarget: target });
    } else {
      unsafe(`entry ${JSON.stringify(name)} is a device, fifo or unknown type '${type}'`);
    }
  }
  return entries;
}
