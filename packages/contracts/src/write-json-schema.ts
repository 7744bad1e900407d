import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PUBLISHED_SCHEMAS, toJsonSchema } from './json-schema.js';

/** Writes `json-schema/<Name>.json` for every published contract; run by `pnpm --filter @divoc/contracts json-schema`. */
const outDir = process.argv[2] ?? join(import.meta.dirname, '..', 'json-schema');
mkdirSync(outDir, { recursive: true });
for (const name of Object.keys(PUBLISHED_SCHEMAS) as (keyof typeof PUBLISHED_SCHEMAS)[]) {
  writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(toJsonSchema(name), null, 2)}\n`);
}
process.stdout.write(`wrote ${Object.keys(PUBLISHED_SCHEMAS).length} schemas to ${outDir}\n`);
