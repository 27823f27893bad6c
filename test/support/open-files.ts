// The files this process holds open (every thread's: they share one descriptor table) under the given paths: how
// the stop tests check that a stopped store, node or Mayor closed what it opened.
import { readdirSync, readlinkSync } from 'node:fs';

export function openFilesUnder(prefixes: readonly string[]): string[] {
  return readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return ''; // closed while we listed
      }
    })
    .filter((target) => prefixes.some((p) => target.startsWith(p)));
}
