/**
 * The `yaml` package, loaded the first time something needs it. Most
 * manifests never do (simple-yaml.ts reads them, JSON.parse reads JSON), and
 * loading it takes about 55 ms before a first answer (and 9 MiB while it
 * loads; the settled RSS is the same either way).
 * Its CommonJS build is the one Node.js resolves either way, so this is the
 * same module an `import 'yaml'` elsewhere (tests) gets.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

const require = createRequire(import.meta.url);
let loaded: typeof Yaml | undefined;

export function yamlPackage(): typeof Yaml {
  return (loaded ??= require('yaml') as typeof Yaml);
}
