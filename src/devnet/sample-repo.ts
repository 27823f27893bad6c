// The bundled sample repository (examples/sample-repo) packed as the inline build context of a ci-cd-linux job:
// a tar.gz, base64, in the job's `i` tag. Packed in JS (a minimal ustar writer) rather than with the `tar`
// binary, so the bytes are the same on every machine (sorted entries, fixed owner and time) and the demo's
// job size is reproducible.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** Absolute path of examples/sample-repo in this checkout. */
export const SAMPLE_REPO_DIR = fileURLToPath(new URL('../../examples/sample-repo', import.meta.url));

/** Directories never packed: dependencies and VCS data are not part of a build context. */
const SKIPPED = new Set(['node_modules', '.git']);
/** A fixed mtime (2026-01-01) so the archive does not change with checkout times. */
const MTIME = 1_767_225_600;

export interface PackedRepo {
  /** base64 of the tar.gz. */
  base64: string;
  /** Size of the tar.gz. */
  bytes: number;
  /** Paths packed, in archive order (directories end in `/`). */
  entries: string[];
}

/** Packs `dir` (default the bundled sample repository) as tar.gz + base64. */
export function packRepo(dir: string = SAMPLE_REPO_DIR): PackedRepo {
  const entries: string[] = [];
  const blocks: Buffer[] = [];
  const walk = (abs: string) => {
    for (const name of readdirSync(abs).sort()) {
      if (SKIPPED.has(name)) continue;
      const path = join(abs, name);
      const rel = relative(dir, path).split(sep).join('/');
      const st = statSync(path);
      if (st.isDirectory()) {
        entries.push(`${rel}/`);
        blocks.push(header(`${rel}/`, 0, 0o755, '5'));
        walk(path);
      } else if (st.isFile()) {
        const data = readFileSync(path);
        entries.push(rel);
        blocks.push(header(rel, data.length, st.mode & 0o111 ? 0o755 : 0o644, '0'), pad(data));
      }
      // Anything else (symlinks, sockets) is left out: the provider refuses links that could point outside.
    }
  };
  walk(dir);
  if (entries.length === 0) throw new Error(`${dir} is empty or missing: nothing to send as a build context`);
  blocks.push(Buffer.alloc(1024)); // end of archive: two zero blocks
  const gz = gzipSync(Buffer.concat(blocks), { level: 9 });
  return { base64: gz.toString('base64'), bytes: gz.length, entries };
}

/** One 512-byte ustar header. */
function header(name: string, size: number, mode: number, type: '0' | '5'): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`path too long for the sample archive: ${name}`);
  const h = Buffer.alloc(512);
  const octal = (value: number, offset: number, width: number) =>
    h.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, 'ascii');
  h.write(name, 0, 'utf8');
  octal(mode, 100, 8);
  octal(0, 108, 8); // uid
  octal(0, 116, 8); // gid
  octal(size, 124, 12);
  octal(MTIME, 136, 12);
  h.fill(' ', 148, 156); // checksum is computed with its own field as spaces
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

function pad(data: Buffer): Buffer {
  const rest = data.length % 512;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(512 - rest)]);
}
