// Structured logs: one JSON object per line (level, time, msg, then fields) to stderr by default.
// Secrets never reach a log on purpose; as a safety net, a field whose name looks like a secret is redacted.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'] as const;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_FIELD = /(secret|private|password|passphrase|token|key$|mnemonic)/i;

export type LogFields = Record<string, unknown>;

export interface Logger {
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. `{ part: 'connector' }`). */
  child(fields: LogFields): Logger;
}

export function parseLogLevel(value: string): LogLevel {
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new TypeError(`unknown log level "${value}": use one of ${LOG_LEVELS.join(', ')}`);
}

function serializable(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (value instanceof Uint8Array) return `[${value.length} bytes]`;
  return value;
}

export function createLogger(
  options: { level?: LogLevel; write?: (line: string) => void; fields?: LogFields } = {},
): Logger {
  const level = options.level ?? 'info';
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const base = options.fields ?? {};
  const emit = (at: LogLevel, msg: string, fields: LogFields = {}) => {
    if (RANK[at] < RANK[level]) return;
    const record: LogFields = { level: at, time: new Date().toISOString(), msg };
    for (const [k, v] of Object.entries({ ...base, ...fields })) {
      record[k] = SECRET_FIELD.test(k) && !k.endsWith('pubkey') ? '[redacted]' : v;
    }
    write(`${JSON.stringify(record, (_k, v) => serializable(v))}\n`);
  };
  return {
    level,
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ level, write, fields: { ...base, ...fields } }),
  };
}

/** Drops every line (library use without logs). */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => {} });
