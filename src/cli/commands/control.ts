// The local control socket of a running Mayor (`crosstown mayor start` / `attach`), so that `mayor status` and
// `job …` in another terminal talk to it. A Unix socket at <home>/run/<name>.sock (0600 in a 0700 directory: only
// this user), one JSON request per connection, one JSON reply: {"ok":true,"result":…} or {"ok":false,"error","code"}.
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { MayorConfig } from '../../mayor/config/index.js';
import { MayorError, type MayorErrorCode } from '../../mayor/runtime/errors.js';
import { toJson } from '../output.js';

export interface ControlRequest {
  op:
    | 'status'
    | 'jobs'
    | 'job'
    | 'post'
    | 'cancel'
    | 'wait'
    | 'subscribe'
    | 'unsubscribe'
    | 'subscriptions'
    | 'offers';
  [field: string]: unknown;
}

export type ControlHandler = (req: ControlRequest) => Promise<unknown>;

export function controlSocketPath(config: Pick<MayorConfig, 'home' | 'name'>): string {
  return join(config.home, 'run', `${config.name}.sock`);
}

/** Sends one request; undefined when no Mayor listens (no socket, or a stale one). Errors come back as MayorError. */
export function controlRequest(
  path: string,
  req: ControlRequest,
  timeoutMs = 30_000,
): Promise<unknown | undefined> {
  return new Promise((resolve, reject) => {
    if (!existsSync(path)) return resolve(undefined);
    const sock = connect(path);
    let buf = '';
    let answered = false;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new MayorError('STOPPED', `the Mayor at ${path} did not answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    sock.on('connect', () => sock.write(`${toJson(req).replace(/\n\s*/g, '')}\n`));
    sock.on('data', (d) => {
      buf += d.toString();
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // ECONNREFUSED/ENOENT: a socket file left by a Mayor that is gone.
      if (!answered && (err.code === 'ECONNREFUSED' || err.code === 'ENOENT')) resolve(undefined);
      else reject(err);
    });
    sock.on('end', () => {
      clearTimeout(timer);
      answered = true;
      try {
        const reply = JSON.parse(buf) as {
          ok: boolean;
          result?: unknown;
          error?: string;
          code?: MayorErrorCode;
        };
        if (reply.ok) resolve(reply.result);
        else
          reject(new MayorError(reply.code ?? 'BAD_OPTIONS', reply.error ?? 'the Mayor refused the request'));
      } catch {
        reject(new MayorError('STOPPED', `the Mayor at ${path} sent a malformed reply`));
      }
    });
  });
}

/** Listens on the control socket; refuses to start when another live Mayor of the same name answers there. */
export async function serveControl(path: string, handle: ControlHandler): Promise<Server> {
  if (existsSync(path)) {
    const alive = await controlRequest(path, { op: 'status' }, 2000).then(
      (r) => r !== undefined,
      () => false,
    );
    if (alive) {
      throw new MayorError(
        'BAD_OPTIONS',
        `a Mayor is already running with the control socket ${path}: stop it first (or use another --name)`,
      );
    }
    rmSync(path, { force: true });
  }
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  const server = createServer((sock) => {
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      buf = '';
      void (async () => {
        let reply: unknown;
        try {
          reply = { ok: true, result: await handle(JSON.parse(line) as ControlRequest) };
        } catch (err) {
          const e = err as { message?: string; code?: unknown };
          reply = {
            ok: false,
            error: e.message ?? String(err),
            ...(typeof e.code === 'string' ? { code: e.code } : {}),
          };
        }
        sock.end(toJson(reply));
      })();
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  return server;
}

export function closeControl(server: Server, path: string): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => {
      rmSync(path, { force: true });
      resolve();
    });
  });
}
