import * as fs from 'node:fs';
import * as path from 'node:path';

/*
 * The README's configuration reference against the JSON Schema the validator generates: every
 * field of an environment has one row, every row names a field that exists, and a default written
 * as a JSON literal is the schema's default. Also: no merge-conflict markers anywhere (a
 * formatter turns them into table rows and quotes, so they survive the format check).
 */

const README = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
const SCHEMA = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'config', 'environments.schema.json'), 'utf8'),
) as { properties: { environments: { additionalProperties: JsonSchema } } };

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  default?: unknown;
}

/** Documented fields: objects are opened down to the level the README documents. */
function fields(schema: JsonSchema, prefix = ''): Map<string, JsonSchema> {
  const out = new Map<string, JsonSchema>();
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const key = prefix + name;
    // Settings groups are opened; a threshold pair ({warning, critical}) is one value.
    const opened = child.type === 'object' && child.properties && !('warning' in child.properties);
    if (opened && prefix === '') for (const [k, v] of fields(child, `${key}.`)) out.set(k, v);
    // A field without a default of its own takes the one its group's default gives it.
    else
      out.set(key, {
        ...child,
        default: child.default ?? (schema.default as Record<string, unknown>)?.[name],
      });
  }
  return out;
}

/** The configuration reference: the first table under "## Configuration", field cell -> default cell. */
function referenceRows(): { keys: string[]; default: string }[] {
  const section = README.slice(README.indexOf('\n## Configuration\n'));
  const lines = section.split('\n');
  const start = lines.findIndex((l) => l.startsWith('| Field '));
  const rows: { keys: string[]; default: string }[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [, field, def] = line.split('|').map((c) => c.trim());
    // "`dmarc.dkimAlignment` / `spfAlignment`": the second name shares the first's group.
    const names = field.split(' / ').map((n) => n.replace(/`/g, ''));
    const group = names[0].includes('.') ? names[0].slice(0, names[0].lastIndexOf('.') + 1) : '';
    rows.push({ keys: names.map((n, i) => (i > 0 && !n.includes('.') ? group + n : n)), default: def });
  }
  return rows;
}

test('the README has no merge-conflict markers', () => {
  const markers = README.split('\n').filter((l) => /^(<{7}|={7}|>{7}|(> ){7}|\| ={7})/.test(l));
  expect(markers).toEqual([]);
});

test('the configuration reference has one row per environment field, and no other', () => {
  const schema = fields(SCHEMA.properties.environments.additionalProperties);
  const documented = referenceRows().flatMap((r) => r.keys);
  expect(documented.filter((k, i) => documented.indexOf(k) !== i)).toEqual([]);
  expect([...documented].sort()).toEqual([...schema.keys()].filter((k) => !k.startsWith('github.')).sort());
});

test("a default written as a JSON literal is the schema's default", () => {
  const schema = fields(SCHEMA.properties.environments.additionalProperties);
  let compared = 0;
  for (const row of referenceRows()) {
    const literals = row.default.split(' / ');
    if (!literals.every((l) => /^`.*`$/.test(l))) continue; // prose ("required", "inherit", ...)
    row.keys.forEach((key, i) => {
      const literal = literals[Math.min(i, literals.length - 1)].slice(1, -1);
      expect({ key, default: JSON.parse(literal) }).toEqual({ key, default: schema.get(key)!.default });
      compared++;
    });
  }
  expect(compared).toBeGreaterThan(25);
});
