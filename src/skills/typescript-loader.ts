// Skills written in TypeScript (what `crosstown skill new` scaffolds) load through tsx. Under the sources the CLI
// already runs with tsx; the compiled CLI (dist/) registers tsx's loader the first time a .ts skill is imported,
// so only users of TypeScript skills pay for it (docs/cli.md "Start-up"). Both of tsx's hooks: a skill outside any
// `"type": "module"` package is CommonJS to Node, and without the CommonJS hook Node parses its TypeScript as JS.
let registered: Promise<void> | undefined;

export function ensureTypeScriptLoader(file: string): Promise<void> {
  if (!/\.[mc]?tsx?$/.test(file) || import.meta.url.endsWith('.ts')) return Promise.resolve();
  registered ??= Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]).then(([esm, cjs]) => {
    esm.register();
    cjs.register();
  });
  return registered;
}
