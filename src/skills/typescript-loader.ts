// Skills written in TypeScript (what `crosstown skill new` scaffolds) load through tsx. Under the sources the CLI
// already runs with tsx; the compiled CLI (dist/) registers tsx's loader the first time a .ts skill is imported,
// so only users of TypeScript skills pay for it (docs/cli.md "Start-up").
let registered: Promise<void> | undefined;

export function ensureTypeScriptLoader(file: string): Promise<void> {
  if (!/\.[mc]?tsx?$/.test(file) || import.meta.url.endsWith('.ts')) return Promise.resolve();
  registered ??= import('tsx/esm/api').then(({ register }) => {
    register();
  });
  return registered;
}
