// Loads the ILP conformance vectors copied into test/fixtures/vectors/ilp (sources and licences in its README.md).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ILP_VECTORS = resolve(repoRoot, 'test/fixtures/vectors/ilp');

export function loadVector<T = unknown>(relativePath: string): T {
  return JSON.parse(readFileSync(resolve(ILP_VECTORS, relativePath), 'utf8')) as T;
}

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
export const b64 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'base64'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
