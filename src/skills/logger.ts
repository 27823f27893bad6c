import type { SkillLogger } from './types.js';

/** Discards everything. */
export const silentLogger: SkillLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields?: Record<string, unknown>;
}

/** Keeps every line in `records`: for tests and for the dashboard's recent-log pane. */
export function recordingLogger(): SkillLogger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at =
    (level: LogRecord['level']) =>
    (message: string, fields?: Record<string, unknown>): void => {
      records.push(fields ? { level, message, fields } : { level, message });
    };
  return { records, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Prefixes every line's fields with the skill name, so a log line always says which skill wrote it. */
export function skillLogger(base: SkillLogger, skill: string): SkillLogger {
  const at =
    (level: LogRecord['level']) =>
    (message: string, fields?: Record<string, unknown>): void =>
      base[level](message, { skill, ...fields });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
