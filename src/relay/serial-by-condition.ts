// Copies of one PREPARE (same condition: the same event bytes to the same account) are answered one after the
// other. A replay that arrives while the first copy is still being written then sees its outcome instead of racing
// it: a write paid from a prepaid balance is not charged twice. Distinct PREPAREs never wait for each other.
import type { HandlePrepare } from './gate.js';

export function serialByCondition(handle: HandlePrepare): HandlePrepare {
  const last = new Map<string, Promise<unknown>>();
  return (prepare, ctx) => {
    const key = Buffer.from(prepare.executionCondition).toString('hex');
    const before = last.get(key);
    const next = () => handle(prepare, ctx);
    const run = before ? before.then(next, next) : next();
    last.set(key, run);
    const forget = () => {
      if (last.get(key) === run) last.delete(key);
    };
    run.then(forget, forget);
    return run;
  };
}
