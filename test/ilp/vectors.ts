// Loads conformance vectors from ../shared/vectors/ilp beside the repository.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ILP_VECTORS = resolve(repoRoot, '../shared/vectors/ilp');

export function loadVector<T = unknown>(relativePath: string): T {
  return JSON.parse(readFileSync(resolve(ILP_VECTORS, relativePath), 'utf8')) as T;
}

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
export const b64 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'base64'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
