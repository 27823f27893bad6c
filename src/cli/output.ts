/** Output helpers shared by every command: `--format text|json|csv`, and exit codes scripts can rely on. */
export type OutputFormat = 'text' | 'json' | 'csv';

export const OUTPUT_FORMATS: readonly OutputFormat[] = ['text', 'json', 'csv'] as const;

/** Exit codes: stable, documented in `crosstown --help`. */
export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
  /** A remote party (relay, connector, chain) refused or was unreachable. */
  Unavailable: 3,
  /** The operation would exceed a configured limit (price ceiling, max deposit, low balance). */
  Refused: 4,
} as const;

export function parseFormat(value: string): OutputFormat {
  if ((OUTPUT_FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw new CliError(`unknown --format "${value}": use one of ${OUTPUT_FORMATS.join(', ')}`, ExitCode.Usage);
}

/** An error the CLI prints as one line (no stack) and exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.Failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** One CSV record: a flat object whose values are scalars (the keys of the first row are the header). */
export type Row = object;

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** JSON with bigints as decimal strings (amounts are bigint base units). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

export function toCsv(rows: Row[]): string {
  if (rows.length === 0) return '';
  const records = rows as Record<string, unknown>[];
  const headers = Object.keys(records[0]!);
  const lines = [headers.join(',')];
  for (const row of records) lines.push(headers.map((h) => csvCell(row[h])).join(','));
  return `${lines.join('\n')}\n`;
}

/**
 * Prints a command's result in the chosen format: `json` prints `value` as given, `csv` prints `rows`
 * (one line per record), `text` uses the command's own renderer.
 */
export function printResult(
  format: OutputFormat,
  result: { value: unknown; rows: Row[]; text: () => string },
): void {
  if (format === 'json') process.stdout.write(`${toJson(result.value)}\n`);
  else if (format === 'csv') process.stdout.write(toCsv(result.rows));
  else process.stdout.write(`${result.text()}\n`);
}

/** What each exit code means, for `--help` and docs/cli.md. */
export const EXIT_CODES_HELP =
  'Exit codes: 0 ok, 1 failure, 2 usage error (bad flag or value, a prompt needed under --yes or without a terminal), ' +
  '3 a relay/connector/chain was unavailable or refused, 4 refused by a configured limit (max deposit, price ceiling, balance).';

/** Writes one line to stderr (warnings, notes): stdout stays clean for data. */
export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}
