import * as fs from 'node:fs';
import * as path from 'node:path';
import { schemaJson, SCHEMA_PATH } from '../../lib/config/json-schema';
import { ConfigFileSchema, EnvironmentSchema } from '../../lib/config/schema';

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

  // The loader takes a non-ASCII domain in its punycode form; the schema cannot convert, so it
  // takes any value with a non-ASCII character there, and checks the ASCII ones as before.
  test('a non-ASCII domain, which the loader takes, is no error in an editor', () => {
    const env = schema.properties.environments.additionalProperties.properties;
    const route53 = env.dns.oneOf.find((o: { properties: object }) => 'zoneName' in o.properties);
    const cases: [{ pattern: string }, string, string][] = [
      [env.domain, 'bücher.example', 'exa mple.com'],
      [route53.properties.zoneName, 'bücher.example', 'exa mple.com'],
      [env.fromAddress, 'no-reply@bücher.example', 'no-reply@exa mple.com'],
      [env.verifiedEmailAddresses.items, 'qa@bücher.example', 'qa at example.com'],
    ];
    for (const [field, accepted, refused] of cases) {
      // As ajv and editors read a pattern: unanchored ECMAScript, Unicode mode.
      const re = new RegExp(field.pattern, 'u');
      expect([accepted, re.test(accepted)]).toEqual([accepted, true]);
      expect([refused, re.test(refused)]).toEqual([refused, false]);
    }
  });

  // An editor flags what synth would refuse: 50 tags, no environment, a list entry given twice.
  test('the limits of counts and repeats are in it too, where the validator refuses past them', () => {
    const minimal = JSON.parse(
      fs.readFileSync(path.join(__dirname, '../fixtures/config/single.json'), 'utf8'),
    ).environments.qa;
    const env = schema.properties.environments.additionalProperties.properties;
    const refuses = (file: object) => !ConfigFileSchema.safeParse(file).success;
    const tags = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
    expect([env.tags.maxProperties, refuses({ environments: { qa: { ...minimal, tags } } })]).toEqual([
      49,
      true,
    ]);
    expect([schema.properties.environments.minProperties, refuses({ environments: {} })]).toEqual([1, true]);
    const twice = ['qa@example.com', 'qa@example.com'];
    expect([
      env.verifiedEmailAddresses.uniqueItems,
      refuses({ environments: { qa: { ...minimal, verifiedEmailAddresses: twice } } }),
    ]).toEqual([true, true]);
    expect(schema.properties.additionalSmtpRegions.uniqueItems).toBe(true);
    expect(env.dmarc.properties.aggregateReportUris.uniqueItems).toBe(true);
  });

  // An editor shows a group's default from the schema. zod leaves it out of the JSON Schema when
  // the group holds a transform (the credentials group lost it so once): every group the
  // validator fills in when it is missing states that default.
  test('every group with a default states it, as the validator fills it in', () => {
    const env = schema.properties.environments.additionalProperties;
    // An environment with only the required fields.
    const minimal = JSON.parse(
      fs.readFileSync(path.join(__dirname, '../fixtures/config/single.json'), 'utf8'),
    ).environments.qa;
    const parsed = EnvironmentSchema.parse(minimal) as Record<string, unknown>;
    const groups = Object.keys(env.properties).filter(
      (key) => !(key in minimal) && typeof parsed[key] === 'object' && !Array.isArray(parsed[key]),
    );
    expect(groups).toEqual(expect.arrayContaining(['credentials', 'dmarc', 'health', 'alarms']));
    for (const key of groups)
      expect({ key, default: env.properties[key].default }).toEqual({ key, default: parsed[key] });
  });
});
