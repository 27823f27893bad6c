import { gunzipSync, gzipSync } from 'node:zlib';

/** Default cap on decompressed logs: a 32 KB PREPARE of gzip can expand a lot; 4 MiB is plenty for a log tail. */
export const DEFAULT_MAX_LOG_BYTES = 4 * 1024 * 1024;

export class LogDecodeError extends Error {
  readonly code: 'logs_invalid' | 'logs_too_large';
  constructor(code: 'logs_invalid' | 'logs_too_large', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LogDecodeError';
    this.code = code;
  }
}

/** Logs as they travel in a job result (DESIGN §3): gzip, then base64. */
export function compressLogs(text: string): string {
  return gzipSync(Buffer.from(text, 'utf8')).toString('base64');
}

/**
 * Inverse of compressLogs, safe against a gzip bomb: decompression stops at `maxBytes` of output
 * (zlib's maxOutputLength) instead of filling memory. Throws LogDecodeError.
 */
export function decompressLogs(base64: string, maxBytes = DEFAULT_MAX_LOG_BYTES): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) {
    throw new LogDecodeError('logs_invalid', 'logs are not base64 (expected gzip, then base64)');
  }
  let raw: Buffer;
  try {
    raw = gunzipSync(Buffer.from(base64, 'base64'), { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
      throw new LogDecodeError(
        'logs_too_large',
        `logs decompress to more than ${maxBytes} bytes; refusing them`,
        {
          cause: error,
        },
      );
    }
    throw new LogDecodeError('logs_invalid', `logs are not valid gzip: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return raw.toString('utf8');
}
