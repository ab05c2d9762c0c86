import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * `npm run lint:code` (oxlint with .oxlintrc.json) on one small file per rule the config turns on
 * beyond oxlint's default category, each with one violation: a rule that drops out of the config,
 * or that oxlint renames, fails here. Also the JavaScript overrides and the clean cases.
 */
const ROOT = path.join(__dirname, '..');

/** File name → its source and the one rule oxlint must report on it (undefined: none). */
const CASES: Record<string, { source: string; rule?: string }> = {
  'no-array-constructor.ts': {
    source: 'export const a = new Array(1, 2);\n',
    rule: 'eslint(no-array-constructor)',
  },
  'no-case-declarations.ts': {
    source:
      'export function f(x: number) {\n  switch (x) {\n    case 1:\n      const y = x;\n      return y;\n  }\n  return 0;\n}\n',
    rule: 'eslint(no-case-declarations)',
  },
  'no-empty.ts': {
    source: 'export function f() {\n  if (Math.random()) {\n  }\n}\n',
    rule: 'eslint(no-empty)',
  },
  'no-fallthrough.ts': {
    source:
      'export function f(x: number) {\n  switch (x) {\n    case 1:\n      console.log(1);\n    case 2:\n      console.log(2);\n  }\n}\n',
    rule: 'eslint(no-fallthrough)',
  },
  'no-prototype-builtins.ts': {
    source: "export const f = (o: object) => o.hasOwnProperty('x');\n",
    rule: 'eslint(no-prototype-builtins)',
  },
  'no-regex-spaces.ts': { source: 'export const r = /a   b/;\n', rule: 'eslint(no-regex-spaces)' },
  'no-unexpected-multiline.ts': {
    source: 'declare const g: (n: number) => number;\nexport const x = g\n(1);\n',
    rule: 'eslint(no-unexpected-multiline)',
  },
  'no-unused-vars.ts': { source: 'const unused = 1;\nexport {};\n', rule: 'eslint(no-unused-vars)' },
  'no-useless-assignment.ts': {
    source: 'export function f() {\n  let x = 1;\n  x = 2;\n  return x;\n}\n',
    rule: 'eslint(no-useless-assignment)',
  },
  'no-var.ts': { source: 'export var v = 1;\n', rule: 'eslint(no-var)' },
  'prefer-const.ts': {
    source: 'export function f() {\n  let x = 1;\n  return x;\n}\n',
    rule: 'eslint(prefer-const)',
  },
  'prefer-rest-params.ts': {
    source: 'export function f() {\n  return Array.from(arguments);\n}\n',
    rule: 'eslint(prefer-rest-params)',
  },
  'prefer-spread.ts': {
    source: 'export const f = (g: (...a: number[]) => number, a: number[]) => g.apply(null, a);\n',
    rule: 'eslint(prefer-spread)',
  },
  'preserve-caught-error.ts': {
    source:
      "export function f() {\n  try {\n    return JSON.parse('x');\n  } catch (e) {\n    throw new Error(`bad: ${String(e)}`);\n  }\n}\n",
    rule: 'eslint(preserve-caught-error)',
  },
  'ban-ts-comment.ts': {
    source: "// @ts-ignore\nexport const x: number = 'a' as unknown as number;\n",
    rule: 'typescript(ban-ts-comment)',
  },
  'no-empty-object-type.ts': {
    source: 'export interface Empty {}\n',
    rule: 'typescript(no-empty-object-type)',
  },
  'no-explicit-any.ts': { source: 'export const f = (x: any) => x;\n', rule: 'typescript(no-explicit-any)' },
  'no-namespace.ts': {
    source: 'export namespace N {\n  export const x = 1;\n}\n',
    rule: 'typescript(no-namespace)',
  },
  'no-require-imports.ts': {
    source: "export const fs = require('node:fs');\n",
    rule: 'typescript(no-require-imports)',
  },
  'no-unnecessary-type-constraint.ts': {
    source: 'export const f = <T extends unknown>(x: T) => x;\n',
    rule: 'typescript(no-unnecessary-type-constraint)',
  },
  'no-unsafe-function-type.ts': {
    source: 'export const f = (g: Function) => g;\n',
    rule: 'typescript(no-unsafe-function-type)',
  },
  // oxlint's default category, "correctness".
  'no-debugger.ts': { source: 'debugger;\nexport {};\n', rule: 'eslint(no-debugger)' },
  // JavaScript: names checked; Node's CommonJS globals (require, __dirname) in .js and .cjs only.
  'no-undef.js': {
    source: "const fs = require('node:fs');\nmodule.exports = () => missing(fs, __dirname);\n",
    rule: 'eslint(no-undef)',
  },
  'no-redeclare.js': {
    source: 'function a() {}\nfunction a() {}\nmodule.exports = a;\n',
    rule: 'eslint(no-redeclare)',
  },
  // A focused test skips the rest of its file: the run would stay green. (The source is built so
  // that this file, a fixture for the linter, holds no focused test of its own.)
  'focused.test.ts': { source: `test.${'only'}('x', () => {});\n`, rule: 'jest(no-focused-tests)' },
  'require.cjs': { source: "const fs = require('node:fs');\nmodule.exports = { fs, dir: __dirname };\n" },
  'dirname.mjs': { source: 'export const here = __dirname;\n', rule: 'eslint(no-undef)' },
  'globals.mjs': { source: 'export const f = () => console.log(process.argv);\n' },
  // An unused last argument named _x and rest siblings are allowed.
  'unused-allowed.ts': {
    source: 'export const f = ({ b, ...rest }: { b: number; c: number }, _unused: number) => rest;\n',
  },
  'unused-directive.ts': {
    source: '// oxlint-disable-next-line no-var\nexport const x = 1;\n',
    // oxlint names no rule for it: the message.
    rule: 'Unused oxlint-disable directive (no problems were reported).',
  },
};

interface Diagnostic {
  readonly severity: string;
  readonly code?: string;
  readonly message: string;
  readonly filename: string;
}

/** Runs `npm run lint:code`'s command, with the repository's config, on the cases in a new folder. */
function lint(): { status: number | null; byFile: Record<string, string[]> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-smtp-lint-'));
  for (const [name, { source }] of Object.entries(CASES)) fs.writeFileSync(path.join(dir, name), source);
  const { scripts } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const [command, ...args] = (scripts['lint:code'] as string).split(' ');
  const result = spawnSync(
    path.join(ROOT, 'node_modules', '.bin', command),
    [...args, '-c', path.join(ROOT, '.oxlintrc.json'), '--format', 'json', dir],
    { encoding: 'utf8' },
  );
  fs.rmSync(dir, { recursive: true, force: true });
  const byFile: Record<string, string[]> = {};
  for (const d of (JSON.parse(result.stdout) as { diagnostics: Diagnostic[] }).diagnostics)
    (byFile[path.basename(d.filename)] ??= []).push(`${d.severity} ${d.code ?? d.message}`);
  return { status: result.status, byFile };
}

test('every rule the config names, outside its default category, has a case', () => {
  // .oxlintrc.json is JSON with comments on their own lines.
  const text = fs.readFileSync(path.join(ROOT, '.oxlintrc.json'), 'utf8').replace(/^\s*\/\/.*$/gm, '');
  const config = JSON.parse(text) as {
    rules: Record<string, unknown>;
    overrides: { rules?: Record<string, unknown> }[];
  };
  const named = [config.rules, ...config.overrides.map((o) => o.rules)]
    .flatMap((rules) => Object.entries(rules ?? {}))
    .filter(([, level]) => (Array.isArray(level) ? level[0] : level) !== 'off')
    .map(([name]) => (name.includes('/') ? name.replace(/^(.*)\/(.*)$/, '$1($2)') : `eslint(${name})`));
  const covered = new Set(Object.values(CASES).map((c) => c.rule));
  expect(named.filter((rule) => !covered.has(rule))).toEqual([]);
  expect(named.length).toBeGreaterThan(20);
});

test('each case reports its one rule as an error (a warning would not fail npm test), and nothing else', () => {
  const { status, byFile } = lint();
  const expected = Object.fromEntries(
    Object.entries(CASES).map(([name, { rule }]) => [name, rule ? [`error ${rule}`] : []]),
  );
  const actual = Object.fromEntries(Object.keys(CASES).map((name) => [name, byFile[name] ?? []]));
  expect(actual).toEqual(expected);
  expect(status).toBe(1);
});
