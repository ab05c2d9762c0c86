import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
} from '@aws-sdk/client-cloudtrail';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { GetAccessKeyLastUsedCommand } from '@aws-sdk/client-iam';
import {
  GetAccountCommand,
  GetConfigurationSetCommand,
  GetConfigurationSetEventDestinationsCommand,
  PutConfigurationSetSendingOptionsCommand,
  GetEmailIdentityCommand,
  GetSuppressedDestinationCommand,
  PutAccountDetailsCommand,
} from '@aws-sdk/client-sesv2';
import { DescribeServicesCommand } from '@aws-sdk/client-ecs';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListSubscriptionsByTopicCommand } from '@aws-sdk/client-sns';
import { COMMANDS } from '../../lib/cli/command-table';
import { RAILS_SMTP_SETTINGS } from '../../lib/cli/commands/env';
import { packageVersion, terminalQuestion } from '../../lib/cli/main';
import { shellWord } from '../../lib/cli/shell';
import { testCertificate } from '../support/certificate';
import { startDnsServer, TestDnsServer } from '../support/dns-server';
import { startSmtpServer, TestSmtpServer } from '../support/smtp-server';
import {
  cfn,
  expectNoAwsCalls,
  localSmtpOptions,
  CREDENTIALS,
  healthyAws,
  healthyZone,
  run,
  SECRET_ARN,
  sm,
  ses,
  cw,
  CONFIGURATION_SET,
  VERIFIED_IDENTITY,
  HEALTH_FUNCTION,
  HEALTH_TARGET,
  healthFunction,
  lambda,
  stackWithOutputs,
  TEST_VERSION,
  iam,
  tmp,
  MANAGEMENT_TRAIL,
  trail,
  TRAIL_ARN,
  withSteppingClock,
  type Captured,
  writeConfig,
  sns,
  ALARM_TOPIC_ARN,
  FEEDBACK_DESTINATION,
  ecs as ecsMock,
} from './harness';
import { awsError, FEEDBACK_TOPIC_ARN, throttling } from '../support/fake-aws';

let config: string;
let smtp: TestSmtpServer;
let dns: TestDnsServer;
let smtpOptions: string[];

beforeAll(async () => {
  smtp = await startSmtpServer({
    accept: (u, p) => u === CREDENTIALS.username && p === CREDENTIALS.password,
    rejectRecipient: (address) =>
      address.startsWith('unverified@')
        ? {
            code: 554,
            message:
              'Message rejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: unverified@example.org',
          }
        : address.startsWith('quota@')
          ? { code: 454, message: 'Throttling failure: Daily message quota exceeded.' }
          : address.startsWith('paused@')
            ? {
                code: 554,
                message:
                  'Message rejected: Sending paused for this account. For more information, please check the inbox of the email address associated with your AWS account.',
              }
            : undefined,
  });
  dns = await startDnsServer(healthyZone());
  smtpOptions = localSmtpOptions(smtp);
});
afterAll(async () => {
  await smtp.close();
  await dns.close();
});
beforeEach(() => {
  healthyAws();
  config = writeConfig();
  for (const key of Object.keys(dns.zone)) delete dns.zone[key];
  Object.assign(dns.zone, healthyZone());
});

const local = () => [...smtpOptions, '--resolver', dns.address];
const cli = (args: string[], options = {}) => run([...args, '--config', config], options);
const neverLeaks = (text: string) => expect(text).not.toContain(CREDENTIALS.password);

describe('usage', () => {
  test('--help on the tool and on every command', async () => {
    const top = await run(['--help']);
    expect(top.code).toBe(0);
    for (const command of ['doctor', 'env', 'send-test', 'dns', 'request-production-access', 'rotate']) {
      expect(top.stdout).toContain(command);
      const help = await run([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: ses-smtp ${command}`);
    }
  });

  test.each<[string[], RegExp]>([
    [
      ['frobnicate'],
      /^ses-smtp: unknown command "frobnicate"; commands: doctor, env, .* \(ses-smtp --help\)\n$/,
    ],
    // Names every object has (Object.prototype's) are no command either.
    ...['constructor', 'toString', '__proto__', 'hasOwnProperty'].map((name): [string[], RegExp] => [
      [name],
      new RegExp(`^ses-smtp: unknown command "${name}"; commands: doctor, `),
    ]),
    [['env', '--bogus'], /^ses-smtp: env: Unknown option '--bogus'.* \(ses-smtp help env\)\n$/],
    [
      ['env', '--format', 'yaml'],
      /^ses-smtp: env: --format: got "yaml", expected one of: dotenv, shell, heroku, json, docker, kamal, rails \(ses-smtp help env\)\n$/,
    ],
    [['doctor', '--env', 'staging'], /^ses-smtp: --env "staging": no such environment in .*; known: prod\n$/],
    // Quoted: a line break or a terminal escape in the value stays on the one line, inert.
    [
      ['doctor', '--env', 'x\ny\u001b[31m'],
      /^ses-smtp: --env "x\\ny\\u001b\[31m": no such environment in .*\n$/,
    ],
    [
      ['dns', '--resolver', 'dns.google'],
      /^ses-smtp: --resolver: got "dns.google", expected IP\[:PORT\] like .*\n$/,
    ],
    [
      ['send-test', '--to', 'nobody'],
      /^ses-smtp: --to: got "nobody", expected an email address like "no-reply@example\.com" \(RFC 5321: .*\)\n$/,
    ],
    [
      ['send-test', '--to', 'a..b@example.com'],
      /^ses-smtp: --to: got "a\.\.b@example\.com", expected an email address/,
    ],
    [
      // IDNA would drop it and send to dev@example.com: refused, named, as the environments file does.
      ['send-test', '--to', 'dev@example.com\u200b'],
      /^ses-smtp: --to: got .*, expected an email address .*: remove the invisible character U\+200B at character 16/,
    ],
    [
      ['send-test'],
      /^ses-smtp: --to is missing: pass --to ADDRESS, the recipient's email address \(like --to dev@example\.com\)\n$/,
    ],
    [
      ['send-test', '--to', 'a@example.org', '--smtp-port', 'x'],
      /^ses-smtp: --smtp-port: got "x", expected a TCP port number from 1 to 65535 .*\n$/,
    ],
  ])('%j -> one line, exit 2', async (args, expected) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(expected);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test.each<[string[], string]>([
    [
      ['--smtp-port', 'abc'],
      '--smtp-port: got "abc", expected a TCP port number from 1 to 65535 (SES offers 25, 587 and 2587 for STARTTLS, 465 and 2465 for TLS from the start)',
    ],
    [['--smtp-port', '70000'], '--smtp-port: got "70000", expected a TCP port number from 1 to 65535'],
    [['--smtp-port', '0x24B'], '--smtp-port: got "0x24B", expected a TCP port number from 1 to 65535'],
    ...['0', '0.05', '301', '0x10', '1e1', '.5', '5.', 'Infinity'].map((value): [string[], string] => [
      ['--smtp-timeout', value],
      `--smtp-timeout: got "${value}", expected a number of seconds from 0.1 to 300, like 10 or 2.5`,
    ]),
    [
      ['--smtp-ca', '/nonexistent.pem'],
      '--smtp-ca: cannot read "/nonexistent.pem"; pass a PEM file of the CA to trust',
    ],
    [
      ['--region', 'eu-west'],
      '--region: got "eu-west", expected an AWS Region name like "eu-west-1" or "us-gov-west-1" (area, direction, number)',
    ],
    [['--region', 'eu-west-1a'], '--region: got "eu-west-1a", expected an AWS Region name like "eu-west-1"'],
    [['--stack', 'my_stack'], '--stack: got "my_stack", expected a CloudFormation stack name'],
    [['--identity', 'ops@example.com'], '--identity: got "ops@example.com", expected a domain name'],
    [
      ['--identity', 'example.com\u00ad'],
      '--identity: got "example.com\\u00ad", expected a domain name like "example.com" or "bücher.example" (letters, digits and "-" per label; a non-ASCII name is taken in its punycode form, "xn--..."): remove the invisible character U+00AD at character 12',
    ],
    [
      ['--smtp-host', 'smtp://mail.example.com'],
      '--smtp-host: got "smtp://mail.example.com", expected a host name or an IP address',
    ],
  ])(
    '%j on doctor, rotate and pause: one line naming the flag, exit 2, before any AWS call',
    async (flags, message) => {
      for (const command of [['doctor'], ['rotate'], ['pause', '--yes']]) {
        const r = await cli([...command, ...flags]);
        expect(r.stderr).toMatch(/^ses-smtp: [^\n]+\n$/);
        expect(r.stderr.startsWith(`ses-smtp: ${message}`)).toBe(true);
        expect(r.code).toBe(2);
        expectNoAwsCalls();
      }
    },
  );

  // Node's TLS ignores what in its `ca` is not a PEM certificate: the CA would stay untrusted, and
  // the TLS failure would advise the flag already given.
  test.each<[string, string | Buffer, string]>([
    ['empty', '', 'holds no PEM certificate'],
    ['text', 'trust me\n', 'holds no PEM certificate'],
    ['DER', new X509Certificate(testCertificate().cert).raw, 'holds no PEM certificate'],
    [
      'a damaged PEM',
      `${testCertificate().cert.trim()}\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`,
      'certificate 2 of 2 in',
    ],
  ])(
    '--smtp-ca with %s: one line naming the file, exit 2, before any AWS call',
    async (name, content, message) => {
      const file = path.join(tmp, `ca-${name.replace(/\W/g, '-')}.pem`);
      fs.writeFileSync(file, content);
      const r = await cli(['doctor', '--smtp-ca', file]);
      expect(r.stderr).toMatch(/^ses-smtp: --smtp-ca: [^\n]+\n$/);
      expect(r.stderr).toContain(`${message}`);
      expect(r.stderr).toContain(JSON.stringify(file));
      expect(r.code).toBe(2);
      expectNoAwsCalls();
    },
  );

  test.each<[string[], string]>([
    [['send-test', '--to', 'bad'], '--to: got "bad", expected an email address'],
    [
      ['request-production-access', '--contact', 'ops@example.com', '--contact', 'bad'],
      '--contact: got "bad", expected an email address',
    ],
    [
      ['request-production-access', '--website-url', 'ftp://example.com'],
      '--website-url: got "ftp://example.com", expected an http(s):// URL of your site',
    ],
    [
      ['request-production-access', '--use-case', ' '],
      '--use-case: got " ", expected the text of the use case',
    ],
    [
      ['pause', '--yes', '--configuration-set', 'bad name!'],
      '--configuration-set: got "bad name!", expected an SES configuration set name: 1 to 64 letters, digits, "_" and "-"',
    ],
    [
      ['revoke', '--yes', '--user-name', 'smtp/user'],
      '--user-name: got "smtp/user", expected an IAM user name: 1 to 64 letters, digits and "+=,.@_-"',
    ],
    [
      ['test-alarm', '--yes', '--alarm', 'a\u0007b'],
      '--alarm: got "a\\u0007b", expected a CloudWatch alarm name: 1 to 255 characters, none of them a control character',
    ],
  ])(
    "%j: the command's own value is checked first, before the environments file is read (here it is missing)",
    async (args, message) => {
      const r = await run([...args, '--config', path.join(tmp, 'missing.json')]);
      expect(r.stderr.startsWith(`ses-smtp: ${message}`)).toBe(true);
      expect(r.code).toBe(2);
      expectNoAwsCalls();
    },
  );

  test.each(['-1', '0', '0.001', 'Infinity', ' 0x10 ', '1e3', '86401'])(
    '--timeout=%j on rotate and revoke: one line, exit 2, before any AWS call (no key deactivated)',
    async (value) => {
      for (const command of [['rotate'], ['revoke', '--yes']]) {
        const r = await cli([...command, `--timeout=${value}`]);
        expect(r.stderr).toBe(
          `ses-smtp: --timeout: got ${JSON.stringify(value)}, expected a number of seconds from 1 to 86400, like 600 or 90.5\n`,
        );
        expect(r.code).toBe(2);
        expectNoAwsCalls();
      }
    },
  );

  const SECRET_ID_EXPECTED =
    'expected the name of a secret (ASCII letters, digits and "/_+=.@-", at most 512) or its ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)';

  test.each([
    [
      'a line break and a terminal escape',
      'x\ny\u001b[31mRED',
      ': remove the invisible character U+000A at character 2 (pasted text often carries one)',
    ],
    ['a space', 'my secret', ''],
    ['an ARN whose Region is no Region name', 'arn:aws:secretsmanager:EU:123456789012:secret:x', ''],
    ['an ARN of another service', 'arn:aws:ssm:eu-west-1:123456789012:parameter/x', ''],
    ['too long a name', 'n'.repeat(513), ''],
  ])('--secret-id with %s: one line naming it, exit 2, no AWS call', async (_case, value, hint) => {
    const r = await cli(['env', '--secret-id', value]);
    expect([r.code, r.stderr]).toEqual([
      2,
      `ses-smtp: --secret-id: got ${JSON.stringify(value)}, ${SECRET_ID_EXPECTED}${hint}\n`,
    ]);
    expectNoAwsCalls();
  });

  test.each([
    ['prod/ses-smtp+creds=1.@_-x', []],
    ['n'.repeat(512), []],
    ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/smtp-AbCdEf', []],
    // The longest name, and the 7 characters Secrets Manager adds to it in the ARN.
    [`arn:aws:secretsmanager:eu-west-1:123456789012:secret:${'n'.repeat(512)}-AbCdEf`, []],
    ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/smtp', []],
    ['arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:smtp', ['--region', 'us-gov-west-1']],
  ])('--secret-id %s (a name or ARN Secrets Manager takes) is read', async (value, region) => {
    const r = await cli(['env', '--secret-id', value, ...region]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([value]);
  });

  test("a secret ARN of another Region than the environment's: one line, exit 2, no AWS call", async () => {
    const elsewhere = SECRET_ARN.replace('eu-west-1', 'us-east-1');
    const r = await cli(['env', '--secret-id', elsewhere]);
    expect(r.stderr).toBe(
      `ses-smtp: --secret-id ${elsewhere} is in us-east-1, and this command runs in eu-west-1 (from environment prod); pass --region us-east-1, or a --secret-id in eu-west-1\n`,
    );
    expect(r.code).toBe(2);
    expectNoAwsCalls();
  });

  /** CloudFormation's answer for a stack that does not exist. */
  const noStack = (name: string) =>
    cfn.on(DescribeStacksCommand).rejects(
      Object.assign(new Error(`Stack with id ${name} does not exist`), {
        name: 'ValidationError',
        $metadata: {},
      }),
    );

  test('a missing stack is one clear line and exit 2', async () => {
    noStack('SesSmtp-prod');
    const r = await cli(['env']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `ses-smtp: stack SesSmtp-prod not found in eu-west-1: deploy it (npx cdk deploy SesSmtp-prod -c ${shellWord(`config=${config}`)}), or pass --secret-id (and --stack or --region if it lives elsewhere)\n`,
    );
  });

  /**
   * Runs `fn` in a project of its own whose config/environments.json holds environment "prod":
   * not this repository's file, which is the team's to edit (README, Development).
   */
  async function inProject<T>(fn: () => Promise<T>): Promise<T> {
    const home = process.cwd();
    const project = fs.mkdtempSync(path.join(tmp, 'project-'));
    fs.mkdirSync(path.join(project, 'config'));
    fs.copyFileSync(writeConfig(), path.join(project, 'config', 'environments.json'));
    process.chdir(project);
    try {
      return await fn();
    } finally {
      process.chdir(home);
    }
  }

  // cdk.json names the file, for the app as for the CLI: the deploy needs no -c config= then.
  test('without --config the deploy a fix gives is the stack alone', async () => {
    noStack('SesSmtp-prod');
    const r = await inProject(() => run(['env', '--env', 'prod']));
    expect([r.code, r.stderr]).toEqual([
      2,
      'ses-smtp: stack SesSmtp-prod not found in eu-west-1: deploy it (npx cdk deploy SesSmtp-prod), or pass --secret-id (and --stack or --region if it lives elsewhere)\n',
    ]);
  });

  // cdk runs in the project, this command maybe elsewhere: the path the deploy gets is absolute.
  test('a relative --config goes into the deploy as an absolute path', async () => {
    noStack('SesSmtp-prod');
    const [r, file] = await inProject(async (): Promise<[Captured, string]> => [
      await run(['env', '--config', 'config/environments.json']),
      path.resolve('config/environments.json'),
    ]);
    expect(r.stderr).toContain(`deploy it (npx cdk deploy SesSmtp-prod -c config=${file}), `);
  });

  // A proxy's login page, answered with 200, parses into an answer without its list.
  test('an answer that holds no stack list is not "stack not found": one line, exit 1', async () => {
    cfn.on(DescribeStacksCommand).resolves({ $metadata: { httpStatusCode: 200 } });
    const r = await cli(['env']);
    expect([r.code, r.stderr]).toEqual([
      1,
      'ses-smtp: the answer to DescribeStacks for "SesSmtp-prod" holds no stack list: it did not come from CloudFormation (check the network, proxy settings and any AWS_ENDPOINT_URL_* variable)\n',
    ]);
  });

  test('another ValidationError of CloudFormation is its answer, not "stack not found"', async () => {
    cfn.on(DescribeStacksCommand).rejects(
      Object.assign(
        new Error("1 validation error detected: Value 'x' at 'stackName' failed to satisfy constraint"),
        {
          name: 'ValidationError',
          $metadata: { httpStatusCode: 400 },
        },
      ),
    );
    const r = await cli(['env']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ses-smtp: AWS refused env: ValidationError: 1 validation error detected/);
    expect(r.stderr).not.toContain('not found');
  });

  test('a bad environments file is reported as the app reports it, exit 2', async () => {
    const r = await run(['doctor', '--config', writeConfig({ region: 'mars-1' })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/field "region": got "mars-1", expected an AWS Region/);
  });

  test('several environments need --env', async () => {
    const file = path.join(tmp, 'two.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        environments: {
          a: JSON.parse(fs.readFileSync(config, 'utf8')).environments.prod,
          b: {
            ...JSON.parse(fs.readFileSync(config, 'utf8')).environments.prod,
            region: 'us-east-1',
            // Not the same DNS names as "a" with other values (the loader refuses that).
            dns: { mode: 'manual' },
            mailFrom: { subdomain: 'mail-us' },
          },
        },
      }),
    );
    const r = await run(['env', '--config', file]);
    expect(r).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--env is required: .* has several environments \(a, b\)/),
    });
  });

  test("help <command> is the command's --help; every option of its table is listed", async () => {
    for (const [name, command] of Object.entries(COMMANDS)) {
      const help = await run(['help', name]);
      expect(help.code).toBe(0);
      expect(help.stdout).toBe((await run([name, '--help'])).stdout);
      expect(help.stdout).toContain(`ses-smtp ${name}: ${command.summary}`);
      for (const option of command.options) expect(help.stdout).toContain(`--${option.name}`);
      expect(help.stdout).toContain('--config PATH');
    }
    const unknown = await run(['help', 'frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^ses-smtp: unknown command "frobnicate"; commands: doctor, /);
  });

  test('pause and resume each say what their --scope does', async () => {
    expect((await run(['help', 'pause'])).stdout).toContain('--scope SCOPE             what to pause:');
    expect((await run(['help', 'resume'])).stdout).toContain('--scope SCOPE             what to resume:');
  });

  test('--version prints the version', async () => {
    expect(await run(['--version'])).toMatchObject({ code: 0, stdout: `${TEST_VERSION}\n` });
  });

  test('no command: the help on stderr, exit 2 (--help prints it on stdout, exit 0)', async () => {
    const r = await run([]);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toBe((await run(['--help'])).stdout);
  });

  test('--help and -h take a command as help does', async () => {
    const doctor = (await run(['help', 'doctor'])).stdout;
    expect(await run(['--help', 'doctor'])).toMatchObject({ code: 0, stdout: doctor });
    expect(await run(['-h', 'doctor'])).toMatchObject({ code: 0, stdout: doctor });
  });

  test.each<[string[], string]>([
    [
      ['help', 'doctor', 'extra'],
      'help takes one command (ses-smtp help <command>); got the extra argument "extra"',
    ],
    [
      ['--help', 'env', '--format'],
      '--help takes one command (ses-smtp help <command>); got the extra argument "--format"',
    ],
    [['--version', 'extra'], '--version takes no argument; got "extra"'],
    [['--json', 'doctor'], 'options go after the command: ses-smtp doctor --json'],
    // A value that is also a command's name is the option's value: the command comes after it.
    [['--env', 'env', 'doctor'], 'options go after the command: ses-smtp doctor --env env'],
    [['--env=env', 'doctor'], 'options go after the command: ses-smtp doctor --env=env'],
    [
      ['--env', 'prod', '--subject', "it's a test", 'send-test', '--to', 'dev@example.org'],
      "options go after the command: ses-smtp send-test --env prod --subject 'it'\\''s a test' --to dev@example.org",
    ],
    [
      ['--json'],
      '"--json" is an option, and options go after the command: ses-smtp <command> [options]; commands: doctor, env, send-test, preflight, dns, request-production-access, rotate, pause, resume, revoke, test-alarm',
    ],
  ])('%j: one line, exit 2, nothing else done', async (args, message) => {
    const r = await run(args);
    expect(r.stderr).toBe(`ses-smtp: ${message}\n`);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(
      args.includes('--json') ? `${JSON.stringify({ ok: false, error: message }, null, 2)}\n` : '',
    );
    expectNoAwsCalls();
  });

  test.each<[string[], RegExp]>([
    [['frobnicate', '--json'], /^unknown command "frobnicate"; commands: doctor, /],
    [['env', '--json', '--bogus'], /^env: Unknown option '--bogus'.* \(ses-smtp help env\)$/],
    [['env', '--json', '--format', 'yaml'], /^env: --format: got "yaml", expected one of: /],
    [['help', 'frobnicate', '--json'], /^help takes one command/],
  ])('%j: with --json anywhere a usage error is also one JSON document on stdout', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc).toEqual({ ok: false, error: expect.stringMatching(message) });
    expect(r.stderr).toBe(`ses-smtp: ${doc.error}\n`);
  });

  test("a missing environments file names the CLI's own --config flag", async () => {
    const r = await run(['doctor', '--config', path.join(tmp, 'nope.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `ses-smtp: ${path.join(tmp, 'nope.json')}: cannot read the environments file (no such file); create it (see README "Configuration") or pass --config PATH\n`,
    );
    expect(r.stderr).not.toContain('-c config=');
  });

  test.each<[string, () => string, string]>([
    ['a directory', () => tmp, `${tmp}: cannot read the environments file (a directory, not a file)`],
  ])("--config naming %s: one line with the CLI's own --config flag", async (_, file, start) => {
    const r = await run(['doctor', '--config', file()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `ses-smtp: ${start}; create it (see README "Configuration") or pass --config PATH\n`,
    );
  });

  test('--help, help <command> and --version load no command, config loader or AWS client', () => {
    const script = `
      import('tsx').then(async () => {
        const { main } = require('./lib/cli/main.ts');
        const streams = { stdout: { write: () => true }, stderr: { write: () => true } };
        const deps = { streams, env: {}, interactive: false, ask: async () => false, version: () => '1' };
        for (const args of [['--help'], ['help', 'revoke'], ['env', '--help'], ['--version']]) await main(args, deps);
        const loaded = Object.keys(require.cache).filter((f) =>
          /@aws-sdk|aws-cdk-lib|[\\/]zod[\\/]|nodemailer|lib[\\/]config[\\/]|lib[\\/]cli[\\/]commands[\\/]|context\\.ts/.test(f),
        );
        process.stdout.write(JSON.stringify({ loaded, main: Object.keys(require.cache).some((f) => f.endsWith('main.ts')) }));
      });`;
    const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ loaded: [], main: true });
  });

  test('the bin prints the package version', () => {
    // The bin bundled by the tests' global setup (no TypeScript loader to start).
    const result = spawnSync(process.execPath, ['.build/ses-smtp.js', '--version'], { encoding: 'utf8' });
    expect(result.stdout).toBe(`${JSON.parse(fs.readFileSync('package.json', 'utf8')).version}\n`);
  });

  // An install as npm makes it: node_modules/.bin/ses-smtp links to the bin, in an app that is a package too.
  test('the version is that of the package whose ses-smtp bin runs, found through the link', () => {
    const app = fs.mkdtempSync(path.join(tmp, 'app-'));
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(app, file)), { recursive: true });
      fs.writeFileSync(path.join(app, file), text);
    };
    const installed = 'node_modules/ses-smtp-cdk';
    write('package.json', JSON.stringify({ name: 'app', version: '9.0.0', bin: 'cli.js' }));
    write('cli.js', '');
    write(
      `${installed}/package.json`,
      JSON.stringify({ name: 'ses-smtp-cdk', version: '1.2.3', bin: { 'ses-smtp': 'dist/bin/ses-smtp.js' } }),
    );
    // A package.json on the way up that is not the package's (one that sets the module type).
    write(`${installed}/dist/package.json`, JSON.stringify({ type: 'commonjs' }));
    write(`${installed}/dist/bin/ses-smtp.js`, '');
    fs.mkdirSync(path.join(app, 'node_modules/.bin'));
    fs.symlinkSync('../ses-smtp-cdk/dist/bin/ses-smtp.js', path.join(app, 'node_modules/.bin/ses-smtp'));

    expect(packageVersion(path.join(app, 'node_modules/.bin/ses-smtp'))).toBe('1.2.3');
    // A script of a package without the ses-smtp bin (its bin a string: a command of its own name) has none.
    expect(packageVersion(path.join(app, 'cli.js'))).toBeUndefined();
  });

  test('output to a full disk: one line, exit 1, no stack trace', () => {
    const full = fs.openSync('/dev/full', 'w');
    try {
      const result = spawnSync(process.execPath, ['.build/ses-smtp.js', 'help', 'doctor'], {
        encoding: 'utf8',
        stdio: ['ignore', full, 'pipe'],
      });
      expect(result.stderr).toBe(
        'ses-smtp: cannot write the output: ENOSPC: no space left on device, write\n',
      );
      expect(result.status).toBe(1);
    } finally {
      fs.closeSync(full);
    }
  });

  /** The bin's exit code and stderr with its stdout closed before it starts (a reader that left). */
  async function withStdoutClosed(args: string[]): Promise<[number | null, string]> {
    const child = spawn(process.execPath, ['.build/ses-smtp.js', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Closed before the bin starts (tens of milliseconds): its first write meets EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return [code, stderr];
  }

  // As `ses-smtp doctor | head -3`: the command runs on, its output dropped, and exits with its own
  // code (a revoke cut off half-way must not report success).
  test('a reader that goes away: the command ends quietly with its own exit code', async () => {
    expect(await withStdoutClosed(['help', 'doctor'])).toEqual([0, '']);
    // --json puts the usage error on stdout as a document too; the line on stderr and exit 2 stay.
    const [code, stderr] = await withStdoutClosed(['env', '--format', 'xml', '--json']);
    expect([code, stderr]).toEqual([2, expect.stringMatching(/^ses-smtp: env: --format: got "xml"/)]);
  });

  test('a stderr that cannot be written does not turn a usage error into a crash', () => {
    const full = fs.openSync('/dev/full', 'w');
    try {
      const result = spawnSync(process.execPath, ['.build/ses-smtp.js', 'env', '--format', 'xml'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', full],
      });
      expect([result.status, result.stdout]).toEqual([2, '']);
    } finally {
      fs.closeSync(full);
    }
  });

  // The SDK's own warning took nine lines of console output; the credentials are the profile's.
  test('AWS_PROFILE with the key variables set too: one warning line from the real SDK, then the error', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'no-aws-'));
    // Run where no environments file is (a stack of your own): the repository's is the team's.
    const result = spawnSync(
      process.execPath,
      [path.resolve('.build/ses-smtp.js'), 'env', '--stack', 'Mail', '--region', 'eu-west-1'],
      {
        encoding: 'utf8',
        cwd: home,
        env: {
          PATH: process.env.PATH,
          HOME: home,
          AWS_CONFIG_FILE: path.join(home, 'config'),
          AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'credentials'),
          AWS_PROFILE: 'nowhere',
          AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
          AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        },
      },
    );
    expect(result.stderr.split('\n')).toEqual([
      '! AWS_PROFILE and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are both set: the AWS SDK uses the profile; unset the one you do not mean',
      expect.stringMatching(/^ses-smtp: no AWS credentials found for profile "nowhere" \(AWS_PROFILE\)/),
      '',
    ]);
    expect(result.status).toBe(2);
  });

  test('the installed bin runs the same CLI (exit code and one-line error)', () => {
    const result = spawnSync(
      process.execPath,
      ['.build/ses-smtp.js', 'env', '--format', 'xml', '--config', config],
      { encoding: 'utf8' },
    );
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(
      'ses-smtp: env: --format: got "xml", expected one of: dotenv, shell, heroku, json, docker, kamal, rails (ses-smtp help env)',
    );
  });
});

describe('env', () => {
  /** Runs shell text in bash and returns the variables it defines. */
  function shellVars(script: string): Record<string, string> {
    const names = [
      'AWS_SES_SMTP_USERNAME',
      'AWS_SES_SMTP_PASSWORD',
      'AWS_SES_SMTP_ADDRESS',
      'AWS_SES_SMTP_PORT',
      'AWS_SES_REGION',
      'DEFAULT_FROM_EMAIL',
    ];
    const out = execFileSync(
      'bash',
      ['-c', `${script}\n${names.map((n) => `printf '%s\\0' "$${n}"`).join('\n')}`],
      // No inherited environment and no stdin: bash reads no startup file, the script alone counts.
      { encoding: 'utf8', env: {}, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const values = out.split('\0');
    return Object.fromEntries(names.map((n, i) => [n, values[i]]));
  }
  const expected = {
    AWS_SES_SMTP_USERNAME: CREDENTIALS.username,
    AWS_SES_SMTP_PASSWORD: CREDENTIALS.password,
    AWS_SES_SMTP_ADDRESS: CREDENTIALS.host,
    AWS_SES_SMTP_PORT: '587',
    AWS_SES_REGION: CREDENTIALS.region,
    DEFAULT_FROM_EMAIL: CREDENTIALS.fromAddress,
  };

  test('dotenv (default) parses back to the secret', async () => {
    const r = await cli(['env']);
    expect(r.code).toBe(0);
    // dotenv files are read by dotenv/Rails and by `set -a; source`: check with the shell.
    expect(shellVars(`set -a\n${r.stdout}`)).toEqual(expected);
  });

  test('shell exports parse back to the secret', async () => {
    const r = await cli(['env', '--format', 'shell']);
    expect(r.stdout).toMatch(/^export AWS_SES_SMTP_USERNAME='AKIA/);
    expect(shellVars(r.stdout)).toEqual(expected);
  });

  test('heroku: one config:set command whose arguments are the variables', async () => {
    const r = await cli(['env', '--format', 'heroku']);
    expect(r.stdout.startsWith('heroku config:set \\\n')).toBe(true);
    // The fake prints its arguments on fd 3: the command sends heroku's stdout to /dev/null.
    const script = `exec 3>&1\nheroku() { shift; printf '%s\\0' "$@" >&3; }\n${r.stdout}`;
    const args = execFileSync('bash', ['-c', script], {
      encoding: 'utf8',
      env: {},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
      .split('\0')
      .filter(Boolean);
    expect(
      Object.fromEntries(args.map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)])),
    ).toEqual(expected);
  });

  // heroku config:set prints "KEY: value" for each variable it set, the password too
  // (https://github.com/heroku/cli/blob/main/docs/config.md): in CI (`--reveal | sh`), the log.
  test('heroku: the command keeps config:set from printing the password', async () => {
    const r = await cli(['env', '--format', 'heroku']);
    const fake = `heroku() { shift; for a in "$@"; do printf '%s: %s\\n' "\${a%%=*}" "\${a#*=}"; done; }`;
    const out = execFileSync('bash', ['-c', `${fake}\n${r.stdout}`], {
      encoding: 'utf8',
      env: {},
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(r.stdout).toContain(CREDENTIALS.password);
    expect(out).not.toContain(CREDENTIALS.password);
  });

  // "$", "`" and "'" are letters of an address's local part (RFC 5322 atext): quoted, not expanded.
  test.each(['dotenv', 'shell', 'heroku'])(
    "%s: a value with $, ` and ' reads back as itself",
    async (format) => {
      const fromAddress = "o'brien$HOME`id`@example.com";
      sm.on(GetSecretValueCommand).resolves({
        SecretString: JSON.stringify({ ...CREDENTIALS, fromAddress }),
      });
      const r = await cli(['env', '--format', format]);
      const run = {
        dotenv: 'set -a',
        shell: '',
        heroku: 'heroku() { shift; for a in "$@"; do export "$a"; done; }',
      };
      expect(shellVars(`${run[format as keyof typeof run]}\n${r.stdout}`)).toEqual({
        ...expected,
        DEFAULT_FROM_EMAIL: fromAddress,
      });
    },
  );

  /**
   * A dotenv line's value as the dotenv gem reads it (lib/dotenv/parser.rb, parse_value): single
   * quotes literal; in double quotes, dotenv before 3.0 (and 3.x with DOTENV_LINEBREAK_MODE=legacy)
   * turns "\n" and "\r" into line breaks before it unescapes "\x" to "x", 3.x keeps them as
   * written; an escaped "\$" stays a "$" (its variable and command substitutions).
   */
  function dotenvGemValue(quoted: string, legacy: boolean): string {
    const inner = quoted.slice(1, -1);
    if (quoted.startsWith("'")) return inner;
    const expanded = legacy
      ? inner.replace(/\\n/g, '\n').replace(/\\r/g, '\r')
      : inner.replace(/\\([nr])/g, '\\\\$1');
    return expanded.replace(/\\([^$])/g, '$1').replace(/\\\$/g, '$');
  }

  // A quoted local part may hold "\n" (RFC 5322 quoted-pair; the config takes it): a backslash
  // pair that dotenv before 3.0 turns into a line break inside double quotes, whatever escapes it.
  test.each([false, true])(
    'dotenv: a value with backslashes reads back as itself in the dotenv gem (before 3.0: %s) and in bash',
    async (legacy) => {
      const fromAddress = '"no\\nreply\\r"@example.com';
      const password = 'pass\\nword$HOME\\';
      sm.on(GetSecretValueCommand).resolves({
        SecretString: JSON.stringify({ ...CREDENTIALS, fromAddress, password }),
      });
      const r = await cli(['env']);
      const read = Object.fromEntries(
        r.stdout
          .split('\n')
          .filter(Boolean)
          .map((line) => line.split(/=(.*)/s))
          .map(([name, value]) => [name, dotenvGemValue(value, legacy)]),
      );
      const values = { ...expected, DEFAULT_FROM_EMAIL: fromAddress, AWS_SES_SMTP_PASSWORD: password };
      expect(read).toEqual(values);
      expect(shellVars(`set -a\n${r.stdout}`)).toEqual(values);
    },
  );

  test('json parses back to the secret', async () => {
    const r = await cli(['env', '--format', 'json']);
    expect(JSON.parse(r.stdout)).toEqual(expected);
  });

  test('rails prints the ActionMailer block that reads those variables, with no values in it', async () => {
    const r = await cli(['env', '--format', 'rails']);
    expect(r.stdout).toBe(RAILS_SMTP_SETTINGS);
    // Everything SMTP needs; the Region is implied by the endpoint address.
    for (const name of Object.keys(expected).filter(
      (n) => n !== 'AWS_SES_REGION' && n !== 'AWS_SES_SMTP_PORT',
    )) {
      expect(r.stdout).toContain(`ENV["${name}"]`);
    }
    // Unset or empty, Net::SMTP connects to localhost (and mail before 2.7 logs in there in clear
    // text when it offers no STARTTLS): a name that never resolves (RFC 2606's .invalid).
    expect(r.stdout).toContain(
      '  address: ENV["AWS_SES_SMTP_ADDRESS"].presence || "aws-ses-smtp-address-unset.invalid",\n',
    );
    // assets:precompile runs without these variables: nothing may raise when one is missing
    // (ENV.fetch without a default raises KeyError; Integer("") raises ArgumentError).
    expect(r.stdout).not.toMatch(/ENV\.fetch\("[A-Z_]+"\)/);
    expect(r.stdout).toContain(
      'ses_port = Integer(ENV.fetch("AWS_SES_SMTP_PORT", ""), exception: false) || 587\n',
    );
    // STARTTLS required, never "if offered": a stripped STARTTLS would send the login in clear text.
    // TLS from the first byte on SES's TLS Wrapper ports.
    expect(r.stdout).toContain('ses_tls = [465, 2465].include?(ses_port)\n');
    expect(r.stdout).toContain('  tls: ses_tls,\n  enable_starttls: !ses_tls,\n');
    expect(r.stdout).not.toContain('enable_starttls_auto');
    // mail reads enable_starttls since 2.7.0 (changelog #1065), not only since 2.8.
    expect(r.stdout).toContain('(enable_starttls, mail 2.7+)');
    // raise_delivery_errors false would drop SES's 454 (throttling) and 535 without a trace; Devise's
    // links need a host of the app's.
    expect(r.stdout).toContain('# Keep raise_delivery_errors true (the default)');
    expect(r.stdout).toMatch(
      /^# config\.action_mailer\.default_url_options = \{ host: "[^"]+", protocol: "https" \}$/m,
    );
    neverLeaks(r.stdout);
  });

  test.each(['dotenv', 'shell', 'heroku', 'docker'])(
    'on a terminal the password is masked in %s: the output still runs, and never sets a masked password',
    async (format) => {
      const masked = await cli(['env', '--format', format], { tty: true });
      expect(masked.code).toBe(0);
      neverLeaks(masked.stdout + masked.stderr);
      expect(masked.stdout).toContain('AWS_SES_SMTP_PASSWORD');
      expect(masked.stderr).toContain('--reveal');
      // Run as the shell would (heroku as a function printing its arguments): no password is set.
      const script =
        format === 'heroku'
          ? `heroku() { shift; for a in "$@"; do export "$a"; done; }\n${masked.stdout}`
          : `set -a\n${masked.stdout}`;
      const vars = shellVars(script);
      expect(vars.AWS_SES_SMTP_PASSWORD).toBe('');
      if (format !== 'heroku') expect(vars.AWS_SES_SMTP_USERNAME).toBe(CREDENTIALS.username);
      // heroku's is one command: all of it commented out, not left to fail on "<masked>".
      else expect(masked.stdout.split('\n').filter((l) => l && !l.startsWith('# '))).toEqual([]);
      const revealed = await cli(['env', '--format', format, '--reveal'], { tty: true });
      expect(revealed.stdout).toContain(CREDENTIALS.password);
    },
  );

  test('on a terminal json has a null password unless --reveal', async () => {
    const masked = await cli(['env', '--format', 'json'], { tty: true });
    expect(JSON.parse(masked.stdout)).toEqual({ ...expected, AWS_SES_SMTP_PASSWORD: null });
    const revealed = await cli(['env', '--format', 'json', '--reveal'], { tty: true });
    expect(JSON.parse(revealed.stdout)).toEqual(expected);
  });

  test('--write FILE: mode 0600, real values, and git-ignored', async () => {
    const repo = fs.mkdtempSync(path.join(tmp, 'repo-'));
    execFileSync('git', ['init', '-q', repo]);
    const file = path.join(repo, 'config', '.env.production');
    const r = await cli(['env', '--write', file], { tty: true });
    expect(r.code).toBe(0);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(shellVars(`set -a\n${fs.readFileSync(file, 'utf8')}`)).toEqual(expected);
    expect(fs.readFileSync(path.join(repo, '.gitignore'), 'utf8')).toBe('/config/.env.production\n');
    expect(() => execFileSync('git', ['check-ignore', '-q', file], { cwd: repo })).not.toThrow();
    neverLeaks(r.stdout + r.stderr);
    // Written again over a world-readable file: mode narrowed; already ignored, .gitignore unchanged.
    fs.chmodSync(file, 0o644);
    await cli(['env', '--write', file]);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(repo, '.gitignore'), 'utf8')).toBe('/config/.env.production\n');
  });

  test('a command it suggests runs as printed, with a config path a shell would split or expand', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, "team's configs $HOME "));
    const file = path.join(dir, 'environments.json');
    fs.copyFileSync(config, file);
    sm.on(GetSecretValueCommand).resolves({ SecretString: '{}' });
    const r = await run(['env', '--config', file]);
    const command = /run: (ses-smtp rotate .*)\)$/m.exec(r.stderr)?.[1];
    // No stdin: bash reads ~/.bashrc when its stdin is a socket (as under rshd); Node's pipes are.
    const argv = execFileSync('bash', ['-c', `printf '%s\\0' ${command}`], {
      encoding: 'utf8',
      env: {},
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(argv.split('\0').slice(0, -1)).toEqual(['ses-smtp', 'rotate', '--env', 'prod', '--config', file]);
  });

  test('a secret without host or fromAddress: one line naming them and the fix, exit 1, no password', async () => {
    const { host: _host, fromAddress: _from, ...partial } = CREDENTIALS;
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(partial) });
    for (const command of [
      ['env'],
      ['env', '--write', path.join(fs.mkdtempSync(path.join(tmp, 'w-')), '.env')],
    ]) {
      const r = await cli(command);
      expect(r.stderr).toBe(
        `ses-smtp: secret ${SECRET_ARN} lacks host, fromAddress (or holds them with another type): not credentials the rotation wrote; rotate to store complete ones (run: ses-smtp rotate --env prod --config ${shellWord(config)})\n`,
      );
      expect(r.stdout).toBe('');
      expect(r.code).toBe(1);
      neverLeaks(r.stderr);
    }
  });

  test.each([
    ['a value put by hand', `password=${CREDENTIALS.password}`],
    ['null', 'null'],
  ])(
    'a secret that is not a JSON object (%s): one line naming the secret and a fix that works, exit 1',
    async (_, value) => {
      sm.on(GetSecretValueCommand).resolves({ SecretString: value });
      const r = await cli(['env']);
      // Not "rotate": the rotation reads AWSCURRENT first and fails on such a value too.
      expect(r.stderr).toBe(
        `ses-smtp: secret ${SECRET_ARN} does not hold a JSON object: not credentials the rotation wrote (a value put by hand?), and a rotation fails on it too, as AWSCURRENT or AWSPREVIOUS; make the previous version AWSCURRENT again, then take AWSPREVIOUS off this value (aws secretsmanager update-secret-version-stage --region eu-west-1, twice; list-secret-version-ids shows the version ids)\n`,
      );
      expect(r.code).toBe(1);
      neverLeaks(r.stdout + r.stderr);
    },
  );

  test('before the first rotation there is nothing to export: exit 1 with the reason', async () => {
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ placeholder: 'No SMTP credentials yet' }),
    });
    const r = await cli(['env']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/holds no credentials yet: the first rotation has not finished/);
  });
});

describe('send-test', () => {
  beforeEach(() => {
    ses
      .on(GetEmailIdentityCommand, { EmailIdentity: 'dev@example.org' })
      .resolves({ VerifiedForSendingStatus: true });
    ses
      .on(GetEmailIdentityCommand, { EmailIdentity: 'example.org' })
      .rejects(Object.assign(new Error('not found'), { name: 'NotFoundException' }));
    ses
      .on(GetEmailIdentityCommand, { EmailIdentity: 'unverified@example.org' })
      .rejects(Object.assign(new Error('not found'), { name: 'NotFoundException' }));
  });

  test("sends over STARTTLS with the current credentials and prints SES's message id", async () => {
    const r = await cli(['send-test', '--to', 'dev@example.org', ...local()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('✓ sent to dev@example.org: SES message id 010001test-message-id-000000');
    const message = smtp.messages.at(-1)!;
    expect(message).toMatchObject({ from: 'no-reply@example.com', to: ['dev@example.org'] });
    expect(message.raw).toContain('Subject: SES SMTP test from prod');
    neverLeaks(r.stdout + r.stderr);
  });

  test('a quoted local part (RFC 5321), as the config accepts it, goes to SMTP as it is', async () => {
    const r = await cli(['send-test', '--to', '"john doe"@example.org', '--json', ...local()]);
    // The test server (smtp-server) cuts RCPT TO at the space and answers 501; what matters here
    // is that the CLI took the address and sent it, unchanged, in RCPT TO.
    expect(JSON.parse(r.stdout)).toEqual({
      ok: false,
      to: '"john doe"@example.org',
      stage: 'send',
      detail: '501 Error: Bad recipient address syntax',
      fix: expect.any(String),
    });
    expect(r.code).toBe(1);
  });

  test('an address at a non-ASCII domain goes to SMTP with the domain in punycode, the local part as written', async () => {
    const r = await cli(['send-test', '--to', 'Dev@Bücher.example', ...local()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('✓ sent to Dev@xn--bcher-kva.example');
    // RCPT TO carries the punycode form; the test server (smtp-server) shows its domain decoded.
    expect(smtp.messages.at(-1)).toMatchObject({ to: ['Dev@bücher.example'] });
    expect(smtp.messages.at(-1)!.raw).toMatch(/^To: Dev@xn--bcher-kva\.example\r?$/m);
  });

  test('--json gives the message id', async () => {
    const r = await cli(['send-test', '--to', 'dev@example.org', '--json', ...local()]);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, messageId: '010001test-message-id-000000' });
  });

  test('"email address not verified": sandbox warning before, sandbox advice after', async () => {
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: false, SendingEnabled: true });
    const r = await cli(['send-test', '--to', 'unverified@example.org', ...local()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'the account is in the SES sandbox and unverified@example.org is not a verified identity',
    );
    expect(r.stdout).toMatch(
      /✗ sending to unverified@example.org failed at send: .*Email address is not verified/,
    );
    expect(r.stdout).toMatch(
      /→ the account is in the SES sandbox, where SES authorizes recipients too: add the recipient to verifiedEmailAddresses .* or request production access/,
    );
  });

  // The sandbox test recipient of verifiedEmailAddresses: listed, deployed, and still refused.
  test.each([
    [
      'PENDING',
      'the account is in the SES sandbox and pending@example.org has not confirmed its verification yet: SES will reject it until someone clicks the link AWS mailed to pending@example.org (it lasts 24 hours)',
    ],
    [
      'FAILED',
      'the account is in the SES sandbox and pending@example.org is not verified (its verification is FAILED; an unclicked link expires after 24 hours): SES will reject it. Send a new link: aws ses verify-email-identity --email-address pending@example.org --region eu-west-1, and click it',
    ],
  ])(
    'a listed recipient whose verification is %s: the warning says what to click',
    async (status, warning) => {
      ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: false, SendingEnabled: true });
      ses
        .on(GetEmailIdentityCommand, { EmailIdentity: 'pending@example.org' })
        .resolves({ VerifiedForSendingStatus: false, VerificationStatus: status as 'PENDING' });
      const r = await cli(['send-test', '--to', 'pending@example.org', ...local()]);
      expect(r.stderr).toContain(warning);
      expect(r.stderr).not.toContain('add it to verifiedEmailAddresses');
    },
  );

  // In the sandbox SES takes a recipient whose address, or whose domain, is a verified identity.
  test.each([
    ['its address', 'dev@example.org', 'example.org'],
    ['its domain', 'example.org', 'dev@example.org'],
  ])(
    'in the sandbox, a recipient verified by %s: no warning, the mail goes',
    async (_by, verified, absent) => {
      ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: false, SendingEnabled: true });
      ses
        .on(GetEmailIdentityCommand, { EmailIdentity: verified })
        .resolves({ VerifiedForSendingStatus: true });
      ses
        .on(GetEmailIdentityCommand, { EmailIdentity: absent })
        .rejects(Object.assign(new Error('not found'), { name: 'NotFoundException' }));
      const r = await cli(['send-test', '--to', 'dev@example.org', ...local()]);
      expect(r.code).toBe(0);
      expect(r.stderr).not.toContain('sandbox');
      expect(r.stdout).toContain('✓ sent to dev@example.org');
    },
  );

  test('in the sandbox without ses:GetEmailIdentity the test mail still goes, without that check', async () => {
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: false, SendingEnabled: true });
    ses
      .on(GetEmailIdentityCommand, { EmailIdentity: 'dev@example.org' })
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const r = await cli(['send-test', '--to', 'dev@example.org', ...local()]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "could not read the recipient's SES identity (AccessDeniedException): sending without the sandbox check",
    );
    // Unknown is not unverified: no sandbox warning on top.
    expect(r.stderr).not.toContain('the account is in the SES sandbox and');
    expect(r.stdout).toContain('✓ sent to dev@example.org');
  });

  // "The password reset never arrives": SES took the mail (250) and dropped it.
  test('a suppressed recipient: warned before the send, with the reason and the way out', async () => {
    ses.on(GetSuppressedDestinationCommand, { EmailAddress: 'dev@example.org' }).resolves({
      SuppressedDestination: {
        EmailAddress: 'dev@example.org',
        Reason: 'BOUNCE',
        LastUpdateTime: new Date('2026-11-02T10:00:00Z'),
      },
    });
    const r = await cli(['send-test', '--to', 'dev@example.org', ...local()]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      'dev@example.org is on the account suppression list (BOUNCE since 2026-11-02): SES accepts the message and drops it. Once the address works again: aws sesv2 delete-suppressed-destination --email-address dev@example.org --region eu-west-1',
    );
  });

  test('not suppressed (NotFoundException): no warning; an unreadable list is said, and the mail still goes', async () => {
    ses
      .on(GetSuppressedDestinationCommand)
      .rejects(Object.assign(new Error('not found'), { name: 'NotFoundException' }));
    let r = await cli(['send-test', '--to', 'dev@example.org', ...local()]);
    expect(r.stderr).not.toContain('suppression list');
    ses
      .on(GetSuppressedDestinationCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    r = await cli(['send-test', '--to', 'dev@example.org', ...local()]);
    expect(r.stderr).toContain(
      'could not read the suppression list (AccessDeniedException): sending without that check',
    );
    expect(r.stdout).toContain('✓ sent to dev@example.org');
  });

  test('the mailbox simulator needs no verification in the sandbox: no warning', async () => {
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: false, SendingEnabled: true });
    const r = await cli(['send-test', '--to', 'success@simulator.amazonses.com', ...local()]);
    expect(r.code).toBe(0);
    // No warning of any kind: not "not a verified identity", nor that the check could not run.
    expect(r.stderr).not.toMatch(/^!/m);
    // Nor does SES keep its addresses on the account suppression list: not asked.
    expect(ses.commandCalls(GetSuppressedDestinationCommand)).toHaveLength(0);
  });

  test('sending paused for the account: said before the send', async () => {
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true, SendingEnabled: false });
    const r = await cli(['send-test', '--to', 'dev@example.org', ...local()]);
    expect(r.stderr).toContain(
      // The commands carry the options that picked this environment (its --config here).
      `sending is disabled for the account in eu-west-1: SES will refuse the message (if you paused it: ses-smtp resume --scope account --env prod --config ${shellWord(config)}; else see ses-smtp doctor --env prod --config ${shellWord(config)})`,
    );
  });

  // pause's default scope: the identity's default set, which SMTP mail goes through.
  test('sending paused for the configuration set: said before the send, with its undo', async () => {
    ses
      .on(GetConfigurationSetCommand, { ConfigurationSetName: CONFIGURATION_SET })
      .resolves({ SendingOptions: { SendingEnabled: false } });
    const r = await cli(['send-test', '--to', 'dev@example.org', ...local()]);
    expect(r.stderr).toContain(
      `sending is paused for configuration set ${CONFIGURATION_SET}: SES will refuse the message (if you paused it: ses-smtp resume --scope configuration-set --env prod --config ${shellWord(config)}; else see ses-smtp doctor --env prod --config ${shellWord(config)})`,
    );
    ses
      .on(GetConfigurationSetCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const unread = await cli(['send-test', '--to', 'dev@example.org', ...local()]);
    expect(unread.code).toBe(0);
    expect(unread.stderr).toContain(
      `could not read configuration set ${CONFIGURATION_SET} (AccessDeniedException): sending without the check that it sends`,
    );
  });

  test('SES refusing the send as paused: the fix says how to find and undo the pause', async () => {
    ses
      .on(GetEmailIdentityCommand, { EmailIdentity: 'paused@example.org' })
      .resolves({ VerifiedForSendingStatus: true });
    const r = await cli(['send-test', '--to', 'paused@example.org', ...local()]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /✗ sending to paused@example.org failed at send: .*Sending paused for this account/,
    );
    expect(r.stdout).toContain(
      '→ sending is paused for the account or for the configuration set the mail goes through (by ses-smtp pause, or by AWS after a review): ses-smtp doctor says which; if you paused it, ses-smtp resume with the same --scope turns it back on',
    );
  });

  test('without ses:GetAccount the test mail still goes, without the sandbox check', async () => {
    ses.on(GetAccountCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const r = await cli(['send-test', '--to', 'dev@example.org', ...local()]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      'could not read the SES account (AccessDeniedException): sending without the sandbox check',
    );
    expect(r.stdout).toContain('✓ sent to dev@example.org');
  });

  test('"daily quota exceeded" gets the quota advice', async () => {
    ses
      .on(GetEmailIdentityCommand, { EmailIdentity: 'quota@example.org' })
      .resolves({ VerifiedForSendingStatus: true });
    const r = await cli(['send-test', '--to', 'quota@example.org', ...local()]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/→ the 24-hour sending quota is used up/);
  });
});

describe('pause: the undo command is the one that undoes it', () => {
  test.each<[string[], string]>([
    [[], 'ses-smtp resume --scope configuration-set --env prod --config CONFIG'],
    [
      ['--configuration-set', 'other-set'],
      'ses-smtp resume --scope configuration-set --env prod --config CONFIG --configuration-set other-set',
    ],
    [
      ['--region', 'us-east-1'],
      'ses-smtp resume --scope configuration-set --env prod --config CONFIG --region us-east-1',
    ],
    [['--region', 'eu-west-1'], 'ses-smtp resume --scope configuration-set --env prod --config CONFIG'],
  ])('pause %j prints: %s', async (flags, undo) => {
    ses.on(GetConfigurationSetCommand).resolves({ SendingOptions: { SendingEnabled: true } });
    ses.on(PutConfigurationSetSendingOptionsCommand).resolves({});
    const r = await cli(['pause', '--yes', ...flags]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `sends are refused until you run: ${undo.replace('CONFIG', shellWord(config))}`,
    );
    const [put] = ses.commandCalls(PutConfigurationSetSendingOptionsCommand);
    expect(put.args[0].input.ConfigurationSetName).toBe(
      flags[0] === '--configuration-set' ? 'other-set' : 'SendingFeedbackConfigurationSet-abc',
    );
    // Another set than the environment's is not called the environment's mail.
    expect(r.stdout.includes('(mail of environment prod)')).toBe(flags[0] !== '--configuration-set');
  });

  test('--scope account with --configuration-set: one line, exit 2, nothing read or changed', async () => {
    const r = await cli(['pause', '--yes', '--scope', 'account', '--configuration-set', 'other-set']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'ses-smtp: --configuration-set with --scope account: the account scope pauses every sender in eu-west-1, not one configuration set; drop one of them\n',
    );
    expect(ses.calls()).toHaveLength(0);
  });
});

describe('dns', () => {
  test('prints every record in zone-file form, DKIM from the live tokens', async () => {
    const r = await cli(['dns']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l && !l.startsWith(';'))).toEqual([
      'tokone._domainkey.example.com. 3600 IN CNAME tokone.dkim.amazonses.com.',
      'toktwo._domainkey.example.com. 3600 IN CNAME toktwo.dkim.amazonses.com.',
      'tokthree._domainkey.example.com. 3600 IN CNAME tokthree.dkim.amazonses.com.',
      'mail.example.com. 3600 IN MX 10 feedback-smtp.eu-west-1.amazonses.com.',
      'mail.example.com. 3600 IN TXT "v=spf1 include:amazonses.com ~all"',
      '_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=quarantine; pct=100; rua=mailto:dmarc@example.com; adkim=r; aspf=r"',
    ]);
    // The environments file is the source of the settings: no health-check function is read.
    expect(lambda.calls()).toHaveLength(0);
  });

  test('--check against live DNS: all present', async () => {
    const r = await cli(['dns', '--check', '--resolver', dns.address]);
    expect(r.stdout.match(/✓/g)).toHaveLength(6);
    expect(r.code).toBe(0);
  });

  test('--check names what is missing or wrong, exit 1', async () => {
    delete dns.zone['toktwo._domainkey.example.com'];
    dns.zone['mail.example.com'].MX = [{ priority: 10, exchange: 'feedback-smtp.us-east-1.amazonses.com' }];
    const r = await cli(['dns', '--check', '--resolver', dns.address]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✗ Easy DKIM key 2 (CNAME toktwo._domainkey.example.com): not found in DNS');
    expect(r.stdout).toContain('→ add CNAME toktwo.dkim.amazonses.com');
    expect(r.stdout).toContain(
      '✗ MAIL FROM: bounces for the envelope sender go back to SES (MX mail.example.com): found 10 feedback-smtp.us-east-1.amazonses.com',
    );
  });
});

describe("dns: a DMARC report address at another organization's domain (RFC 7489 §7.1)", () => {
  const VENDOR = 'example.com._report._dmarc.dmarc-vendor.net';
  beforeEach(() => {
    const dmarc = { aggregateReportUris: ['mailto:dmarc@example.com', 'mailto:rua@dmarc-vendor.net'] };
    config = writeConfig({ dmarc });
    dns.zone['_dmarc.example.com'].TXT = [
      [
        'v=DMARC1; p=quarantine; pct=100; rua=mailto:dmarc@example.com,mailto:rua@dmarc-vendor.net; adkim=r; aspf=r',
      ],
    ];
  });

  test('dns prints the record that domain must publish, as a comment after the zone lines', async () => {
    const r = await cli(['dns']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(-3)).toEqual([
      '; DMARC reports to dmarc-vendor.net: receivers send them only once dmarc-vendor.net publishes this in its own zone (RFC 7489 §7.1):',
      `; ${VENDOR}. IN TXT "v=DMARC1;"`,
      '',
    ]);
    expect(JSON.parse((await cli(['dns', '--json'])).stdout).reportAuthorizations).toEqual([
      {
        key: 'DmarcReportAuthorization',
        name: `${VENDOR}.`,
        type: 'TXT',
        values: ['v=DMARC1;'],
        purpose: 'DMARC reports to dmarc-vendor.net',
      },
    ]);
  });

  test('dns --check warns while it is missing (exit 0: mail flows), and passes once it is there', async () => {
    const missing = await cli(['dns', '--check', '--resolver', dns.address]);
    expect(missing.code).toBe(0);
    expect(missing.stdout).toContain(`! DMARC reports to dmarc-vendor.net (TXT ${VENDOR}): not found in DNS`);
    expect(missing.stdout).toContain(
      `→ receivers send no report to mailto:rua@dmarc-vendor.net until dmarc-vendor.net publishes TXT "v=DMARC1;" at ${VENDOR}`,
    );
    expect(
      JSON.parse((await cli(['dns', '--check', '--json', '--resolver', dns.address])).stdout),
    ).toMatchObject({
      ok: true,
      results: expect.arrayContaining([expect.objectContaining({ status: 'warn' })]),
    });
    dns.zone[VENDOR] = { TXT: [['v=DMARC1']] };
    const present = await cli(['dns', '--check', '--resolver', dns.address]);
    expect(present.stdout).toContain(`✓ DMARC reports to dmarc-vendor.net (TXT ${VENDOR}): "v=DMARC1"`);
    expect(present.stdout).not.toMatch(/^[!✗]/m);
    expect(present.code).toBe(0);
  });

  test('dns --check reads the addresses of a DMARC record managed elsewhere', async () => {
    config = writeConfig({ dmarc: { enabled: false } });
    dns.zone['_dmarc.example.com'].TXT = [['v=DMARC1; p=reject; ruf=mailto:ruf@dmarc-vendor.net']];
    const r = await cli(['dns', '--check', '--resolver', dns.address]);
    expect(r.stdout).toContain(`! DMARC reports to dmarc-vendor.net (TXT ${VENDOR}): not found in DNS`);
    expect(r.code).toBe(0);
    // Nothing to print for it: the stack does not write that record.
    expect((await cli(['dns'])).stdout).not.toContain('_report._dmarc');
  });

  test('doctor warns in its dmarc-reports section, and still exits 0', async () => {
    const r = await cli(['doctor', ...local()]);
    expect(r.stdout).toContain(`! DMARC reports to dmarc-vendor.net (TXT ${VENDOR}): not found in DNS`);
    expect(r.stdout).toMatch(/\n\d+ ok, 1 warning, 0 failed\n/);
    expect(r.code).toBe(0);
  });
});

describe('doctor', () => {
  const doctor = (extra: string[] = [], options = {}) => cli(['doctor', ...local(), ...extra], options);
  afterEach(() => jest.useRealTimers());

  test("a check's fix names the environment with the flags doctor was given (--config too), as the command to run", async () => {
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: false, SendingEnabled: true });
    const r = await doctor();
    expect(r.stdout).toContain(
      `    → run: ses-smtp request-production-access --env prod --config ${shellWord(config)} (meanwhile add test recipients to verifiedEmailAddresses)\n`,
    );
  });

  // The app reads the file cdk.json names unless told: the deploy a fix gives reads this one.
  test("a fix that deploys names the environments file doctor was given, as the app's -c config=", async () => {
    ses.on(GetEmailIdentityCommand, { EmailIdentity: 'example.com' }).rejects(
      Object.assign(new Error('Email identity example.com does not exist.'), {
        name: 'NotFoundException',
        $metadata: {},
      }),
    );
    const r = await doctor();
    expect(r.stdout).toContain(
      `    → deploy the stack (npx cdk deploy SesSmtp-prod -c ${shellWord(`config=${config}`)})\n`,
    );
  });

  // Mail still flows without the identity's default configuration set; with another set it may not.
  test("the identity's default configuration set: none is a warning (exit 0), another set a failure (exit 1)", async () => {
    const { ConfigurationSetName: _set, ...withoutSet } = VERIFIED_IDENTITY;
    ses.on(GetEmailIdentityCommand, { EmailIdentity: 'example.com' }).resolves(withoutSet);
    const none = await doctor();
    expect(none.stdout).toContain(
      '! identity example.com has no default configuration set: its bounces and complaints reach no handler\n',
    );
    expect(none.code).toBe(0);
    ses
      .on(GetEmailIdentityCommand, { EmailIdentity: 'example.com' })
      .resolves({ ...VERIFIED_IDENTITY, ConfigurationSetName: 'marketing' });
    const other = await doctor();
    expect(other.stdout).toContain('✗ identity example.com sends through configuration set marketing');
    expect(other.stdout).toContain(
      `    → aws sesv2 put-email-identity-configuration-set-attributes --email-identity example.com --configuration-set-name ${CONFIGURATION_SET} --region eu-west-1\n`,
    );
    expect(other.code).toBe(1);
  });

  test('a healthy environment: every check ✓, exit 0', async () => {
    const logins = smtp.authAttempts.length;
    const r = await doctor();
    expect(r.code).toBe(0);
    // One SMTP login: doctor's own, from here, at the endpoint its options name.
    expect(smtp.authAttempts.length - logins).toBe(1);
    expect(r.stdout.match(/^✓ SMTP /gm)).toHaveLength(1);
    expect(r.stdout).not.toMatch(/✗|^!/m);
    for (const text of [
      '✓ identity example.com verified for sending',
      '✓ DKIM signing verified (Easy DKIM)',
      '✓ MAIL FROM domain mail.example.com verified (SPF aligns for DMARC)',
      '✓ DMARC policy (TXT _dmarc.example.com)',
      '✓ account has production access in eu-west-1',
      '✓ sending quota: 1200 of 50000 in the last 24 h (2 %), max 14 per second',
      `✓ SMTP 127.0.0.1:${smtp.port}: connect, STARTTLS, AUTH with the current credentials: user ${CREDENTIALS.username}`,
      '✓ credentials rotate every 90 days',
      `✓ SES collects reputation metrics for the configuration set ${CONFIGURATION_SET}`,
      `✓ the configuration set ${CONFIGURATION_SET} publishes bounces and complaints to SNS (event destination ${FEEDBACK_DESTINATION.Name})`,
      '✓ bounce rate: 0.400 % (warning 2 %, critical 5 %)',
      '✓ complaint rate: 0.010 % (warning 0.05 %, critical 0.1 %)',
      "✓ a CloudTrail trail records eu-west-1's management events (RotationFailed reaches EventBridge): trail management-events",
    ]) {
      expect(r.stdout).toContain(text);
    }
    expect(r.stdout).toMatch(/\n\d+ ok, 0 warnings, 0 failed\n$/);
    neverLeaks(r.stdout + r.stderr);
    expect(lambda.calls()).toHaveLength(0);
  });

  test('--json is one document with every check', async () => {
    const r = await doctor(['--json']);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ environment: 'prod', region: 'eu-west-1', ok: true });
    expect(doc.checks.length).toBeGreaterThanOrEqual(15);
  });

  test('colour only on a terminal, and never with --no-color', async () => {
    expect((await doctor()).stdout).not.toContain('\x1b[');
    expect((await doctor([], { tty: true })).stdout).toContain('\x1b[32m✓\x1b[0m');
    expect((await doctor(['--no-color'], { tty: true })).stdout).not.toContain('\x1b[');
    // https://no-color.org: present and not empty (any value, "0" too); a terminal that has none.
    for (const env of [{ NO_COLOR: '1' }, { NO_COLOR: '0' }, { TERM: 'dumb' }])
      expect((await doctor([], { tty: true, env })).stdout).not.toContain('\x1b[');
    expect((await doctor([], { tty: true, env: { NO_COLOR: '' } })).stdout).toContain('\x1b[32m✓\x1b[0m');
  });

  // Doctor logged in with the secret's own pair: "use the password from the secret", the advice to
  // an app, is what it did. The Region first (the endpoint here is not named by one), then rotate.
  test('"535 Authentication Credentials Invalid": the Region, then a rotation that writes a matching pair', async () => {
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ ...CREDENTIALS, password: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }),
    });
    const r = await doctor();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ SMTP .*: auth: authentication rejected \(.*535.*\)/);
    const env = `--env prod --config ${shellWord(config)}`;
    expect(r.stdout).toContain(
      `    → the credentials are for ${CREDENTIALS.region} but the endpoint is 127.0.0.1, and SMTP passwords are per Region: log in at an endpoint of ${CREDENTIALS.region} (without --smtp-host, the Region's own); if 127.0.0.1 is one, the secret's password is not the SMTP password of its key (a secret edited by hand?), or SES refuses the key: ses-smtp rotate ${env} writes a new key with its password (apps then read it: ses-smtp env ${env})\n`,
    );
    expect(r.stdout + r.stderr).not.toContain('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
  });

  test('"connection timeout": the firewall advice (fake clock; the socket is real)', async () => {
    // A server that accepts TCP and never greets, like a filtered port behind a proxy.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const connected = new Promise<void>((resolve) => silent.once('connection', () => resolve()));
    // Only the timers: sockets, DNS queries and the promises between them run for real.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const port = (silent.address() as net.AddressInfo).port;
      let settled = false;
      // --smtp-timeout 2.5 (not the default 10; a fraction, as a local test server may want): the
      // check gives up at 2.5 s, not before.
      const pending = cli([
        'doctor',
        '--smtp-host',
        '127.0.0.1',
        '--smtp-port',
        String(port),
        '--smtp-timeout',
        '2.5',
        '--resolver',
        dns.address,
      ]).finally(() => (settled = true));
      // A doctor that ends before it connects settles `pending` instead: no wait for a connection.
      await Promise.race([connected, pending]);
      await jest.advanceTimersByTimeAsync(2_499);
      expect(settled).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(settled).toBe(true);
      const r = await pending;
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(
        /✗ SMTP 127\.0\.0\.1:\d+: .*connect: no answer from 127\.0\.0\.1:\d+ \(connection timeout\)/,
      );
      expect(r.stdout).toContain(
        `→ outbound port ${port} is probably blocked by a firewall, security group or your host (many block 25; some block 587): allow egress to 127.0.0.1:${port}, or use port 2587\n`,
      );
    } finally {
      jest.useRealTimers();
      silent.close();
    }
  });

  test('"going to spam": missing DKIM and MAIL FROM records are named with the fix', async () => {
    ses.on(GetEmailIdentityCommand, { EmailIdentity: 'example.com' }).resolves({
      VerifiedForSendingStatus: false,
      DkimAttributes: { Status: 'PENDING', Tokens: ['tokone', 'toktwo', 'tokthree'] },
      MailFromAttributes: {
        MailFromDomain: 'mail.example.com',
        MailFromDomainStatus: 'FAILED',
        BehaviorOnMxFailure: 'USE_DEFAULT_VALUE',
      },
    });
    delete dns.zone['tokthree._domainkey.example.com'];
    delete dns.zone['mail.example.com'];
    const r = await doctor();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✗ identity example.com not verified for sending: DKIM PENDING');
    expect(r.stdout).toContain('✗ Easy DKIM key 3 (CNAME tokthree._domainkey.example.com): not found in DNS');
    expect(r.stdout).toMatch(
      /✗ MAIL FROM domain mail\.example\.com not verified: status FAILED\n {4}→ .*SPF does not align/,
    );
  });

  test('two DMARC records are flagged', async () => {
    dns.zone['_dmarc.example.com'].TXT!.push(['v=DMARC1; p=none']);
    const r = await doctor();
    expect(r.stdout).toContain('✗ DMARC policy (TXT _dmarc.example.com): 2 DMARC records');
  });

  test('sandbox, pending review and a nearly used quota are reported', async () => {
    ses.on(GetAccountCommand).resolves({
      ProductionAccessEnabled: false,
      SendingEnabled: true,
      Details: { ReviewDetails: { Status: 'PENDING', CaseId: '1234' } },
      SendQuota: { Max24HourSend: 200, MaxSendRate: 1, SentLast24Hours: 190 },
    });
    const r = await doctor();
    expect(r.stdout).toContain(
      '! account is in the SES sandbox in eu-west-1: only verified recipients, at most 200 messages a day and 1 a second; production access request PENDING (case 1234)',
    );
    expect(r.stdout).toContain('✗ sending quota: 190 of 200 in the last 24 h (95 %), max 1 per second');
  });

  test('rates above the levels, stale rotation, sending paused', async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'm0', Values: [0.06] },
        { Id: 'm1', Values: [0.0007] },
      ],
    });
    sm.on(DescribeSecretCommand).resolves({
      RotationEnabled: true,
      LastRotatedDate: new Date(Date.now() - 120 * 86_400_000),
    });
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true, SendingEnabled: false });
    const r = await doctor();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✗ bounce rate at or above the critical level: 6.000 %');
    expect(r.stdout).toContain('! complaint rate at or above the warning level: 0.070 %');
    expect(r.stdout).toMatch(/! credentials older than the 90-day schedule: last .* \(120 days ago\)/);
    expect(r.stdout).toContain('✗ sending is disabled for the account');
  });

  test("a rate at a level counts, as the alarms' >= does; the highest hour of the last 24 h is the one read", async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'm0', Values: [0.01, 0.05, 0.02] },
        { Id: 'm1', Values: [0.0005] },
      ],
    });
    const now = Date.now();
    const r = await doctor();
    expect(r.stdout).toContain(
      '✗ bounce rate at or above the critical level: 5.000 % (warning 2 %, critical 5 %)',
    );
    expect(r.stdout).toContain(
      '! complaint rate at or above the warning level: 0.050 % (warning 0.05 %, critical 0.1 %)',
    );
    const rates = cw
      .commandCalls(GetMetricDataCommand)
      .map((c) => c.args[0].input)
      .filter((i) =>
        i.MetricDataQueries?.some((q) => q.MetricStat?.Metric?.MetricName === 'Reputation.BounceRate'),
      );
    expect(rates).toHaveLength(1);
    const [{ StartTime, EndTime, MetricDataQueries }] = rates;
    expect(EndTime!.getTime() - StartTime!.getTime()).toBe(86_400_000);
    expect(Math.abs(EndTime!.getTime() - now)).toBeLessThan(60_000);
    // The account's rates, then the configuration set's (the stack's own rate alarms watch those).
    expect(
      MetricDataQueries!.map((q) => [
        q.MetricStat?.Metric?.MetricName,
        q.MetricStat?.Metric?.Dimensions,
        q.MetricStat?.Period,
        q.MetricStat?.Stat,
      ]),
    ).toEqual([
      ['Reputation.BounceRate', [], 3600, 'Maximum'],
      ['Reputation.ComplaintRate', [], 3600, 'Maximum'],
      ...['Reputation.BounceRate', 'Reputation.ComplaintRate'].map((name) => [
        name,
        [{ Name: 'ses:configuration-set', Value: 'SendingFeedbackConfigurationSet-abc' }],
        3600,
        'Maximum',
      ]),
    ]);
    // No data for the set: the account's lines say what there is to say.
    expect(r.stdout).not.toContain('of configuration set');
  });

  // The account can be well within its levels while this environment's own mail is not (another
  // environment of the account sends more): the set's rate alarm would fire, and doctor says so.
  test("the configuration set's own rate over its level, the account's within: doctor fails on the set's", async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'm0', Values: [0.01] },
        { Id: 'm1', Values: [0.0001] },
        { Id: 'm2', Values: [0.06] },
      ],
    });
    const r = await doctor();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✓ bounce rate: 1.000 % (warning 2 %, critical 5 %)');
    expect(r.stdout).toContain(
      '✗ bounce rate of configuration set SendingFeedbackConfigurationSet-abc at or above the critical level: 6.000 % (warning 2 %, critical 5 %)',
    );
    expect(r.stdout).not.toContain('complaint rate of configuration set');
  });

  // After the SDK's retries, a throttle says nothing of the credentials or permissions.
  test('a read throttled, in a shared check or one of doctor\'s own: "could not run" says to run it again', async () => {
    ses.on(GetAccountCommand).rejects(throttling());
    cw.on(GetMetricDataCommand).rejects(throttling());
    const r = await doctor();
    expect(r.code).toBe(1);
    const again =
      '    → AWS throttled or failed the call, or the network did, after the retries: this says nothing of the environment; run the check again in a few minutes\n';
    expect(r.stdout).toContain(`✗ sending check could not run: ThrottlingException: Rate exceeded\n${again}`);
    expect(r.stdout).toContain(`✗ rates check could not run: ThrottlingException: Rate exceeded\n${again}`);
    expect(r.stdout).not.toContain('check the AWS credentials');
    expect(r.stdout).not.toContain('check your AWS credentials');
  });

  test('the shared checks: an app still on the previous key, a paused configuration set', async () => {
    iam.on(GetAccessKeyLastUsedCommand).resolves({
      AccessKeyLastUsed: {
        LastUsedDate: new Date(Date.now() - 86_400_000 - 60_000),
        ServiceName: 'ses',
        Region: 'eu-west-1',
      },
    });
    ses.on(GetConfigurationSetCommand).resolves({ SendingOptions: { SendingEnabled: false } });
    const r = await doctor();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      new RegExp(
        `! an app still sends with the previous key ${CREDENTIALS.username}: last used with ses in eu-west-1 at .* \\(1 day ago\\), over 2 hours after the current credentials replaced it at .*\n {4}→ find the app whose SMTP username is ${CREDENTIALS.username}`,
      ),
    );
    expect(r.stdout).toContain(
      '✗ sending is disabled for the configuration set SendingFeedbackConfigurationSet-abc',
    );
    expect(iam.commandCalls(GetAccessKeyLastUsedCommand)[0].args[0].input).toEqual({
      AccessKeyId: CREDENTIALS.username,
    });
    neverLeaks(r.stdout + r.stderr);
  });
});

// Changed outside CloudFormation, neither comes back with a deploy: doctor gives the AWS CLI call.
describe('doctor: the ECS services restarted after each rotation', () => {
  const WEB = 'arn:aws:ecs:eu-west-1:123456789012:service/prod/web';
  const WROKER = 'arn:aws:ecs:eu-west-1:123456789012:service/prod/wroker'; // a typo
  const described = () => ({
    services: [{ serviceName: 'web', serviceArn: WEB, status: 'ACTIVE' }],
    failures: [{ arn: WROKER, reason: 'MISSING' }],
  });

  test('credentials.restartEcsServices of the file: one missing fails, naming its ARN (exit 1)', async () => {
    config = writeConfig({ credentials: { restartEcsServices: [WEB, WROKER] } });
    ecsMock.on(DescribeServicesCommand).resolves(described());
    const r = await cli(['doctor', ...local()]);
    expect(ecsMock.commandCalls(DescribeServicesCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', services: ['web', 'wroker'] },
    ]);
    expect(r.stdout).toContain(`✓ ECS service ${WEB} is ACTIVE (restarted after each rotation)\n`);
    expect(r.stdout).toContain(
      `✗ ECS service ${WROKER} does not exist: nothing is restarted for it after a rotation, and the app's tasks keep the previous SMTP key, which the next rotation deletes: DescribeServices: MISSING\n`,
    );
    expect(r.stdout).toMatch(
      /→ no service wroker in cluster prod: correct its ARN in credentials\.restartEcsServices/,
    );
    expect(r.code).toBe(1);
  });

  test("a stack of your own: the services of the health function's settings", async () => {
    const home = process.cwd();
    process.chdir(fs.mkdtempSync(path.join(tmp, 'app-'))); // no environments file
    try {
      stackWithOutputs('Mail', {
        MailSmtpSecretArn46B3BB99: SECRET_ARN,
        MailIdentityName5EBAFF55: 'example.com',
        MailConfigurationSetName8276147A: CONFIGURATION_SET,
        MailHealthCheckFunctionName0F1E2D3C: HEALTH_FUNCTION,
      });
      healthFunction({ ...HEALTH_TARGET, ecsServices: [WEB, WROKER] });
      ecsMock.on(DescribeServicesCommand).resolves(described());
      const r = await run(['doctor', ...local(), '--stack', 'Mail', '--region', 'eu-west-1']);
      expect(r.stdout).toContain(`✗ ECS service ${WROKER} does not exist`);
      expect(r.code).toBe(1);
    } finally {
      process.chdir(home);
    }
  });
});

describe("doctor: the configuration set's reputation metrics and event destination", () => {
  const doctor = (extra: string[] = []) => cli(['doctor', ...local(), ...extra]);

  test('reputation metrics off and the destination disabled: two failures, each with its call; exit 1', async () => {
    ses.on(GetConfigurationSetCommand).resolves({
      SendingOptions: { SendingEnabled: true },
      ReputationOptions: { ReputationMetricsEnabled: false },
    });
    ses
      .on(GetConfigurationSetEventDestinationsCommand)
      .resolves({ EventDestinations: [{ ...FEEDBACK_DESTINATION, Enabled: false }] });
    const r = await doctor();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `✗ SES collects no reputation metrics for the configuration set ${CONFIGURATION_SET}: its bounce and complaint rate alarms stay OK whatever the rates: changed outside the stack: a deploy of the unchanged template does not change it back\n` +
        `    → aws sesv2 put-configuration-set-reputation-options --configuration-set-name ${CONFIGURATION_SET} --reputation-metrics-enabled --region eu-west-1\n`,
    );
    expect(r.stdout).toContain(
      `✗ event destination ${FEEDBACK_DESTINATION.Name} of the configuration set ${CONFIGURATION_SET} is disabled: no bounce or complaint reaches the feedback handler or the app`,
    );
    expect(r.stdout).toContain(
      `    → aws sesv2 update-configuration-set-event-destination --configuration-set-name ${CONFIGURATION_SET} --event-destination-name ${FEEDBACK_DESTINATION.Name} --event-destination '{"Enabled":true,"MatchingEventTypes":["BOUNCE","COMPLAINT"],"SnsDestination":{"TopicArn":"${FEEDBACK_TOPIC_ARN}"}}' --region eu-west-1\n`,
    );
    expect(ses.commandCalls(GetConfigurationSetEventDestinationsCommand)[0].args[0].input).toEqual({
      ConfigurationSetName: CONFIGURATION_SET,
    });
  });

  test('--json: the destination deleted is a failed result of its own, with the call that creates it', async () => {
    ses.on(GetConfigurationSetEventDestinationsCommand).resolves({ EventDestinations: [] });
    const r = await doctor(['--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.ok).toBe(false);
    const failed = doc.checks.filter((c: { status: string }) => c.status === 'fail');
    expect(failed).toEqual([
      expect.objectContaining({
        id: 'event-destination',
        title: `the configuration set ${CONFIGURATION_SET} has no SNS event destination: no bounce or complaint reaches the feedback handler or the app`,
        fix: expect.stringMatching(
          /^recreate it under the name CloudFormation gave it \(NAME: aws cloudformation list-stack-resources --stack-name SesSmtp-prod .*\), with TOPIC_ARN the stack's FeedbackTopicArn output .*: aws sesv2 create-configuration-set-event-destination --configuration-set-name .* --event-destination-name NAME .* --region eu-west-1$/,
        ),
      }),
    ]);
  });

  // Not "could not tell": a role without ses:GetConfigurationSetEventDestinations fails.
  test('the destinations read refused: the sending check could not run, exit 1', async () => {
    ses.on(GetConfigurationSetEventDestinationsCommand).rejects(
      Object.assign(new Error('not authorized to perform: ses:GetConfigurationSetEventDestinations'), {
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const r = await doctor();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '✗ sending check could not run: AccessDeniedException: not authorized to perform: ses:GetConfigurationSetEventDestinations\n',
    );
  });
});

describe('doctor and dns for a stack of your own: the settings of its health-check function', () => {
  const home = process.cwd();
  const own = (args: string[]) => run([...args, '--stack', 'Mail', '--region', 'eu-west-1']);
  /** The outputs of a SesSmtp "Mail" in a stack of your own "Mail" (test/ses-smtp.test.ts: their shape). */
  const OUTPUTS = {
    MailSmtpSecretArn46B3BB99: SECRET_ARN,
    MailIdentityName5EBAFF55: 'example.com',
    MailConfigurationSetName8276147A: CONFIGURATION_SET,
    MailHealthCheckFunctionName0F1E2D3C: HEALTH_FUNCTION,
  };
  beforeAll(() => process.chdir(fs.mkdtempSync(path.join(tmp, 'app-')))); // no environments file
  afterAll(() => process.chdir(home));
  beforeEach(() => {
    stackWithOutputs('Mail', OUTPUTS);
    healthFunction();
  });

  test('doctor --stack Mail --region eu-west-1: the checks run with the function’s settings', async () => {
    healthFunction({ ...HEALTH_TARGET, expectProductionAccess: false });
    ses.on(GetAccountCommand).resolves({
      ProductionAccessEnabled: false,
      SendingEnabled: true,
      SendQuota: { Max24HourSend: 200, MaxSendRate: 1, SentLast24Hours: 12 },
    });
    const r = await own(['doctor', ...local()]);
    expect(r.stderr).not.toMatch(/^ses-smtp:/m);
    expect(r.code).toBe(0);
    const [read] = lambda.commandCalls(GetFunctionConfigurationCommand);
    expect(read.args[0].input).toEqual({ FunctionName: HEALTH_FUNCTION });
    expect(await (read.thisValue as LambdaClient).config.region()).toBe('eu-west-1');
    for (const text of [
      '✓ identity example.com verified for sending',
      '✓ DMARC policy (TXT _dmarc.example.com)',
      // The function's expectProductionAccess false: the sandbox is reported, not failed.
      '· account is in the SES sandbox in eu-west-1',
      `✓ SMTP 127.0.0.1:${smtp.port}: connect, STARTTLS, AUTH with the current credentials: user ${CREDENTIALS.username}`,
      '✓ credentials rotate every 90 days',
      // The alarm levels are not among the function's settings: the rates are reported as they are.
      "· bounce rate: 0.400 % (its warning and critical levels are in the account's reputation alarms)",
    ]) {
      expect(r.stdout).toContain(text);
    }
    expect(ses.commandCalls(GetConfigurationSetCommand)[0].args[0].input).toEqual({
      ConfigurationSetName: CONFIGURATION_SET,
    });
    neverLeaks(r.stdout + r.stderr);
    const json = JSON.parse((await own(['doctor', '--json', ...local()])).stdout);
    expect(json).toMatchObject({ environment: 'prod', region: 'eu-west-1', ok: true });
  });

  test("doctor's fixes name the stack as doctor was given it, not as the function's settings do", async () => {
    healthFunction({ ...HEALTH_TARGET, cliOptions: '--stack FromTheFunction --region eu-west-1' });
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: false, SendingEnabled: true });
    const r = await own(['doctor', '--secret-id', SECRET_ARN, ...local()]);
    expect(r.stdout).toContain(
      `    → run: ses-smtp request-production-access --stack Mail --secret-id ${SECRET_ARN} --region eu-west-1 (meanwhile`,
    );
  });

  test('dns --check compares live DNS with the function’s records; dns prints them without a TTL', async () => {
    const check = await own(['dns', '--check', '--resolver', dns.address]);
    expect(check.stderr).not.toMatch(/^ses-smtp:/m);
    expect(check.stdout.match(/✓/g)).toHaveLength(6);
    expect(check.code).toBe(0);

    // A DMARC policy of the function's own: the record it expects follows it.
    healthFunction({
      ...HEALTH_TARGET,
      dns: { ...HEALTH_TARGET.dns, dmarc: { ...HEALTH_TARGET.dns.dmarc, policy: 'reject' } },
    });
    const differs = await own(['dns', '--check', '--resolver', dns.address]);
    expect(differs.code).toBe(1);
    expect(differs.stdout).toMatch(/✗ DMARC policy \(TXT _dmarc\.example\.com\).*\n.*p=reject/);

    const printed = await own(['dns']);
    expect(printed.code).toBe(0);
    expect(printed.stdout.split('\n').slice(0, 3)).toEqual([
      '; example.com: records for SES (stack Mail)',
      "; no TTL: ttlSeconds is not among the health-check function's settings; the zone's $TTL applies, or else the TTL of the record before them",
      'tokone._domainkey.example.com. IN CNAME tokone.dkim.amazonses.com.',
    ]);
    expect(printed.stdout).toContain('_dmarc.example.com. IN TXT "v=DMARC1; p=reject;');
    expect(JSON.parse((await own(['dns', '--json'])).stdout)).toMatchObject({
      domain: 'example.com',
      ttl: null,
    });
  });

  test('--identity and --secret-id win over the function’s settings, as over the stack’s outputs', async () => {
    ses.on(GetEmailIdentityCommand, { EmailIdentity: 'other.example' }).resolves({
      DkimAttributes: { Status: 'SUCCESS', Tokens: ['tokother'], SigningEnabled: true },
    });
    const printed = await own(['dns', '--identity', 'Other.Example.']);
    expect(printed.stdout.split('\n')[0]).toBe('; other.example: records for SES (stack Mail)');
    const other = `${SECRET_ARN}x`;
    await own(['doctor', '--secret-id', other, ...local()]);
    // The shared checks (the rotation schedule's DescribeSecret) as well as doctor's own SMTP login.
    const read = sm.calls().map((c) => (c.args[0].input as { SecretId?: string }).SecretId);
    expect(read.length).toBeGreaterThan(1);
    expect(new Set(read)).toEqual(new Set([other]));
  });

  test('a function the output names but Lambda does not have, or whose variables Lambda cannot read: one line, exit 2', async () => {
    lambda.on(GetFunctionConfigurationCommand).rejects(
      Object.assign(new Error(`Function not found: ${HEALTH_FUNCTION}`), {
        name: 'ResourceNotFoundException',
      }),
    );
    expect(await own(['doctor'])).toMatchObject({
      code: 2,
      stderr: `ses-smtp: the stack's output HealthCheckFunctionName names function ${HEALTH_FUNCTION}, which does not exist in eu-west-1: deploy the stack again (npx cdk deploy with the id of stack Mail in your CDK app; npx cdk ls lists them)\n`,
    });
    lambda.on(GetFunctionConfigurationCommand).resolves({
      FunctionName: HEALTH_FUNCTION,
      Environment: {
        Error: { ErrorCode: 'KMSAccessDeniedException', Message: 'Lambda was unable to decrypt' },
      },
    });
    expect(await own(['dns'])).toMatchObject({
      code: 2,
      stderr: `ses-smtp: health-check function ${HEALTH_FUNCTION} of stack Mail: Lambda could not read its environment variables (KMSAccessDeniedException: Lambda was unable to decrypt); check the function's KMS key, or deploy the stack again (npx cdk deploy with the id of stack Mail in your CDK app; npx cdk ls lists them)\n`,
    });
  });

  test('a read of the function that Lambda refuses is not taken for a function that does not exist', async () => {
    lambda.on(GetFunctionConfigurationCommand).rejects(
      Object.assign(new Error('not authorized to perform: lambda:GetFunctionConfiguration'), {
        name: 'AccessDeniedException',
      }),
    );
    expect(await own(['dns'])).toMatchObject({
      code: 1,
      stderr:
        'ses-smtp: dns failed: not authorized to perform: lambda:GetFunctionConfiguration (set SES_SMTP_DEBUG=1 for details)\n',
    });
  });

  test.each([['doctor'], ['dns', '--check']])(
    '%s for a stack without a health-check function (health.enabled false): one line with what to do, exit 2',
    async (...command) => {
      const { MailHealthCheckFunctionName0F1E2D3C: _none, ...withoutFunction } = OUTPUTS;
      stackWithOutputs('Mail', withoutFunction);
      const r = await own(command);
      expect(r.stderr).toBe(
        `ses-smtp: stack Mail has no output HealthCheckFunctionName: it has no health-check function, whose settings ${command[0]} reads without an environments file; deploy the stack with this version and health.enabled true (the default), or run ${command[0]} where the environments file is (or pass --config PATH)\n`,
      );
      expect(r.code).toBe(2);
      expect(lambda.calls()).toHaveLength(0);
      expect(ses.calls()).toHaveLength(0);
    },
  );

  test('a function whose settings do not parse: one line naming the field, exit 2', async () => {
    healthFunction({ ...HEALTH_TARGET, identity: '' });
    const r = await own(['doctor']);
    expect(r.stderr).toBe(
      `ses-smtp: health-check function ${HEALTH_FUNCTION} of stack Mail: HEALTH_TARGET.identity must be a non-empty string, got: ""; deploy the stack again (npx cdk deploy with the id of stack Mail in your CDK app; npx cdk ls lists them)\n`,
    );
    expect(r.code).toBe(2);
    expect(ses.calls()).toHaveLength(0);
  });

  test('a stack that does not exist, or holds two SesSmtp constructs: one line each, exit 2', async () => {
    stackWithOutputs('Other', OUTPUTS);
    expect(await own(['doctor'])).toMatchObject({
      code: 2,
      stderr:
        'ses-smtp: stack Mail not found in eu-west-1: deploy it (npx cdk deploy with the id of stack Mail in your CDK app; npx cdk ls lists them), or pass the --stack and --region where it lives\n',
    });
    stackWithOutputs('Mail', { ...OUTPUTS, OtherSmtpSecretArn0A1B2C3D: `${SECRET_ARN}x` });
    expect((await own(['dns'])).stderr).toBe(
      "ses-smtp: stack Mail holds 2 SesSmtp constructs (Mail, Other): which one's settings dns should read is not known; without an environments file (--config PATH) it works on a stack with one SesSmtp construct\n",
    );
    expect(lambda.calls()).toHaveLength(0);
  });

  // The SMTP login reads the secret's ARN from the stack's outputs (the function's settings are for the shared checks).
  test("a usage error inside a check of doctor's own (a stack without the output SmtpSecretArn): one line, exit 2", async () => {
    // The keys of the environments-file app's stack: the names without a hash.
    stackWithOutputs('Mail', { IdentityName: 'example.com', HealthCheckFunctionName: HEALTH_FUNCTION });
    const r = await own(['doctor', ...local()]);
    // One line after the progress lines (stderr is where they go).
    expect(r.stderr.match(/^ses-smtp: .*$/gm)).toEqual([
      'ses-smtp: stack Mail has no output SmtpSecretArn: redeploy it with this version, or pass --secret-id',
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).not.toContain('smtp check');
  });

  test('with an environments file (--config), the file stays the source: no function is read', async () => {
    const r = await run(['dns', '--config', config, '--stack', 'Mail']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('mail.example.com. 3600 IN MX 10 feedback-smtp.eu-west-1.amazonses.com.');
    expect(lambda.calls()).toHaveLength(0);
  });
});

// Every alarm publishes to the operator topic: with no confirmed subscription it reaches nobody.
describe('doctor: someone receives the alarms', () => {
  const line = async () => {
    const r = await cli(['doctor', ...local()]);
    return {
      ...r,
      line: r.stdout.match(/^(.) .*the alarms reach.*$/m)?.[0],
      fix: r.stdout.match(/^ +→ .*aws sns subscribe.*$/m)?.[0],
    };
  };
  const subscriptions = (...list: { SubscriptionArn: string; Protocol: string; Endpoint: string }[]) =>
    sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: list });

  test('a confirmed subscription: ✓, naming it', async () => {
    const r = await line();
    expect(r.line).toBe(
      '✓ the alarms reach someone (a confirmed subscription to the operator topic): email ops@example.com',
    );
    expect(sns.commandCalls(ListSubscriptionsByTopicCommand)[0].args[0].input.TopicArn).toBe(ALARM_TOPIC_ARN);
  });

  test('no subscription: a warning with how to subscribe; doctor still passes', async () => {
    subscriptions();
    const r = await line();
    expect(r.line).toBe('! the alarms reach nobody: the operator topic has no subscription');
    expect(r.fix).toContain(
      `set alarms.emails and deploy (then confirm the email AWS sends), or subscribe: aws sns subscribe --topic-arn ${ALARM_TOPIC_ARN} --protocol email --notification-endpoint YOU@EXAMPLE.COM --region eu-west-1`,
    );
    expect(r.code).toBe(0);
  });

  test('only subscriptions waiting for confirmation: a warning naming them', async () => {
    subscriptions(
      { SubscriptionArn: 'PendingConfirmation', Protocol: 'email', Endpoint: 'ops@example.com' },
      { SubscriptionArn: 'PendingConfirmation', Protocol: 'email', Endpoint: 'oncall@example.com' },
    );
    const r = await line();
    expect(r.line).toBe(
      '! the alarms reach nobody yet: 2 subscription(s) of the operator topic wait for confirmation: email ops@example.com, email oncall@example.com',
    );
    // SNS deletes a subscription pending for 48 hours (May 2023): the link does not last longer.
    expect(r.fix).toMatch(
      /open the link in the email AWS sent each address \(SNS deletes a subscription still pending after 48 hours\), or subscribe again: /,
    );
  });

  test('a page token: every page is read', async () => {
    sns
      .on(ListSubscriptionsByTopicCommand)
      .resolvesOnce({
        Subscriptions: [
          { SubscriptionArn: 'PendingConfirmation', Protocol: 'email', Endpoint: 'a@example.com' },
        ],
        NextToken: 't',
      })
      .resolves({
        Subscriptions: [
          {
            SubscriptionArn: `${ALARM_TOPIC_ARN}:1`,
            Protocol: 'https',
            Endpoint: 'https://hooks.example.com/x',
          },
        ],
      });
    expect((await line()).line).toBe(
      '✓ the alarms reach someone (a confirmed subscription to the operator topic): https https://hooks.example.com/...',
    );
  });

  // A pager's URL holds its integration key: the origin says where the alarms go.
  test("an HTTPS subscription is shown by its origin, without the pager's key in its path or query", async () => {
    subscriptions(
      {
        SubscriptionArn: `${ALARM_TOPIC_ARN}:1`,
        Protocol: 'https',
        Endpoint: 'https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue',
      },
      {
        SubscriptionArn: `${ALARM_TOPIC_ARN}:2`,
        Protocol: 'https',
        Endpoint: 'https://api.opsgenie.com/v1/json/cloudwatch?apiKey=eb243592-faa2-4ba2-a551q-1afdf565c889',
      },
      { SubscriptionArn: `${ALARM_TOPIC_ARN}:3`, Protocol: 'https', Endpoint: 'https://pager.example.com' },
    );
    const r = await line();
    expect(r.line).toBe(
      '✓ the alarms reach someone (a confirmed subscription to the operator topic): https https://events.pagerduty.com/..., https https://api.opsgenie.com/..., https https://pager.example.com',
    );
  });

  test('not allowed to list them: "could not tell", naming the action', async () => {
    sns
      .on(ListSubscriptionsByTopicCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AuthorizationErrorException' }));
    const r = await cli(['doctor', ...local()]);
    expect(r.stdout).toContain(
      `· the alarms reach someone (a confirmed subscription to the operator topic): could not tell: AuthorizationErrorException (it reads sns:ListSubscriptionsByTopic on ${ALARM_TOPIC_ARN})`,
    );
  });
});

// The webhook check needs the topic the app's webhook subscribes to: the stack's output, read here.
describe("doctor: the app's webhook (feedback.webhookUrl)", () => {
  const URL = 'https://app.example.com/ses-feedback';
  const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:SesSmtp-prod-WebhookFeedbackTopic-EXAMPLE';

  test("the subscription is read on the topic of the stack's output WebhookFeedbackTopicArn", async () => {
    config = writeConfig({ feedback: { webhookUrl: URL } });
    stackWithOutputs('SesSmtp-prod', {
      SmtpSecretArn: SECRET_ARN,
      IdentityName: 'example.com',
      ConfigurationSetName: CONFIGURATION_SET,
      OperatorAlarmTopicArn: ALARM_TOPIC_ARN,
      WebhookFeedbackTopicArn: TOPIC,
    });
    sns
      .on(ListSubscriptionsByTopicCommand, { TopicArn: TOPIC })
      .resolves({ Subscriptions: [{ SubscriptionArn: `${TOPIC}:1`, Protocol: 'https', Endpoint: URL }] });
    const r = await cli(['doctor', ...local()]);
    expect(r.stdout).toContain(
      "✓ the app's webhook https://app.example.com/... gets the bounces and complaints (a confirmed subscription to its topic)",
    );
  });
});

describe('doctor: the CloudTrail trail the RotationFailed events need', () => {
  const doctor = () => cli(['doctor', ...local()]);
  const TRAIL_LINE = /^(.) .*CloudTrail trail.*$/m;
  const trailLine = async () => {
    const r = await doctor();
    return { ...r, line: r.stdout.match(TRAIL_LINE)?.[0] };
  };
  const OTHER_ARN = 'arn:aws:cloudtrail:eu-west-1:123456789012:trail/audit';
  /** The account has these trails (name, and what DescribeTrails says of them). */
  const trails = (
    ...list: { Name: string; TrailARN: string; HomeRegion: string; IsMultiRegionTrail?: boolean }[]
  ) => trail.on(DescribeTrailsCommand).resolves({ trailList: list });

  test('no trail: a warning that names what then still watches a rotation; doctor still passes', async () => {
    trails();
    const r = await trailLine();
    expect(r.line).toBe(
      "! no CloudTrail trail records eu-west-1's management events: a failed rotation sends no RotationFailed event",
    );
    expect(r.stdout).toMatch(
      /→ create a trail that logs management events .* error alarm and the daily credentials check/,
    );
    expect(r.code).toBe(0);
  });

  test('a trail that is not logging, or that records read events only, does not count; each is named', async () => {
    trails({ Name: 'stopped', TrailARN: OTHER_ARN, HomeRegion: 'eu-west-1' }, MANAGEMENT_TRAIL);
    trail.on(GetTrailStatusCommand, { Name: OTHER_ARN }).resolves({ IsLogging: false });
    trail
      .on(GetEventSelectorsCommand, { TrailName: TRAIL_ARN })
      .resolves({ EventSelectors: [{ ReadWriteType: 'ReadOnly', IncludeManagementEvents: true }] });
    const r = await doctor();
    expect(r.stdout).toContain(
      "! no CloudTrail trail records eu-west-1's management events: a failed rotation sends no RotationFailed event: trails: stopped (not logging), management-events (no write management events)",
    );
  });

  /** One advanced event selector of these field selectors. */
  const advanced = (...FieldSelectors: { Field: string; Equals?: string[]; NotEquals?: string[] }[]) => ({
    AdvancedEventSelectors: [{ FieldSelectors }],
  });
  const management = { Field: 'eventCategory', Equals: ['Management'] };
  test.each([
    [
      'basic, management events off',
      { EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: false }] },
      '!',
    ],
    [
      'basic, write-only',
      { EventSelectors: [{ ReadWriteType: 'WriteOnly', IncludeManagementEvents: true }] },
      '✓',
    ],
    ['basic, no selector at all', { EventSelectors: [] }, '!'],
    ['advanced, management', advanced(management), '✓'],
    ['advanced, management writes', advanced(management, { Field: 'readOnly', Equals: ['false'] }), '✓'],
    ['advanced, management reads only', advanced(management, { Field: 'readOnly', Equals: ['true'] }), '!'],
    [
      'advanced, management minus the writes',
      advanced(management, { Field: 'readOnly', NotEquals: ['false'] }),
      '!',
    ],
    [
      'advanced, management minus the reads',
      advanced(management, { Field: 'readOnly', NotEquals: ['true'] }),
      '✓',
    ],
    [
      'advanced, data events only',
      advanced(
        { Field: 'eventCategory', Equals: ['Data'] },
        { Field: 'resources.type', Equals: ['AWS::S3::Object'] },
      ),
      '!',
    ],
  ])('event selectors: %s', async (_, selectors, mark) => {
    trail.on(GetEventSelectorsCommand, { TrailName: TRAIL_ARN }).resolves(selectors as object);
    expect((await trailLine()).line?.[0]).toBe(mark);
  });

  test('an organization trail is asked by its full ARN; a single-Region trail of another Region is skipped', async () => {
    const elsewhere = 'arn:aws:cloudtrail:us-west-2:123456789012:trail/oregon';
    trails({ Name: 'oregon', TrailARN: elsewhere, HomeRegion: 'us-west-2' }, MANAGEMENT_TRAIL);
    expect((await trailLine()).line?.[0]).toBe('✓');
    expect(trail.commandCalls(GetTrailStatusCommand).map((c) => c.args[0].input.Name)).toEqual([TRAIL_ARN]);
  });

  test('no permission to read trails: "could not tell", naming the error and the actions; doctor still passes', async () => {
    trail
      .on(DescribeTrailsCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    const r = await trailLine();
    expect(r.line).toBe(
      "· a CloudTrail trail records eu-west-1's management events (RotationFailed reaches EventBridge): could not tell: AccessDeniedException (it reads cloudtrail:DescribeTrails, GetTrailStatus, GetEventSelectors)",
    );
    expect(r.code).toBe(0);
  });

  test('a trail whose selectors cannot be read: "could not tell", not a warning', async () => {
    trail
      .on(GetEventSelectorsCommand)
      .rejects(Object.assign(new Error('no'), { name: 'AccessDeniedException' }));
    expect((await trailLine()).line).toBe(
      "· a CloudTrail trail records eu-west-1's management events (RotationFailed reaches EventBridge): could not tell: trails: management-events (AccessDeniedException)",
    );
  });
});

describe('request-production-access', () => {
  beforeEach(() => {
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: false, SendingEnabled: true });
    ses.on(PutAccountDetailsCommand).resolves({});
  });

  test('shows the request built from config and sends it after --yes', async () => {
    const r = await cli(['request-production-access', '--yes', '--contact', 'ops@example.com']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  website:     https://example.com');
    const [call] = ses.commandCalls(PutAccountDetailsCommand);
    expect(call.args[0].input).toMatchObject({
      MailType: 'TRANSACTIONAL',
      WebsiteURL: 'https://example.com',
      ContactLanguage: 'EN',
      AdditionalContactEmailAddresses: ['ops@example.com'],
      ProductionAccessEnabled: true,
      UseCaseDescription: expect.stringContaining('transactional email only'),
    });
  });

  test('without --contact the request carries no contact list (SES takes 1 to 4 addresses, not an empty list)', async () => {
    const r = await cli(['request-production-access', '--yes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  contacts:    (account contacts only)');
    const [call] = ses.commandCalls(PutAccountDetailsCommand);
    expect(call.args[0].input.AdditionalContactEmailAddresses).toBeUndefined();
  });

  test('the most SES takes: an http:// site in any letter case, four more contacts; a fifth is refused', async () => {
    const contacts = ['a', 'b', 'c', 'd'].flatMap((c) => ['--contact', `${c}@example.com`]);
    const r = await cli([
      'request-production-access',
      '-y',
      '--website-url',
      'HTTP://example.com',
      ...contacts,
    ]);
    expect(r.code).toBe(0);
    expect(ses.commandCalls(PutAccountDetailsCommand)[0].args[0].input).toMatchObject({
      WebsiteURL: 'HTTP://example.com',
      AdditionalContactEmailAddresses: ['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com'],
    });
    const five = await cli(['request-production-access', '-y', ...contacts, '--contact', 'e@example.com']);
    expect([five.code, five.stderr]).toEqual([
      2,
      'ses-smtp: --contact: got 5 addresses, expected at most 4\n',
    ]);
    expect(ses.commandCalls(PutAccountDetailsCommand)).toHaveLength(1);
  });

  test('flags replace the defaults', async () => {
    await cli([
      'request-production-access',
      '-y',
      '--mail-type',
      'marketing',
      '--website-url',
      'https://shop.example.com',
      '--use-case',
      'Our text.',
      '--language',
      'ja',
    ]);
    expect(ses.commandCalls(PutAccountDetailsCommand)[0].args[0].input).toMatchObject({
      MailType: 'MARKETING',
      WebsiteURL: 'https://shop.example.com',
      UseCaseDescription: 'Our text.',
      ContactLanguage: 'JA',
    });
  });

  test('--website-url takes the scheme in any letter case (RFC 3986 §3.1) and an "@" in its path, a contact a non-ASCII domain', async () => {
    const r = await cli([
      'request-production-access',
      '--yes',
      '--website-url',
      'HTTPS://Shop.example.com/@shop?from=a@b',
      '--contact',
      'ops@bücher.example',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(ses.commandCalls(PutAccountDetailsCommand)[0].args[0].input).toMatchObject({
      WebsiteURL: 'HTTPS://Shop.example.com/@shop?from=a@b',
      AdditionalContactEmailAddresses: ['ops@xn--bcher-kva.example'],
    });
  });

  test('a contact with a quoted local part (RFC 5321), as the config accepts it', async () => {
    const r = await cli(['request-production-access', '--yes', '--contact', '"john doe"@example.com']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(ses.commandCalls(PutAccountDetailsCommand)[0].args[0].input).toMatchObject({
      AdditionalContactEmailAddresses: ['"john doe"@example.com'],
    });
  });

  test('asks first; "no" sends nothing', async () => {
    const r = await cli(['request-production-access'], { answer: false });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('ses-smtp: not sent (request-production-access not confirmed)\n');
    const json = await cli(['request-production-access', '--json'], { answer: false });
    expect([json.code, JSON.parse(json.stdout)]).toEqual([
      1,
      { ok: false, error: 'not sent (request-production-access not confirmed)' },
    ]);
    expect(ses.commandCalls(PutAccountDetailsCommand)).toHaveLength(0);
    const yes = await cli(['request-production-access'], { answer: true });
    expect(yes.code).toBe(0);
    expect(ses.commandCalls(PutAccountDetailsCommand)).toHaveLength(1);
  });

  test('an account already in production sends nothing', async () => {
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true });
    const r = await cli(['request-production-access', '--yes']);
    expect(r.stdout).toContain('already has production access');
    expect(ses.commandCalls(PutAccountDetailsCommand)).toHaveLength(0);
  });

  // SES refuses a second request while one is under review (ConflictException).
  test('a request under review: says so, with its case, and sends nothing', async () => {
    ses.on(GetAccountCommand).resolves({
      ProductionAccessEnabled: false,
      Details: { ReviewDetails: { Status: 'PENDING', CaseId: '1234' } },
    });
    const r = await cli(['request-production-access', '--yes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      '! a production access request for eu-west-1 is under review (case 1234)\n    → AWS answers it in the Support Center case (answer its questions there); a second request is refused until then\n',
    );
    expect(ses.commandCalls(PutAccountDetailsCommand)).toHaveLength(0);
  });

  // The same generic text again would be denied again: AWS wants its case's questions answered.
  test('after a DENIED request the default text is not sent again; with --use-case it is', async () => {
    ses.on(GetAccountCommand).resolves({
      ProductionAccessEnabled: false,
      Details: { ReviewDetails: { Status: 'DENIED', CaseId: '5678' } },
    });
    const r = await cli(['request-production-access', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '✗ the last production access request for eu-west-1 was DENIED (case 5678): not sent again with the default text',
    );
    expect(r.stdout).toContain(
      "→ read AWS's reasons in that Support Center case, then ask again in your own words with --use-case TEXT",
    );
    expect(ses.commandCalls(PutAccountDetailsCommand)).toHaveLength(0);
    const own = await cli([
      'request-production-access',
      '--yes',
      '--use-case',
      'Password resets and receipts to signed-up users only, about 2000 a day; bounces and complaints are suppressed automatically.',
    ]);
    expect(own.code).toBe(0);
    expect(ses.commandCalls(PutAccountDetailsCommand)).toHaveLength(1);
  });

  test('after a FAILED request (AWS did not receive it) the request goes again as it was', async () => {
    ses.on(GetAccountCommand).resolves({
      ProductionAccessEnabled: false,
      Details: { ReviewDetails: { Status: 'FAILED', CaseId: '5679' } },
    });
    const r = await cli(['request-production-access', '--yes']);
    expect(r.code).toBe(0);
    expect(ses.commandCalls(PutAccountDetailsCommand)).toHaveLength(1);
  });

  test.each<[string[], RegExp]>([
    [['--mail-type', 'bulk'], /--mail-type: got "bulk", expected one of: TRANSACTIONAL, MARKETING/],
    [['--website-url', 'example.com'], /--website-url: got "example.com", expected an http\(s\):\/\/ URL/],
    // Sent to AWS's reviewers: no credentials, and the line does not repeat the password.
    [
      ['--website-url', 'https://admin:S3cr3t@www.example.com/'],
      /^ses-smtp: --website-url: got "https:\/\/admin:\*\*\*@www\.example\.com\/", expected the URL of your public site, without a user name or password \(SES sends it to AWS's reviewers\)\n$/,
    ],
    [
      ['--website-url', 'https://admin@www.example.com/'],
      /--website-url: got "https:\/\/admin@www\.example\.com\/", expected the URL of your public site, without a user name or password/,
    ],
    [['--website-url', 'https://admin:S3cr3t@ www.example.com/'], /got "https:\/\/admin:\*\*\*@ www/],
    // A generated password with a "/": no valid URL, still a password, still refused and hidden.
    [
      ['--website-url', 'https://admin:S3/cr3t@www.example.com/'],
      /^ses-smtp: --website-url: got "https:\/\/admin:\*\*\*@www\.example\.com\/", expected the URL of your public site/,
    ],
    [['--contact', 'ops'], /--contact: got "ops", expected an email address/],
    [
      ['--contact', 'ops..team@example.com'],
      /--contact: got "ops\.\.team@example\.com", expected an email address/,
    ],
    [
      ['--use-case', ' \n '],
      /^ses-smtp: --use-case: got " \\n ", expected the text of the use case \(leave it out for the default\)\n$/,
    ],
  ])('bad %j: exit 2, before any AWS call', async (flags, message) => {
    const r = await cli(['request-production-access', '--yes', ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expectNoAwsCalls();
  });

  test('a use case or a website URL longer than SES takes: one line with the length, exit 2, before any AWS call', async () => {
    const useCase = await cli(['request-production-access', '--yes', '--use-case', 'ü'.repeat(5001)]);
    expect(useCase.stderr).toBe(
      'ses-smtp: --use-case: got 5001 characters, expected at most 5000 (what SES takes)\n',
    );
    expect(useCase.code).toBe(2);
    const url = `https://example.com/${'x'.repeat(981)}`;
    const website = await cli(['request-production-access', '--yes', '--website-url', url]);
    expect(website.stderr).toBe(
      'ses-smtp: --website-url: got 1001 characters, expected at most 1000 (what SES takes)\n',
    );
    expect(website.code).toBe(2);
    expectNoAwsCalls();
  });

  test('a use case and a website URL at the limits SES takes are sent', async () => {
    const useCase = 'ü'.repeat(5000);
    const websiteUrl = `https://example.com/${'x'.repeat(980)}`;
    const r = await cli([
      'request-production-access',
      '--yes',
      '--use-case',
      useCase,
      '--website-url',
      websiteUrl,
    ]);
    expect(r.code).toBe(0);
    expect(ses.commandCalls(PutAccountDetailsCommand)[0].args[0].input).toMatchObject({
      UseCaseDescription: useCase,
      WebsiteURL: websiteUrl,
    });
  });
});

describe('rotate', () => {
  test('starts a rotation, waits with progress, reports the new access key id (never the password)', async () => {
    sm.on(RotateSecretCommand).resolves({ ARN: SECRET_ARN, VersionId: 'v2' });
    sm.on(DescribeSecretCommand)
      .resolvesOnce({ VersionIdsToStages: { v1: ['AWSCURRENT'], v2: ['AWSPENDING'] } })
      .resolvesOnce({ VersionIdsToStages: { v1: ['AWSCURRENT'], v2: ['AWSPENDING'] } })
      .resolves({ VersionIdsToStages: { v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] } });
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ ...CREDENTIALS, username: 'AKIANEWKEY0000000002' }),
    });
    const r = await cli(['rotate']);
    expect(r.code).toBe(0);
    expect(r.stderr.match(/rotating prod: version v2 is AWSPENDING/g)).toHaveLength(2);
    // 5 s after each read that found it pending (the CLI's own interval: no option sets it).
    expect(r.waits).toEqual([5000, 5000]);
    expect(r.stdout).toContain('✓ rotated: new access key id AKIANEWKEY0000000002 (version v2)');
    expect(sm.commandCalls(RotateSecretCommand)[0].args[0].input).toEqual({ SecretId: SECRET_ARN });
    neverLeaks(r.stdout + r.stderr);
  });

  test('on a terminal, the progress line is cleared once the rotation is done', async () => {
    sm.on(RotateSecretCommand).resolves({ VersionId: 'v2' });
    sm.on(DescribeSecretCommand)
      .resolvesOnce({ VersionIdsToStages: { v1: ['AWSCURRENT'], v2: ['AWSPENDING'] } })
      .resolves({ VersionIdsToStages: { v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] } });
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ ...CREDENTIALS, username: 'AKIANEWKEY0000000002' }),
    });
    const r = await cli(['rotate'], { stderrTty: true });
    expect(r.code).toBe(0);
    // Left standing, "✓ rotated" on stdout would print after it on the same terminal line.
    expect(r.stderr.startsWith('\r\x1b[2Krotating prod: version v2 is AWSPENDING ')).toBe(true);
    expect(r.stderr.endsWith('\r\x1b[2K')).toBe(true);
  });

  // The rotation is over once its version is AWSCURRENT: a refused read of the new key id (an
  // operator role without kms:Decrypt) must not read as a failed rotation, "unchanged".
  test.each([[[]], [['--json']]])(
    'a rotation that finished but whose key id cannot be read: rotated, exit 0, with why (%j)',
    async (flags) => {
      sm.on(RotateSecretCommand).resolves({ VersionId: 'v2' });
      sm.on(DescribeSecretCommand).resolves({
        VersionIdsToStages: { v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] },
      });
      sm.on(GetSecretValueCommand).rejects(
        awsError('AccessDeniedException', 'Access to KMS is not allowed', 400),
      );
      const r = await cli(['rotate', ...flags]);
      expect(r.code).toBe(0);
      const detail = `version v2 is AWSCURRENT, but its access key id could not be read (AWS denied the read of the new credentials (AccessDeniedException: Access to KMS is not allowed): run it as an identity allowed to do this (AWS_PROFILE, or add the permission)); ses-smtp env --env prod --config ${config} shows the new credentials once that read works`;
      if (flags.length) {
        expect(JSON.parse(r.stdout)).toEqual({
          rotated: true,
          versionId: 'v2',
          accessKeyId: null,
          warning: detail,
        });
      } else {
        expect(r.stdout).toBe(
          `! rotated: ${detail}; the previous credentials stay valid until the next rotation\n`,
        );
        expect(r.stderr).not.toContain('unchanged');
      }
    },
  );

  test('a rotation that does not finish in time: exit 1 and where to look', async () => {
    sm.on(RotateSecretCommand).resolves({ VersionId: 'v2' });
    sm.on(DescribeSecretCommand).resolves({ VersionIdsToStages: { v1: ['AWSCURRENT'], v2: ['AWSPENDING'] } });
    // One poll passes the 1-second timeout.
    const r = await withSteppingClock(() => cli(['rotate', '--timeout', '1']));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /rotation of .* \(version v2\) not finished after \d+ s: read the rotation function's logs; the current credentials are unchanged$/m,
    );
  });

  test('without --timeout it gives up after 600 s, as its help says', async () => {
    sm.on(RotateSecretCommand).resolves({ VersionId: 'v2' });
    sm.on(DescribeSecretCommand).resolves({ VersionIdsToStages: { v1: ['AWSCURRENT'], v2: ['AWSPENDING'] } });
    const r = await withSteppingClock(() => cli(['rotate']));
    expect(r.code).toBe(1);
    const waited = Number(/not finished after (\d+) s/.exec(r.stderr)?.[1]);
    // The clock moves a second at each reading: the message's reading is one before the check's.
    expect(waited).toBeGreaterThanOrEqual(599);
    expect(waited).toBeLessThan(605);
  });

  // The rotation function stops a rotation that would delete a key an app may still use, and
  // clears its AWSPENDING label: the version loses its labels.
  test.each([
    [
      'after showing it as AWSPENDING',
      [{ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] }, { v1: ['AWSCURRENT'] }],
      2,
    ],
    ['never listed (cleared before the first poll), after 3 polls', [{ v1: ['AWSCURRENT'] }], 3],
  ])(
    'a rotation stopped by the function %s: exit 1 at once, where to read why',
    async (_when, answers, polls) => {
      sm.on(RotateSecretCommand).resolves({ VersionId: 'v2' });
      let call = 0;
      sm.on(DescribeSecretCommand).callsFake(() => ({
        VersionIdsToStages: answers[Math.min(call++, answers.length - 1)],
      }));
      const r = await withSteppingClock(() => cli(['rotate']));
      expect(r.code).toBe(1);
      expect(sm.commandCalls(DescribeSecretCommand)).toHaveLength(polls);
      expect(r.stderr.trim().split('\n').at(-1)).toBe(
        `ses-smtp: rotation of ${SECRET_ARN} (version v2) stopped without changing the secret: the rotation function's log says why (ERROR "rotation step failed"), as does the failed-rotation message on the operator topic; the current credentials are unchanged`,
      );
    },
  );

  // The rotation goes on in Secrets Manager whatever the CLI's reads do: a failed read of its
  // progress must not say "unchanged" (nor, for expired credentials, "rerun": a second rotation).
  test.each([
    [
      'credentials that expired during the wait',
      awsError('ExpiredTokenException', 'The security token included in the request is expired', 400),
      'ExpiredTokenException',
    ],
    [
      'the network',
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', $metadata: { attempts: 3 } }),
      'ECONNRESET',
    ],
  ])(
    'a read of its progress that fails (%s): started, may still finish, how to see it; exit 1',
    async (_cause, error, why) => {
      sm.on(RotateSecretCommand).resolves({ VersionId: 'v2' });
      sm.on(DescribeSecretCommand)
        .resolvesOnce({ VersionIdsToStages: { v1: ['AWSCURRENT'], v2: ['AWSPENDING'] } })
        .rejects(error);
      const r = await cli(['rotate']);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n').at(-1)).toBe(
        `ses-smtp: a rotation of ${SECRET_ARN} was started (version v2), but reading its progress failed (${why}: ${error.message}); it goes on without this command, so it may still finish: see whether version v2 is AWSCURRENT (aws secretsmanager describe-secret --secret-id ${SECRET_ARN} --region eu-west-1 --query VersionIdsToStages) before running rotate again (once it is, the rotation is done: ses-smtp env --env prod --config ${config} shows the new credentials)`,
      );
      expect(sm.commandCalls(RotateSecretCommand)).toHaveLength(1);
    },
  );

  test('a rotation already in progress is reported, exit 1', async () => {
    sm.on(RotateSecretCommand).rejects(
      Object.assign(new Error("A previous rotation isn't complete. That rotation will be reattempted."), {
        name: 'InvalidRequestException',
        $metadata: {},
      }),
    );
    const r = await cli(['rotate']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(
      `ses-smtp: a rotation of ${SECRET_ARN} is already in progress, and Secrets Manager reattempts it now: wait a few minutes and run this again if it did not finish. One whose SMTP login keeps failing is given up on its first attempt an hour after its key was made (the rotation function's log says why), and Secrets Manager takes a new one then; the current credentials are unchanged`,
    );
  });
});

// The prompts of revoke, pause, test-alarm and request-production-access, on a terminal.
describe('a confirmation question', () => {
  /** The answer to `typed` on a terminal, and what the terminal shows. */
  async function answer(typed: string) {
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = '';
    output.on('data', (chunk: Buffer) => (shown += chunk.toString()));
    Object.assign(input, { isTTY: true }); // readline reads keys (Ctrl+C) only on a terminal
    Object.assign(output, { isTTY: true, columns: 80 });
    const asked = terminalQuestion(input, output)('Revoke? [y/N] ');
    input.write(typed);
    return { confirmed: await asked, shown };
  }

  test.each([
    ['y\r', true],
    ['YES\r', true],
    ['n\r', false],
    ['\r', false],
  ])('%j: confirmed %s', async (typed, confirmed) => {
    expect((await answer(typed)).confirmed).toBe(confirmed);
  });

  // readline rejects the question on these keys: a no, as "n", not the command's failure.
  test.each([
    ['Ctrl+C', '\x03'],
    ['Ctrl+D', '\x04'],
  ])('%s is a no, and the next line starts on a line of its own', async (_key, typed) => {
    const { confirmed, shown } = await answer(typed);
    expect(confirmed).toBe(false);
    expect(shown).toMatch(/\n$/);
  });
});
