import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CfnLintRun, lintTemplates } from '../../scripts/lint-cfn';

/*
 * `npm run lint:cfn` against a cloud assembly of one stack in eu-west-1 and a cfn-lint stand-in
 * that answers as cfn-lint 1.51 does: JSON findings on stdout (`[]` for none), an exit code with a
 * bit per level of finding (2 error, 4 warning, 8 informational), 1 for an argument it does not
 * know (or a crash), 32 for a Region it does not know.
 */

const EXCEPTION = {
  rule: 'E3002',
  resourceType: 'AWS::CloudWatch::Dashboard',
  message: "'Tags' was unexpected",
  reason: 'the schema lags',
};

function assembly(templates: Record<string, string | undefined> = { 'Mail.template.json': 'eu-west-1' }) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'lint-cfn-'));
  const artifacts: Record<string, unknown> = {};
  for (const [file, region] of Object.entries(templates)) {
    fs.writeFileSync(
      path.join(out, file),
      JSON.stringify({
        Resources: { Board: { Type: 'AWS::CloudWatch::Dashboard' }, Key: { Type: 'AWS::KMS::Key' } },
      }),
    );
    artifacts[file] = {
      type: 'aws:cloudformation:stack',
      environment: region ? `aws://123456789012/${region}` : 'aws://unknown-account/unknown-region',
      properties: { templateFile: file },
    };
  }
  fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify({ artifacts }));
  const exceptionsFile = path.join(out, 'exceptions.json');
  fs.writeFileSync(exceptionsFile, JSON.stringify({ exceptions: [EXCEPTION] }));
  return { out, exceptionsFile, template: path.join(out, Object.keys(templates)[0]) };
}

const finding = (level: string, rule: string, resource: string | null, message: string) => ({
  Filename: 'x.json',
  Level: level,
  Message: message,
  Rule: { Id: rule },
  Location: {
    Start: { LineNumber: 7 },
    Path: resource === null ? null : ['Resources', resource, 'Properties'],
  },
});

/** Lints with `answer` as cfn-lint's reply to each run; the exit code, the lines and the arguments. */
function lint(answer: (args: string[]) => CfnLintRun, templates?: Record<string, string | undefined>) {
  const { out, exceptionsFile, template } = assembly(templates);
  const lines: string[] = [];
  const runs: string[][] = [];
  const code = lintTemplates({
    out,
    exceptionsFile,
    cfnLint: (args) => {
      runs.push(args);
      return answer(args);
    },
    log: (line) => lines.push(line),
  });
  return { code, lines, runs, template };
}

const reply = (status: number, findings: unknown[] | string, stderr = ''): CfnLintRun => ({
  status,
  stdout: typeof findings === 'string' ? findings : JSON.stringify(findings),
  stderr,
});

test("an error fails; a warning is printed; the stack's Region is passed", () => {
  const { code, lines, runs, template } = lint(() =>
    reply(6, [finding('Error', 'E3012', 'Key', 'bad type'), finding('Warning', 'W3005', 'Key', 'already')]),
  );
  expect(code).toBe(1);
  expect(runs).toEqual([['--format', 'json', '--regions', 'eu-west-1', '--', template]]);
  expect(lines).toContain('ERROR E3012 x.json:7 Resources/Key/Properties: bad type');
  expect(lines).toContain('WARNING W3005 x.json:7 Resources/Key/Properties: already');
  expect(lines).toContain(
    `${template} (eu-west-1): 1 error(s), 1 other finding(s), 0 accepted (${path.dirname(template)}/exceptions.json)`,
  );
});

test('an accepted finding (rule, resource type and message) does not count; warnings alone pass', () => {
  const { code, lines } = lint(() =>
    reply(6, [
      finding('Error', 'E3002', 'Board', "Additional properties are not allowed ('Tags' was unexpected)"),
      finding('Warning', 'W3005', 'Key', 'already'),
    ]),
  );
  expect(code).toBe(0);
  expect(lines.at(-1)).toMatch(/: 0 error\(s\), 1 other finding\(s\), 1 accepted /);
  // The same rule on another resource type is not accepted, nor another message of that rule and
  // type, nor that message under another rule.
  expect(lint(() => reply(2, [finding('Error', 'E3002', 'Key', "'Tags' was unexpected")])).code).toBe(1);
  expect(lint(() => reply(2, [finding('Error', 'E3002', 'Board', "'Widgets' was unexpected")])).code).toBe(1);
  expect(lint(() => reply(2, [finding('Error', 'E3003', 'Board', "'Tags' was unexpected")])).code).toBe(1);
});

test('informational findings alone (exit 8) pass, printed', () => {
  const { code, lines } = lint(() => reply(8, [finding('Informational', 'I3042', 'Key', 'hardcoded')]));
  expect(lines).toContain('INFORMATIONAL I3042 x.json:7 Resources/Key/Properties: hardcoded');
  expect(code).toBe(0);
});

test('an error in any template fails the lint, not only in the last', () => {
  const { code, lines } = lint(
    (args) =>
      args.includes('eu-west-1') ? reply(2, [finding('Error', 'E3012', 'Key', 'bad type')]) : reply(0, []),
    { 'Mail.template.json': 'eu-west-1', 'Other.template.json': 'us-west-2' },
  );
  expect(lines.filter((l) => / error\(s\), /.test(l))).toEqual([
    expect.stringMatching(/Mail\.template\.json \(eu-west-1\): 1 error\(s\)/),
    expect.stringMatching(/Other\.template\.json \(us-west-2\): 0 error\(s\)/),
  ]);
  expect(code).toBe(1);
});

test('an exception that matched nothing is named, to be removed', () => {
  const { code, lines } = lint(() => reply(0, []));
  expect(code).toBe(0);
  expect(lines.at(-1)).toMatch(/entry E3002 on AWS::CloudWatch::Dashboard matched nothing: remove it/);
});

test.each([
  [
    'crashes (exit 1, a traceback)',
    reply(1, '', 'Traceback (most recent call last):\nKeyError: x'),
    'exit 1): KeyError: x',
  ],
  [
    'refuses an argument (exit 1)',
    reply(1, '', 'cfn-lint: error: unrecognized arguments: --x'),
    'exit 1): cfn-lint: error: unrecognized arguments: --x',
  ],
  ['is ended by a signal', { status: null, stdout: '', stderr: '' }, 'exit by a signal): no output'],
  ['prints no JSON', reply(2, 'not json'), "exit 2): output not cfn-lint's JSON findings"],
  ['prints JSON that is not a list', reply(0, '{}'), "exit 0): output not cfn-lint's JSON findings"],
  // A .cfnlintrc with an output file: the findings go there, stdout stays empty.
  ['prints nothing, with an error exit', reply(2, ''), 'exit 2): no output'],
  ['prints nothing, with exit 0', reply(0, ''), 'exit 0): no output'],
  [
    'exits with its error bit but lists no error',
    reply(6, [finding('Warning', 'W3005', 'Key', 'already')]),
    "exit 6): output not cfn-lint's JSON findings",
  ],
])('a cfn-lint that %s fails the lint, though it printed no error finding', (_, run, why) => {
  const { code, lines, template } = lint(() => run);
  expect(code).toBe(1);
  expect(lines).toEqual([`cfn-lint failed on ${template} (${why}`]);
});

test('a Region this cfn-lint does not know: linted against us-east-1, with a note', () => {
  const { code, lines, runs, template } = lint(
    (args) =>
      args.includes('eu-central-9')
        ? reply(32, '', "cfnlint.runner.cli - ERROR - Regions ['eu-central-9'] are unsupported.")
        : reply(2, [finding('Error', 'E3012', 'Key', 'bad type')]),
    { 'Mail.template.json': 'eu-central-9' },
  );
  expect(runs).toEqual([
    ['--format', 'json', '--regions', 'eu-central-9', '--', template],
    ['--format', 'json', '--regions', 'us-east-1', '--', template],
  ]);
  expect(lines[0]).toBe(
    `note: this cfn-lint does not know eu-central-9: ${template} linted against us-east-1 (update cfn-lint)`,
  );
  expect(lines).toContain(
    `${template} (us-east-1): 1 error(s), 0 other finding(s), 0 accepted (${path.dirname(template)}/exceptions.json)`,
  );
  expect(code).toBe(1);
});

test('us-east-1 refused too: no second try, the lint fails', () => {
  const { code, runs, lines, template } = lint(
    () => reply(32, '', "cfnlint.runner.cli - ERROR - Regions ['us-east-1'] are unsupported."),
    { 'Mail.template.json': 'us-east-1' },
  );
  expect(runs).toHaveLength(1);
  expect(lines).toEqual([
    `cfn-lint failed on ${template} (exit 32): cfnlint.runner.cli - ERROR - Regions ['us-east-1'] are unsupported.`,
  ]);
  expect(code).toBe(1);
});

test('a finding about the whole file (no path) is printed, not a crash; a stack without a Region is linted for us-east-1', () => {
  const { code, lines, runs, template } = lint(
    () => reply(2, [finding('Error', 'E0000', null, 'Null value')]),
    { 'Mail.template.json': undefined },
  );
  // Explicit: without --regions, cfn-lint would take AWS_REGION from the shell.
  expect(runs[0]).toEqual(['--format', 'json', '--regions', 'us-east-1', '--', template]);
  expect(lines).toContain('ERROR E0000 x.json:7 : Null value');
  expect(code).toBe(1);
});

test('a template that is not JSON: one line, before cfn-lint runs', () => {
  const { out, exceptionsFile, template } = assembly();
  fs.writeFileSync(template, '{"Resources": ');
  const lines: string[] = [];
  const cfnLint = jest.fn(() => reply(0, []));
  expect(lintTemplates({ out, exceptionsFile, cfnLint, log: (l) => lines.push(l) })).toBe(1);
  expect(cfnLint).not.toHaveBeenCalled();
  expect(lines).toEqual([
    expect.stringMatching(/^.+Mail\.template\.json is not a JSON template \(.+\): run npx cdk synth again$/),
  ]);
});

test('cfn-lint not installed, or no template: one line, exit 1', () => {
  const missing = lint(() => ({
    status: null,
    stdout: '',
    stderr: '',
    error: new Error('spawnSync cfn-lint ENOENT'),
  }));
  expect(missing).toMatchObject({
    code: 1,
    lines: ["cfn-lint is not installed: pip install 'cfn-lint==1.51.*' (spawnSync cfn-lint ENOENT)"],
  });
  const lines: string[] = [];
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'lint-cfn-'));
  expect(lintTemplates({ out, cfnLint: () => reply(0, []), log: (l) => lines.push(l) })).toBe(1);
  expect(lines).toEqual([`${out} holds no template: run npx cdk synth first`]);
});
