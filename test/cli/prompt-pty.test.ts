// Prompts on a real pseudo-terminal: the key and the passphrase are read without echo and never printed,
// and a confirmation prompt accepts y and refuses anything else.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInPty, tempHome } from './helpers.js';

const KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const PASSPHRASE = 'tr0ub4dor&3-never-echoed';

describe('prompts on a terminal', () => {
  it('wallet configure asks for the key and the passphrase twice without echoing them', async () => {
    const home = tempHome();
    const t = runInPty(['wallet', 'configure'], { CROSSTOWN_HOME: home });
    await t.expect('Wallet private key');
    t.send(`${KEY}\r`);
    await t.expect('Keystore passphrase:');
    t.send(`${PASSPHRASE}\r`);
    await t.expect('Repeat the passphrase:');
    t.send(`${PASSPHRASE}\r`);
    await t.expect('stored encrypted');
    expect(await t.exit).toBe(0);
    expect(t.output()).not.toContain(KEY.slice(2, 20));
    expect(t.output()).not.toContain(PASSPHRASE);
    expect(existsSync(join(home, 'keys', 'mayor', 'wallet.json'))).toBe(true);

    // export-key: a confirmation, then the passphrase; "n" cancels with exit 1 and prints nothing.
    const no = runInPty(['wallet', 'export-key'], { CROSSTOWN_HOME: home });
    await no.expect('Print the private key? [y/N]');
    no.send('n\r');
    expect(await no.exit).toBe(1);
    expect(no.output()).not.toContain(KEY.slice(2, 20));

    const yes = runInPty(['wallet', 'export-key'], { CROSSTOWN_HOME: home });
    await yes.expect('[y/N]');
    yes.send('y\r');
    await yes.expect('Keystore passphrase:');
    yes.send(`${PASSPHRASE}\r`);
    expect(await yes.exit).toBe(0);
    expect(yes.output()).toContain(KEY);
    expect(yes.output()).toContain('WARNING');
    expect(yes.output()).not.toContain(PASSPHRASE);
  });

  it('different passphrases are refused (exit 2) and nothing is written', async () => {
    const home = tempHome();
    const t = runInPty(['wallet', 'configure', '--generate'], { CROSSTOWN_HOME: home });
    await t.expect('Keystore passphrase:');
    t.send('one passphrase\r');
    await t.expect('Repeat the passphrase:');
    t.send('another one\r');
    expect(await t.exit).toBe(2);
    expect(t.output()).toContain('differ');
    expect(existsSync(join(home, 'keys', 'mayor', 'wallet.json'))).toBe(false);
  });
});
