// The helper process of process-host.ts: runs job commands for the Mayor (runProcessHere) and answers with the pid
// and the outcome. It exits when the Mayor's channel closes, killing the process groups it started first.

import { killGroup, runProcessHere } from './process.js';
import type { HostReply, HostRequest } from './process-host.js';

const aborts = new Map<number, AbortController>();
const pids = new Map<number, number>();
// A Mayor killed before this helper is up has closed the channel already: the send's error goes to its callback
// (an unhandled 'error' event would crash the helper with a stack trace) and 'disconnect' ends the process.
const send = (m: HostReply) => {
  if (process.connected) process.send?.(m, undefined, undefined, () => {});
};

process.on('message', (m: HostRequest) => {
  if ('abort' in m) {
    aborts.get(m.abort)?.abort();
    return;
  }
  const id = m.run;
  const ac = new AbortController();
  aborts.set(id, ac);
  const opts = m.opts.stdin ? { ...m.opts, stdin: Buffer.from(m.opts.stdin) } : m.opts;
  void runProcessHere({
    ...opts,
    signal: ac.signal,
    onSpawn: (pid) => {
      pids.set(id, pid);
      send({ spawned: id, pid });
    },
  }).then((outcome) => {
    aborts.delete(id);
    pids.delete(id);
    send({ done: id, outcome });
  });
});

process.on('disconnect', () => {
  for (const pid of pids.values()) killGroup(pid);
  process.exit(0);
});

send({ ready: true });
