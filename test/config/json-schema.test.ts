import * as fs from 'node:fs';
import { schemaJson, SCHEMA_PATH } from '../../lib/config/json-schema';

describe('environments JSON Schema', () => {
  const schema = JSON.parse(schemaJson());

  test('the committed schema file is what the validator generates (run npm run schema)', () => {
    expect(fs.readFileSync(SCHEMA_PATH, 'utf8')).toBe(schemaJson());
  });

  test('it refuses unknown fields and requires the core ones, like the validator', () => {
    const env = schema.properties.environments.additionalProperties;
    expect(env.additionalProperties).toBe(false);
    expect(env.required).toEqual(['account', 'region', 'domain', 'dns', 'fromAddress']);
    expect(env.properties.dmarc.properties.policy.enum).toEqual(['none', 'quarantine', 'reject']);
  });
});
