import { packageFile } from './package-file.js';

/** The package version, read once at startup. */
export const VERSION: string = (() => {
  try {
    return (JSON.parse(packageFile('package.json')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();
