import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { TEST_APP_PROPS } from './support/app-props';
import { synthWarnings } from './helpers';

/*
 * A team edits config/environments.json for its own domains and runs `npm test`. The checks of
 * `npm test` that read that file are the format check and the test that synthesizes every
 * environment in it with cdk-nag (test/app.test.ts); no test names an environment. This runs those
 * checks on a copy of the repository whose file holds a different valid config, written on one
 * line as a hurried user might.
 */

const REPO = path.resolve(__dirname, '..');
const FIXTURE = path.join(REPO, 'test/fixtures/config/three-environments.json');
/** Left out of the copy: installed or generated, and the tests (they do not read the user's file). */
const NOT_COPIED = new Set([
  'node_modules',
  '.git',
  'cdk.out',
  '.build',
  'coverage',
  'dist',
  'test',
  '.jest-summary',
]);

const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-smtp-copy-'));
for (const entry of fs.readdirSync(REPO).filter((e) => !NOT_COPIED.has(e)))
  fs.cpSync(path.join(REPO, entry), path.join(copy, entry), { recursive: true });
fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
const fixture = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));
const configPath = path.join(copy, 'config', 'environments.json');
fs.writeFileSync(configPath, JSON.stringify(fixture));

/** The format check as `npm test` runs it (oxfmt, native: a whole-tree check takes tens of ms). */
const formatCheck = () =>
  spawnSync(path.join(REPO, 'node_modules', '.bin', 'oxfmt'), ['--check'], { cwd: copy, encoding: 'utf8' });

test('the format check passes with the user formatting of config/environments.json, or of another file there', () => {
  expect(formatCheck()).toMatchObject({ status: 0 });
  const own = path.join(copy, 'config', 'acme.json');
  fs.copyFileSync(configPath, own);
  try {
    expect(formatCheck()).toMatchObject({ status: 0 });
  } finally {
    fs.rmSync(own);
  }
  // The same JSON outside config/ fails it: the check passes because the file is the user's.
  const other = path.join(copy, 'other.json');
  fs.copyFileSync(configPath, other);
  try {
    expect(formatCheck()).toMatchObject({ status: 1, stdout: expect.stringContaining('other.json') });
  } finally {
    fs.rmSync(other);
  }
});

// A team keeps the example and names its own file once, in cdk.json: the app (its context), the
// CLI's default (test/cli/context.test.ts) and the workflows' matrix read the same file.
test('cdk.json\'s context "config" names the environments file for the workflows\' matrix', async () => {
  const { projectConfigPath } = await import('../lib/config/load');
  const { main } = await import('../scripts/environments-matrix');
  const cdkJson = path.join(copy, 'cdk.json');
  const original = fs.readFileSync(cdkJson, 'utf8');
  const matrix = () => {
    let out = '';
    const status = main([], { out: (t) => (out += t), err: (t) => (out += t) }, copy);
    return { status, out };
  };
  const names = (out: string) =>
    (JSON.parse(out) as { include: { name: string }[] }).include.map((e: { name: string }) => e.name);
  const acme = { environments: { staging: fixture.environments[Object.keys(fixture.environments)[0]] } };
  fs.writeFileSync(path.join(copy, 'config', 'acme.json'), JSON.stringify(acme));
  const withConfig = (config: unknown) => {
    const json = JSON.parse(original);
    fs.writeFileSync(cdkJson, JSON.stringify({ ...json, context: { ...json.context, config } }));
  };
  try {
    // Without "config" (the repository's cdk.json may name the team's own file): the default.
    withConfig(undefined);
    expect(projectConfigPath(copy)).toBe(path.join(copy, 'config/environments.json'));
    expect(names(matrix().out)).toEqual(Object.keys(fixture.environments));

    withConfig('config/acme.json');
    expect(projectConfigPath(copy)).toBe(path.join(copy, 'config/acme.json'));
    expect(names(matrix().out)).toEqual(['staging']);
    // An absolute path, as the app takes it.
    withConfig(path.join(copy, 'config', 'acme.json'));
    expect(projectConfigPath(copy)).toBe(path.join(copy, 'config/acme.json'));
    expect(names(matrix().out)).toEqual(['staging']);

    withConfig(5);
    expect(matrix()).toEqual({
      status: 2,
      out: `${cdkJson}: context "config": got 5, expected the path of the environments file, like "config/environments.json"\n`,
    });
    fs.writeFileSync(cdkJson, '{ "context": ');
    expect(matrix()).toMatchObject({
      status: 2,
      out: expect.stringMatching(/^.*cdk\.json: not JSON \(.*\): fix its syntax\n$/),
    });
  } finally {
    fs.writeFileSync(cdkJson, original);
    fs.rmSync(path.join(copy, 'config', 'acme.json'));
  }
});

test("every environment of another valid config synthesizes with cdk-nag, with the copy's cdk.json and config", async () => {
  // The copy's lib/ is the repository's: the modules jest has already compiled build it.
  const { buildApp, stackName, deployAccessStackName } = await import('../lib/app');
  const { context } = JSON.parse(fs.readFileSync(path.join(copy, 'cdk.json'), 'utf8'));
  const app = new App({
    ...TEST_APP_PROPS,
    context: { ...context, ...TEST_APP_PROPS.context, config: configPath },
    outdir: path.join(copy, 'cdk.out'),
  });
  const stacks = buildApp(app);
  const { assembly, warnings } = synthWarnings(app);
  // The warnings this copy's file is meant to draw, and no other.
  expect(warnings).toEqual([
    'Annotation::ses-smtp:accessRegionFollowsFile',
    'Annotation::ses-smtp:accessRegionFollowsFile',
    'Annotation::ses-smtp:deployersShareAccount',
    'Annotation::ses-smtp:no-alarm-recipients',
    'Annotation::ses-smtp:no-alarm-recipients',
  ]);

  const environments = Object.entries(fixture.environments) as [string, { account: string }][];
  const accounts = [...new Set(environments.map(([, env]) => env.account))];
  expect(stacks.map((s) => s.stackName)).toEqual(environments.map(([name]) => stackName(name)));
  expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(
    [...accounts.map(deployAccessStackName), ...environments.map(([name]) => stackName(name))].sort(),
  );
  expect(environments.some(([, env]) => JSON.stringify(env).includes('"manual"'))).toBe(true);
});
