import * as fs from 'node:fs';
import * as path from 'node:path';
import type { z } from 'zod';
import type { ConfigFileSchema, EnvironmentSchema } from '../../lib/config/schema';
import type { GitHubConfig, ParsedConfigFile, ParsedEnvironment } from '../../lib/config/types';
import type { SesSmtpSettings } from '../../lib/config/settings';
import { FREQUENT_CHECKS } from '../../lambda/shared/checks';

/*
 * SesSmtp's props as a library user's editor shows them: every field of lib/config/settings.ts
 * has a documentation comment right above it, and every optional one says its default. (That the
 * interfaces match the zod schema is the type-check's job: SettingsMatchTheSchema.) The file is
 * formatted (oxfmt), so a field is one `readonly name?: type;` line.
 */

const LINES = fs
  .readFileSync(path.join(__dirname, '..', '..', 'lib', 'config', 'settings.ts'), 'utf8')
  .split('\n');

function fields(): { name: string; optional: boolean; doc: string }[] {
  const out: { name: string; optional: boolean; doc: string }[] = [];
  let owner = '';
  LINES.forEach((line, i) => {
    const start = /^export interface (\w+)/.exec(line);
    if (start) owner = start[1];
    const field = /^ {2}readonly (\w+)(\?)?:/.exec(line);
    if (!field) return;
    // The comment block that ends on the line above, if any.
    let first = i;
    if (LINES[i - 1]?.trim().endsWith('*/')) {
      first = i - 1;
      while (first > 0 && !LINES[first].trim().startsWith('/**')) first--;
    }
    out.push({
      name: `${owner}.${field[1]}`,
      optional: field[2] === '?',
      doc: LINES.slice(first, i).join('\n'),
    });
  });
  return out;
}

test("every field of SesSmtp's settings is documented, and every optional one names its default", () => {
  const all = fields();
  expect(all.length).toBeGreaterThan(40);
  const undocumented = all.filter((f) => !f.doc);
  expect(undocumented.map((f) => f.name)).toEqual([]);
  expect(all.filter((f) => f.optional && !f.doc.includes('@default')).map((f) => f.name)).toEqual([]);
});

/** A check's id as prose names it: "smtp-login" is "SMTP login" ("smtp login", any case). */
const inWords = (id: string) => new RegExp(`\\b${id.replace(/-/g, ' ')}\\b`, 'i');

// The hourly run is more than the quota (FREQUENT_CHECKS): a library user reading quotaSchedule's
// documentation, or health's default, must not think an identity or a key deleted at night waits a day.
test("quotaSchedule's documentation and health's default name every check of the hourly run", () => {
  const doc = (name: string) =>
    fields()
      .find((f) => f.name === name)!
      .doc.replace(/\s*\n\s*\*\s*/g, ' ');
  for (const text of [doc('HealthSettings.quotaSchedule'), doc('SesSmtpSettings.health')])
    for (const check of FREQUENT_CHECKS)
      expect({ check: check.id, text }).toEqual({
        check: check.id,
        text: expect.stringMatching(inWords(check.id)),
      });
});

// The type-check's half (npm run typecheck covers test/; the package's declarations never hold it).
type SchemaSettings = Omit<
  z.input<typeof EnvironmentSchema>,
  'account' | 'region' | 'terminationProtection' | 'github' | 'acknowledgedWarnings'
>;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Every field path of an object type ("dmarc.policy"), through unions; a list or a scalar has none. */
type Paths<T> = T extends readonly unknown[]
  ? never
  : T extends object
    ? { [K in keyof T & string]-?: K | `${K}.${Paths<NonNullable<T[K]>>}` }[keyof T & string]
    : never;
type Assert<T extends true> = T;
/**
 * Fails the type-check when SesSmtpSettings and the schema's input type differ: in a field's type,
 * or in the fields there are (assignability alone lets an optional field be missing on one side).
 */
export type SettingsMatchTheSchema = Assert<
  [Same<SesSmtpSettings, SchemaSettings>, Same<Paths<SesSmtpSettings>, Paths<SchemaSettings>>] extends [
    true,
    true,
  ]
    ? true
    : false
>;

/** Exactly the same type, readonly and optional modifiers included. */
type Identical<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/**
 * Fails the type-check when the plain types of types.ts (the package's declarations use them, not
 * zod's) differ from what the schemas give.
 */
export type ConfigTypesMatchTheSchema = Assert<
  [
    Identical<ParsedEnvironment, z.output<typeof EnvironmentSchema>>,
    Identical<ParsedConfigFile, z.output<typeof ConfigFileSchema>>,
    Identical<GitHubConfig, NonNullable<z.output<typeof ConfigFileSchema>['github']>>,
  ] extends [true, true, true]
    ? true
    : false
>;
