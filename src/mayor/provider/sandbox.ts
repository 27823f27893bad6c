// The bubblewrap sandbox (DESIGN §5). A job sees a read-only system (/usr, the /bin and /lib links, a few
// files of /etc), its own worktree as the only writable place (also its HOME), a private /tmp, no network,
// no capabilities, its own pid namespace, and dies with the provider.
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import path from 'node:path';

export interface Sandbox {
  kind: 'bwrap' | 'none';
  /** argv that runs `command` (argv) with `worktree` as its writable working directory. */
  wrap(command: string[], worktree: string): string[];
  /** The environment the wrapped command gets (bwrap clears the provider's own environment). */
  env(worktree: string, extra?: Record<string, string>): Record<string, string>;
}

export const DEFAULT_BWRAP = '/usr/bin/bwrap';

/** /etc entries programs need (users, dynamic linker cache, Debian's alternatives links, TLS roots, time zone). */
const ETC_FILES = [
  '/etc/passwd',
  '/etc/group',
  '/etc/nsswitch.conf',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/alternatives',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/localtime',
  '/etc/hosts',
];

/** Top-level directories that are either real directories (bound read-only) or links into /usr (recreated). */
const SYSTEM_DIRS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

const BASE_PATH = '/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin';

export interface BwrapOptions {
  bwrapPath?: string;
  /** Extra read-only binds (e.g. a toolchain outside /usr). The node binary's directory is added for you. */
  readOnlyPaths?: string[];
}

/** The bwrap argument list; exported so tests can read exactly what a job gets. */
export function bwrapArgs(command: string[], worktree: string, options: BwrapOptions = {}): string[] {
  const args = [
    '--unshare-all', // user, pid, ipc, uts, cgroup and network namespaces: no network at all
    '--unshare-net',
    '--cap-drop',
    'ALL',
    '--die-with-parent',
    '--new-session', // no TIOCSTI into the provider's terminal
    '--ro-bind',
    '/usr',
    '/usr',
  ];
  for (const dir of SYSTEM_DIRS) {
    if (!existsSync(dir)) continue;
    const st = lstatSync(dir);
    if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else args.push('--ro-bind', dir, dir);
  }
  for (const file of ETC_FILES) args.push('--ro-bind-try', file, file);
  // npm test style jobs need node; bind its directory when it lives outside /usr (nvm, /opt).
  const extra = [path.dirname(process.execPath), ...(options.readOnlyPaths ?? [])];
  for (const p of extra) {
    if (p === '/usr' || p.startsWith('/usr/') || SYSTEM_DIRS.includes(p)) continue;
    args.push('--ro-bind', p, p);
  }
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  // The environment is not cleared here: the provider spawns bwrap with a fresh one (Sandbox.env), never its own.
  args.push('--bind', worktree, worktree, '--chdir', worktree);
  args.push('--', ...command);
  return args;
}

function sandboxEnv(worktree: string, extra: Record<string, string> = {}): Record<string, string> {
  const nodeDir = path.dirname(process.execPath);
  return {
    PATH: BASE_PATH.split(':').includes(nodeDir) ? BASE_PATH : `${nodeDir}:${BASE_PATH}`,
    HOME: worktree,
    TMPDIR: '/tmp',
    LANG: 'C.UTF-8',
    CI: 'true',
    // npm writes its cache under HOME; keep it in the worktree, never the provider's own.
    npm_config_cache: path.join(worktree, '.npm'),
    ...extra,
  };
}

export function bwrapSandbox(options: BwrapOptions = {}): Sandbox {
  const bwrap = options.bwrapPath ?? DEFAULT_BWRAP;
  return {
    kind: 'bwrap',
    wrap: (command, worktree) => [bwrap, ...bwrapArgs(command, worktree, options)],
    env: sandboxEnv,
  };
}

/** No isolation: only a worktree, a process group and limits. The provider uses it only when the operator allows. */
export function noSandbox(): Sandbox {
  return { kind: 'none', wrap: (command) => command, env: sandboxEnv };
}

/** True when bwrap exists and can actually create its namespaces here (containers often forbid it). */
export function probeBwrap(bwrapPath = DEFAULT_BWRAP): Promise<boolean> {
  if (!existsSync(bwrapPath)) return Promise.resolve(false);
  const argv = bwrapArgs(['/bin/true'], '/tmp');
  return new Promise((resolve) => {
    execFile(bwrapPath, argv, { timeout: 5000 }, (err) => resolve(!err));
  });
}

/** bwrap when it works here, otherwise `null` (the provider then refuses untrusted jobs unless allowed). */
export async function detectSandbox(options: BwrapOptions = {}): Promise<Sandbox | null> {
  return (await probeBwrap(options.bwrapPath)) ? bwrapSandbox(options) : null;
}
