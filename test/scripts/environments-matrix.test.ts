import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectConfigPath } from '../../lib/config/load';
import { environmentsMatrix, main } from '../../scripts/environments-matrix';

const REPO = path.resolve(__dirname, '../..');
/** The script as the workflows run it (under tsx), with `args`. */
const matrix = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'scripts/environments-matrix.ts', ...args], {
    cwd: REPO,
    encoding: 'utf8',
  });
const environmentsOf = (file: string) => Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')).environments);

// The user's own file: whatever it holds, the matrix is its environments in file order. It is the
// file cdk.json names, if the team named its own there (README, Configuration).
test("the matrix of the project's environments file (the default) is its environments, in file order", () => {
  const written = { out: '', err: '' };
  expect(main([], { out: (t) => (written.out += t), err: (t) => (written.err += t) })).toBe(0);
  expect(written.err).toBe('');
  expect(JSON.parse(written.out).include.map((e: { name: string }) => e.name)).toEqual(
    environmentsOf(projectConfigPath(REPO)),
  );
});

test('each entry carries what the jobs need, with the GitHub environment defaults applied', () => {
  const { include } = environmentsMatrix(path.join(REPO, 'test/fixtures/config/github.json'));
  expect(include).toEqual([
    {
      name: 'staging',
      stack: 'SesSmtp-staging',
      account: '111111111111',
      region: 'eu-west-1',
      deployEnvironment: 'staging',
      previewEnvironment: 'staging-preview',
    },
    {
      name: 'staging-us',
      stack: 'SesSmtp-staging-us',
      account: '111111111111',
      region: 'us-east-1',
      deployEnvironment: 'staging',
      previewEnvironment: 'staging-preview',
    },
    {
      name: 'production',
      stack: 'SesSmtp-production',
      account: '222222222222',
      region: 'eu-central-1',
      deployEnvironment: 'Production',
      previewEnvironment: 'production-diff',
    },
  ]);
});

test('a config mistake prints one line and exits 2, with no matrix', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ses-smtp-matrix-')), 'bad.json');
  const { qa } = JSON.parse(
    fs.readFileSync(path.join(REPO, 'test/fixtures/config/single.json'), 'utf8'),
  ).environments;
  fs.writeFileSync(file, JSON.stringify({ environments: { prod: { ...qa, account: 'x' } } }));
  // A process, as the workflow's step runs it: bash -e fails the step on the exit code.
  const result = matrix(file);
  expect(result).toMatchObject({
    status: 2,
    stdout: '',
    stderr: `${file}: environment "prod", field "account": got "x", expected a 12-digit AWS account id\n`,
  });
});

test('a file that is not there: the fix names how this script takes a path (an argument, not -c)', () => {
  const written = { out: '', err: '' };
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ses-smtp-matrix-')), 'none.json');
  expect(main([file], { out: (t) => (written.out += t), err: (t) => (written.err += t) })).toBe(2);
  expect(written).toEqual({
    out: '',
    err: `${file}: cannot read the environments file (no such file); create it (see README "Configuration") or pass the path as this script's argument\n`,
  });
});
