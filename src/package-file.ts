import { readFileSync } from 'node:fs';

/** Read a file shipped in the package by its path from the package root (works from src/ and dist/src/). */
export function packageFile(pathFromRoot: string): string {
  for (const up of ['../', '../../']) {
    try {
      return readFileSync(new URL(`${up}${pathFromRoot}`, import.meta.url), 'utf8');
    } catch {
      // try the next location
    }
  }
  throw new Error(`package file ${pathFromRoot} not found`);
}
