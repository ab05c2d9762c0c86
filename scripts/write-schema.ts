/**
 * Writes config/environments.schema.json from the zod schema the app validates with.
 * `--check` exits 1 when the committed file is out of date instead of writing it.
 */
import * as fs from 'node:fs';
import { schemaJson, SCHEMA_PATH } from '../lib/config/json-schema';

const text = schemaJson();
if (process.argv.includes('--check')) {
  const current = fs.existsSync(SCHEMA_PATH) ? fs.readFileSync(SCHEMA_PATH, 'utf8') : '';
  if (current !== text) {
    console.error(`${SCHEMA_PATH} is out of date: run npm run schema`);
    process.exit(1);
  }
} else {
  fs.writeFileSync(SCHEMA_PATH, text);
  console.log(`wrote ${SCHEMA_PATH}`);
}
