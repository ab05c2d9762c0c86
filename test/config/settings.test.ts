import * as fs from 'node:fs';
import * as path from 'node:path';

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
  // "mode" is the union's discriminant, and the alarm levels are named by their interface.
  const undocumented = all.filter((f) => !f.doc && !/\.(mode|warning|critical)$/.test(f.name));
  expect(undocumented.map((f) => f.name)).toEqual([]);
  expect(all.filter((f) => f.optional && !f.doc.includes('@default')).map((f) => f.name)).toEqual([]);
});
