import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** scripts/test.js: plain CommonJS, so that `npm test` needs no TypeScript loader. */
// oxlint-disable-next-line typescript/no-require-imports
const { CHECKS, runChecks, main } = require('../../scripts/test.js') as {
  CHECKS: string[];
  runChecks(options: {
    root: string;
    checks: string[];
    first?: string;
    write?: (text: string) => void;
    env?: NodeJS.ProcessEnv;
  }): Promise<number>;
  main(
    requested: string[],
    options: { root: string; write?: (text: string) => void; error?: (text: string) => void },
  ): Promise<number>;
};

/** A repository whose package.json holds `scripts`, and what the runner writes for `checks` there. */
async function run(scripts: Record<string, string>, checks: string[], first?: string) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-smtp-runner-'));
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ scripts }));
  let output = '';
  const code = await runChecks({ root, checks, first, write: (text: string) => (output += text) });
  return { code, output, root };
}

test('every check runs; one failure makes the exit code 1 and is named in the summary', async () => {
  const { code, output } = await run({ a: 'echo out-a', b: 'echo err-b >&2; exit 3', c: 'echo out-c' }, [
    'a',
    'b',
    'c',
  ]);
  expect(code).toBe(1);
  expect(output).toMatch(/── b \(echo err-b >&2; exit 3\): FAILED in [\d.]+ s\nerr-b\n/);
  expect(output).toMatch(/2 of 3 checks passed/);
  expect(output).toMatch(/ {2}FAILED {2}b +[\d.]+ s {2}\(exit 3\)/);
  expect(output).toContain('out-c');
});

test('all passing gives 0', async () => {
  expect((await run({ a: 'true', b: 'true' }, ['a', 'b'])).code).toBe(0);
});

test('the checks run at the same time, and the output keeps their order whatever ends first', async () => {
  // "slow" passes only once "fast" has started: run one after the other, it would fail after 10 s.
  const { code, output } = await run(
    {
      slow: 'for i in $(seq 200); do [ -e started ] && echo slow-done && exit 0; sleep 0.05; done; exit 1',
      fast: 'touch started; echo fast-done',
    },
    ['slow', 'fast'],
  );
  expect(code).toBe(0);
  expect(output.indexOf('slow-done')).toBeGreaterThan(-1);
  expect(output.indexOf('slow-done')).toBeLessThan(output.indexOf('fast-done'));
});

test('the scripts run with node_modules/.bin first on the PATH, as npm run does', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-smtp-runner-'));
  const tool = (dir: string, text: string) => {
    fs.mkdirSync(path.join(root, dir), { recursive: true });
    fs.writeFileSync(path.join(root, dir, 'local-tool'), `#!/bin/sh\necho ${text}\n`, { mode: 0o755 });
  };
  tool('node_modules/.bin', 'from-local-bin');
  // A global install of the same tool (another oxlint, tsc or jest): the project's own wins.
  tool('global', 'from-global');
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ scripts: { t: 'local-tool' } }));
  let output = '';
  const env = { ...process.env, PATH: `${path.join(root, 'global')}${path.delimiter}${process.env.PATH}` };
  expect(await runChecks({ root, checks: ['t'], env, write: (text: string) => (output += text) })).toBe(0);
  expect(output).toContain('from-local-bin');
  expect(output).not.toContain('from-global');
});

test('a check missing from package.json is one line and exit code 2, before anything runs', async () => {
  const { code, output, root } = await run({ a: 'touch ran' }, ['a', 'nope']);
  expect(code).toBe(2);
  expect(output).toBe('package.json has no script nope: add it or leave it out of the checks\n');
  expect(fs.existsSync(path.join(root, 'ran'))).toBe(false);
});

test("npm test's checks are this repository's scripts, in the house CI order, and CI's synth follows", () => {
  const repo = path.join(__dirname, '../..');
  const { scripts } = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
  expect(CHECKS).toEqual(['lint:code', 'lint:format', 'typecheck', 'jest']);
  for (const name of CHECKS) expect(scripts[name]).toEqual(expect.any(String));
  expect(scripts.test).toBe('node scripts/test.js');
  // The last step of the house order, `cdk synth` of every environment, is CI's, after npm test.
  const ci = fs.readFileSync(path.join(repo, '.ci/run'), 'utf8');
  expect(ci.indexOf('\nnpx cdk synth --quiet -c validate=true\n')).toBeGreaterThan(
    ci.indexOf('\nnpm test\n'),
  );
  expect(ci.indexOf('\nnpm test\n')).toBeGreaterThan(0);
});

test('npm test runs every check; naming some runs those only', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-smtp-runner-'));
  fs.writeFileSync(
    path.join(root, 'package.json'),
    JSON.stringify({ scripts: Object.fromEntries(CHECKS.map((name) => [name, `echo ran-${name}`])) }),
  );
  const ran = async (requested: string[]) => {
    let output = '';
    expect(await main(requested, { root, write: (text) => (output += text) })).toBe(0);
    return CHECKS.filter((name) => output.includes(`ran-${name}`));
  };
  expect(await ran([])).toEqual(CHECKS);
  expect(await ran(['typecheck', 'lint:code'])).toEqual(['lint:code', 'typecheck']);
});

// A misspelt check must not pass as a run of nothing: one line, exit code 2, no check started.
test('an unknown check: one line naming the checks, exit code 2 from the process', () => {
  const run = spawnSync(process.execPath, [path.join(__dirname, '../../scripts/test.js'), 'jst'], {
    encoding: 'utf8',
  });
  expect(run).toMatchObject({
    status: 2,
    stdout: '',
    stderr: 'unknown check: jst; the checks are: lint:code, lint:format, typecheck, jest\n',
  });
});

// What CI runs (README: `.ci/run`): a clean install, the workflows' test job's checks, then the
// consumer test; a failing command (a check, or one side of a pipe) stops it. Other lines may come
// between these; these must be there, in this order.
test('.ci/run stops at the first failure and runs every check of the house order', () => {
  const ci = fs.readFileSync(path.join(__dirname, '../../.ci/run'), 'utf8');
  const commands = ci.split('\n').filter((line) => line && !line.startsWith('#'));
  expect(commands[0]).toBe('set -euo pipefail');
  const order = [
    'npm ci --no-audit --no-fund',
    'npm test',
    'npx cdk synth --quiet -c validate=true',
    'npm run lint:cfn',
    'npm run test:consumer',
  ];
  const at = order.map((command) => commands.indexOf(command));
  expect(at).not.toContain(-1);
  expect(at).toEqual([...at].sort((a, b) => a - b));
});
