// Dev tool behind `npm run schema`: writes the JSON Schema of `summary.json` that ships in the package.
// Not part of the harness, so it may use `process` directly.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { summaryJsonSchema } from '../../harness/report/summary-json-schema.ts';

const file = fileURLToPath(new URL('../../reports/schema/summary.schema.json', import.meta.url));
mkdirSync(path.dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(summaryJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
