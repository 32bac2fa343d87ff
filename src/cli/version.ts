/** The version in package.json, the one `crdns --version` prints and crdns_build_info reports. */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function crdnsVersion(): string {
  // dist/src/cli/version.js → the package root, three levels up.
  cached ??= (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}
