import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The path of a file shipped in the package, by its path from the package root (works from src/ and dist/src/). */
export function packageFilePath(pathFromRoot: string): string {
  for (const up of ['../', '../../']) {
    const path = fileURLToPath(new URL(`${up}${pathFromRoot}`, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error(`package file ${pathFromRoot} not found`);
}

/** Read a file shipped in the package by its path from the package root (works from src/ and dist/src/). */
export function packageFile(pathFromRoot: string): string {
  return readFileSync(packageFilePath(pathFromRoot), 'utf8');
}
