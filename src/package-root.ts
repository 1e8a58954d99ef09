/**
 * Where the package's own files (contracts/, package.json) live, found by
 * walking up from this module: the same answer from src/ under ts-jest and
 * from dist/src/ in the build.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** Absolute path of the directory holding the package's package.json. */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'contracts'))) return (cached = dir);
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package root (package.json + contracts/) not found');
    dir = up;
  }
}
