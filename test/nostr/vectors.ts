// Reads the conformance vectors copied into test/fixtures/vectors (sources and licences in its README.md).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const vectorsDir = resolve(repoRoot, 'test/fixtures/vectors');

export function readVector(rel: string): string {
  return readFileSync(resolve(vectorsDir, rel), 'utf8');
}

export function readJsonVector<T>(rel: string): T {
  return JSON.parse(readVector(rel)) as T;
}
