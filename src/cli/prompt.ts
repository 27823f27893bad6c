// Interactive prompts on the controlling terminal, and their non-interactive replacements for scripts.
// Secrets are read without echo; nothing read here is ever printed or logged.
import { readFileSync, statSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { CliError, ExitCode, note } from './output.js';

/** Whether a person can answer a prompt: stdin and stderr (where prompts go) are terminals. */
export function canPrompt(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}

function needPrompt(what: string, instead: string, yes: boolean): never {
  throw new CliError(
    `${what} is needed but ${yes ? '--yes forbids prompts' : 'there is no terminal to ask on'}: ${instead}`,
    ExitCode.Usage,
  );
}

// One readline for the whole command: lines typed (or pasted) ahead of a question are queued, not lost
// between two prompts. While `muted`, nothing typed is echoed (passphrases, keys).
let rl: Interface | undefined;
let muted = false;
const queued: string[] = [];
let waiting: { resolve: (line: string) => void; reject: (err: Error) => void } | undefined;

function reader(): Interface {
  if (rl) return rl;
  const r = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const internal = r as unknown as { _writeToOutput: (s: string) => void };
  const write = internal._writeToOutput.bind(r);
  internal._writeToOutput = (s: string) => {
    if (!muted) write(s);
  };
  r.on('line', (line) => {
    const w = waiting;
    waiting = undefined;
    if (w) w.resolve(line);
    else queued.push(line);
  });
  r.on('SIGINT', () => {
    const w = waiting;
    waiting = undefined;
    process.stderr.write('\n');
    w?.reject(new CliError('cancelled: nothing was done', ExitCode.Failure));
  });
  rl = r;
  return r;
}

/** Releases the terminal (the process can exit). Called when a command ends. */
export function closePrompts(): void {
  rl?.close();
  rl = undefined;
  queued.length = 0;
}

/** Reads one line from the terminal. With `hidden`, typed characters are not echoed. */
export async function ask(question: string, options: { hidden?: boolean } = {}): Promise<string> {
  reader();
  process.stderr.write(question);
  muted = options.hidden === true;
  try {
    const next = queued.shift();
    return next !== undefined
      ? next
      : await new Promise<string>((resolve, reject) => (waiting = { resolve, reject }));
  } finally {
    if (muted) process.stderr.write('\n');
    muted = false;
  }
}

/**
 * Asks for confirmation unless `yes`. Without a terminal (a script) and without --yes it fails with exit code 2,
 * so a script never hangs on a prompt nobody can see.
 */
export async function confirm(question: string, options: { yes: boolean }): Promise<void> {
  if (options.yes) return;
  if (!canPrompt()) needPrompt('confirmation', 'pass --yes to confirm non-interactively', false);
  const answer = (await ask(`${question} [y/N] `)).trim().toLowerCase();
  if (answer !== 'y' && answer !== 'yes') throw new CliError('cancelled: nothing was done', ExitCode.Failure);
}

export interface PassphraseOptions {
  /** --passphrase-file */
  passphraseFile?: string | undefined;
  yes: boolean;
  /** Ask twice and require the same answer (when encrypting a new key). */
  confirmNew?: boolean;
  env?: Record<string, string | undefined>;
}

/**
 * The keystore passphrase: from --passphrase-file, else CROSSTOWN_PASSPHRASE_FILE, else a prompt without echo.
 * The file's first line is the passphrase (a trailing newline is not part of it).
 */
export async function readPassphrase(options: PassphraseOptions): Promise<string> {
  const env = options.env ?? process.env;
  const file = options.passphraseFile ?? (env.CROSSTOWN_PASSPHRASE_FILE || undefined);
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new CliError(
        `cannot read the passphrase file ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}): check the path and its permissions`,
        ExitCode.Usage,
      );
    }
    const passphrase = text.split(/\r?\n/)[0] ?? '';
    if (passphrase === '') throw new CliError(`the passphrase file ${file} is empty`, ExitCode.Usage);
    const mode = statSync(file).mode & 0o777;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      note(
        `warning: the passphrase file ${file} is readable by others (mode ${mode.toString(8).padStart(3, '0')}): run \`chmod 600 ${file}\``,
      );
    }
    warnShort(passphrase);
    return passphrase;
  }
  const instead = 'pass --passphrase-file <file> or set CROSSTOWN_PASSPHRASE_FILE';
  if (options.yes) needPrompt('the keystore passphrase', instead, true);
  if (!canPrompt()) needPrompt('the keystore passphrase', instead, false);
  const first = await ask('Keystore passphrase: ', { hidden: true });
  if (first === '') throw new CliError('an empty passphrase is not allowed', ExitCode.Usage);
  if (options.confirmNew) {
    const second = await ask('Repeat the passphrase: ', { hidden: true });
    if (second !== first)
      throw new CliError('the two passphrases differ: nothing was written', ExitCode.Usage);
  }
  warnShort(first);
  return first;
}

/** Below this many characters a passphrase falls to a guessing attack on a stolen keystore file. */
export const MIN_PASSPHRASE_LENGTH = 8;

function warnShort(passphrase: string): void {
  if ([...passphrase].length < MIN_PASSPHRASE_LENGTH) {
    note(
      `warning: the passphrase is shorter than ${MIN_PASSPHRASE_LENGTH} characters: anyone who copies the keystore file can guess it; choose a longer one`,
    );
  }
}

/** A secret typed by the operator (a private key to import), without echo. */
export async function readSecret(
  question: string,
  options: { yes: boolean; instead: string },
): Promise<string> {
  if (options.yes) needPrompt('a secret', options.instead, true);
  if (!canPrompt()) needPrompt('a secret', options.instead, false);
  return ask(question, { hidden: true });
}
