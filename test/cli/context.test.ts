import * as fs from 'node:fs';
import * as path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { IAMClient } from '@aws-sdk/client-iam';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  GetAccountCommand,
  PutAccountDetailsCommand,
  PutConfigurationSetSendingOptionsCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import { CliContext, sdkLogger, sesSmtpOutputs } from '../../lib/cli/context';
import { UsageError } from '../../lib/cli/errors';
import { Output } from '../../lib/cli/output';
import { testCertificate } from '../support/certificate';
import { startSmtpServer, TestSmtpServer } from '../support/smtp-server';
import {
  cfn,
  CONFIGURATION_SET,
  CREDENTIALS,
  healthyAws,
  run,
  SECRET_ARN,
  ses,
  sm,
  expectNoAwsCalls,
  stackWithOutputs,
  tmp,
  writeConfig,
} from './harness';

const out = () =>
  new Output(
    { stdout: { write: () => true }, stderr: { write: () => true } },
    { json: false, noColour: true, env: {} },
  );

// The default file is the one the project's cdk.json names (context "config"), as the app reads it.
test('without --config: the environments file cdk.json names in the working directory; --config wins', () => {
  const home = process.cwd();
  const project = fs.mkdtempSync(path.join(tmp, 'project-'));
  fs.mkdirSync(path.join(project, 'config'));
  fs.copyFileSync(writeConfig({ region: 'us-east-2' }), path.join(project, 'config', 'acme.json'));
  fs.writeFileSync(
    path.join(project, 'cdk.json'),
    JSON.stringify({ app: 'node app.js', context: { config: 'config/acme.json' } }),
  );
  process.chdir(project);
  try {
    expect([new CliContext({}, out()).environmentName, new CliContext({}, out()).region]).toEqual([
      'prod',
      'us-east-2',
    ]);
    expect(new CliContext({ config: writeConfig() }, out()).region).toBe('eu-west-1');
    // The file it names, missing: the same line as a missing default file, naming that path.
    fs.rmSync(path.join(project, 'config', 'acme.json'));
    expect(() => new CliContext({ env: 'prod' }, out())).toThrow(
      '--env "prod": config/acme.json not found, so there is no environment to pick',
    );
    // A mistake there is the user's: a usage error (one line, exit 2), not a failure.
    fs.writeFileSync(path.join(project, 'cdk.json'), JSON.stringify({ context: { config: 5 } }));
    const thrown = ((): unknown => {
      try {
        new CliContext({}, out());
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as Error).message).toBe(
      'cdk.json: context "config": got 5, expected the path of the environments file, like "config/environments.json"',
    );
    // In an app of your own "config" may be another tool's: a stack of your own needs no file.
    fs.writeFileSync(
      path.join(project, 'cdk.json'),
      JSON.stringify({ context: { config: { stage: 'prod' } } }),
    );
    const own = new CliContext({ stack: 'Mail', region: 'eu-west-1' }, out());
    expect([own.environmentName, own.stackName, own.region]).toEqual([undefined, 'Mail', 'eu-west-1']);
    // Where the file is then missed, the message says why there is none (not "not found").
    const noPath =
      'cdk.json names none: cdk.json: context "config": got {"stage":"prod"}, expected the path of the environments file';
    expect(() => new CliContext({ stack: 'Mail' }, out())).toThrow(
      `--region is missing: without an environments file (${noPath}`,
    );
    expect(() => own.environment()).toThrow(`from the environments file: ${noPath}`);
    // A cdk.json that is not JSON is a mistake whatever reads it, --stack or not.
    fs.writeFileSync(path.join(project, 'cdk.json'), '{"context":{');
    expect(() => new CliContext({ stack: 'Mail', region: 'eu-west-1' }, out())).toThrow(
      /^cdk\.json: not JSON \(.*\): fix its syntax$/,
    );
    fs.writeFileSync(
      path.join(project, 'cdk.json'),
      JSON.stringify({ context: { config: { stage: 'prod' } } }),
    );
    // With --env, or without --stack, the file is what it would read: the mistake is said.
    for (const options of [{ stack: 'Mail', region: 'eu-west-1', env: 'prod' }, { region: 'eu-west-1' }])
      expect(() => new CliContext(options, out())).toThrow(
        'cdk.json: context "config": got {"stage":"prod"}, expected the path of the environments file',
      );
  } finally {
    process.chdir(home);
  }
});

// What Node's TLS takes as a CA file, --smtp-ca takes: CRLF line ends, text between certificates
// (as distributions ship bundles), OpenSSL's "TRUSTED CERTIFICATE" and the older "X509 CERTIFICATE".
test.each([
  ['CRLF line ends', (pem: string) => pem.replace(/\n/g, '\r\n')],
  ['a bundle with titles and comments', (pem: string) => `# Proxy CA\n=========\n${pem}\n# another\n${pem}`],
  ['TRUSTED CERTIFICATE', (pem: string) => pem.replace(/CERTIFICATE-----/g, 'TRUSTED CERTIFICATE-----')],
  ['X509 CERTIFICATE', (pem: string) => pem.replace(/CERTIFICATE-----/g, 'X509 CERTIFICATE-----')],
])('--smtp-ca takes a PEM file with %s', (name, form) => {
  const file = path.join(tmp, `ca-${name.replace(/\W/g, '-')}.pem`);
  fs.writeFileSync(file, form(testCertificate().cert));
  expect(() => new CliContext({ config: writeConfig(), smtpCa: file }, out())).not.toThrow();
});

test('clients are made on first use, one per class, in the environment Region (or --region)', async () => {
  const ctx = new CliContext({ config: writeConfig() }, out());
  const ses = ctx.client(SESv2Client);
  expect(ctx.client(SESv2Client)).toBe(ses);
  expect(ctx.client(IAMClient)).not.toBe(ses);
  expect(await ses.config.region()).toBe('eu-west-1');
  const other = new CliContext({ config: writeConfig(), region: 'us-east-1' }, out());
  expect(await other.client(SESv2Client).config.region()).toBe('us-east-1');
});

test.each(['ap-southeast-7', 'us-isob-east-1', 'eusc-de-east-1', 'us-gov-west-1'])(
  '--region %s: a Region of any partition is taken, for the clients and the SMTP endpoint',
  async (region) => {
    const ctx = new CliContext({ config: writeConfig(), region }, out());
    expect(await ctx.client(SESv2Client).config.region()).toBe(region);
    expect((await ctx.smtp()).host).toBe(`email-smtp.${region}.amazonaws.com`);
  },
);

test("--stack ARN beside an environments file: the stack's Region; a --region that differs is refused", () => {
  const arn = 'arn:aws:cloudformation:us-east-1:123456789012:stack/SesSmtp-prod/5e3c9a10';
  expect(new CliContext({ config: writeConfig(), stack: arn }, out()).region).toBe('us-east-1');
  expect(() => new CliContext({ config: writeConfig(), stack: arn, region: 'eu-west-1' }, out())).toThrow(
    `--stack ${arn} is in us-east-1, and this command runs in eu-west-1 (from --region)`,
  );
});

test("without --smtp-* options: the Region's endpoint, port 587 with STARTTLS, a 10 s timeout", async () => {
  const ctx = new CliContext({ config: writeConfig() }, out());
  expect(await ctx.smtp()).toEqual({
    host: 'email-smtp.eu-west-1.amazonaws.com',
    port: 587,
    timeoutMs: 10_000,
  });
});

test.each([
  ['587', undefined],
  ['2587', undefined],
  ['25', undefined],
  ['465', true],
  ['2465', true],
])(
  '--smtp-port %s: TLS from the first byte is %s (SES: 465 and 2465; STARTTLS on the others)',
  async (port, implicit) => {
    const ctx = new CliContext({ config: writeConfig(), smtpPort: port }, out());
    expect(await ctx.smtp()).toMatchObject({ port: Number(port) });
    expect((await ctx.smtp()).implicitTls).toBe(implicit);
  },
);

test.each([
  ['::1', '::1'],
  ['[::1]:5353', '[::1]:5353'],
  ['1.1.1.1', '1.1.1.1'],
  ['127.0.0.1:5353', '127.0.0.1:5353'],
])('--resolver %s: the DNS server %s', (spec, server) => {
  const ctx = new CliContext({ config: writeConfig(), resolver: spec }, out());
  expect(ctx.resolver().getServers()).toEqual([server]);
});

test.each(['[::1', '[1.1.1.1:53', '1.1.1.1:0', 'dns.google'])(
  '--resolver %s: one line with the forms it takes',
  (spec) => {
    expect(() => new CliContext({ config: writeConfig(), resolver: spec }, out())).toThrow(
      `--resolver: got ${JSON.stringify(spec)}, expected IP[:PORT] like 1.1.1.1, 127.0.0.1:5353, ::1 or [::1]:53`,
    );
  },
);

describe('without an environments file: a stack of your own (the SesSmtp construct in an app)', () => {
  const home = process.cwd();
  const app = fs.mkdtempSync(path.join(tmp, 'app-'));
  let smtp: TestSmtpServer;
  beforeAll(async () => {
    smtp = await startSmtpServer({
      accept: (u, p) => u === CREDENTIALS.username && p === CREDENTIALS.password,
    });
    process.chdir(app); // no config/environments.json here
  });
  afterAll(async () => {
    process.chdir(home);
    await smtp.close();
  });
  beforeEach(() => {
    healthyAws();
    // A SesSmtp construct's outputs in a stack of your own: keys from its path, with a hash
    // (test/ses-smtp.test.ts checks this shape against a synthesized stack).
    stackWithOutputs('Mail', {
      MailSmtpSecretArn46B3BB99: SECRET_ARN,
      MailIdentityName5EBAFF55: 'example.com',
      MailConfigurationSetName8276147A: CONFIGURATION_SET,
      MailSmtpUserName9B18179A: 'smtp-user',
      OtherOutput: 'x',
    });
  });
  const ca = path.join(tmp, 'own-stack-ca.pem');

  test('env --stack Mail --region eu-west-1: the secret from the stack outputs, in that Region', async () => {
    const r = await run(['env', '--stack', 'Mail', '--region', 'eu-west-1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`AWS_SES_SMTP_USERNAME="${CREDENTIALS.username}"`);
    const [describe] = cfn.commandCalls(DescribeStacksCommand);
    expect(describe.args[0].input).toEqual({ StackName: 'Mail' });
    expect(await (describe.thisValue as CloudFormationClient).config.region()).toBe('eu-west-1');
    expect(sm.commandCalls(GetSecretValueCommand)[0].args[0].input).toMatchObject({ SecretId: SECRET_ARN });
  });

  test('only the named stack is read, whatever else DescribeStacks returns', async () => {
    stackWithOutputs('Other', { SmtpSecretArn: `${SECRET_ARN}-other` });
    const r = await run(['env', '--stack', 'Mail', '--region', 'eu-west-1']);
    expect(r.stderr).toBe(
      'ses-smtp: stack Mail not found in eu-west-1: deploy it (npx cdk deploy with the id of stack Mail in your CDK app; npx cdk ls lists them), or pass --secret-id (and --stack or --region if it lives elsewhere)\n',
    );
    expect(r.code).toBe(2);
    expect(sm.calls()).toHaveLength(0);
  });

  /** DescribeStacks asked for `arn` answers with the stack "Mail" of that id, in `status`. */
  const stackById = (arn: string, status: string) =>
    stackWithOutputs('Mail', { MailSmtpSecretArn46B3BB99: SECRET_ARN }, status, arn);

  test('--stack takes the stack ARN too: asked for by that id (so in its account), in its Region', async () => {
    const arn =
      'arn:aws:cloudformation:eu-west-1:123456789012:stack/Mail/5e3c9a10-8f2b-11ef-9a3c-0a1b2c3d4e5f';
    stackById(arn, 'CREATE_COMPLETE');
    const r = await run(['env', '--stack', arn]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [describe] = cfn.commandCalls(DescribeStacksCommand);
    expect(describe.args[0].input).toEqual({ StackName: arn });
    expect(await (describe.thisValue as CloudFormationClient).config.region()).toBe('eu-west-1');
    expect(sm.commandCalls(GetSecretValueCommand)[0].args[0].input).toMatchObject({ SecretId: SECRET_ARN });
  });

  test('a stack ARN of a deleted stack (DescribeStacks returns it by id) is a stack not found', async () => {
    const arn = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Mail/5e3c9a10';
    stackById(arn, 'DELETE_COMPLETE');
    const r = await run(['env', '--stack', arn]);
    expect(r.stderr).toMatch(/^ses-smtp: stack Mail not found in eu-west-1: deploy it/);
    expect(r.code).toBe(2);
    expect(sm.calls()).toHaveLength(0);
  });

  // cdk deploy selects a stack by its id in the app, which a stack of your own may not share with its name.
  test('a stack ARN not found names the stack, and how to find what cdk deploy takes', async () => {
    const arn = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Mail/5e3c9a10';
    cfn
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error(`Stack with id ${arn} does not exist`), { name: 'ValidationError' }));
    const r = await run(['env', '--stack', arn]);
    expect(r.stderr).toMatch(
      /^ses-smtp: stack Mail not found in eu-west-1: deploy it \(npx cdk deploy with the id of stack Mail in your CDK app; npx cdk ls lists them\)/,
    );
    expect(r.code).toBe(2);
  });

  test('--identity is taken as SES names the identity: lower case, no final dot, punycode', async () => {
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: false });
    ses.on(PutAccountDetailsCommand).resolves({});
    for (const [given, domain] of [
      ['Example.NET.', 'example.net'],
      ['bücher.example', 'xn--bcher-kva.example'],
    ]) {
      const r = await run(['request-production-access', '--identity', given, '--region', 'eu-west-1', '-y']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`(identity ${domain})`);
      expect(ses.commandCalls(PutAccountDetailsCommand).at(-1)!.args[0].input.WebsiteURL).toBe(
        `https://${domain}`,
      );
    }
  });

  // CDK ends the construct's output keys in 8 hex digits; an output of your own may begin as they do.
  test("an output key is the construct's only with the hash: one that merely starts like it is not taken", async () => {
    stackWithOutputs('Mail', {
      MailSmtpSecretArn46B3BB99: SECRET_ARN,
      MailSmtpSecretArnBackup: `${SECRET_ARN}-backup`,
      MailSmtpSecretArnPrevious: `${SECRET_ARN}-previous`,
    });
    const r = await run(['env', '--stack', 'Mail', '--region', 'eu-west-1']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([SECRET_ARN]);
  });

  test('a stack with two SesSmtp constructs: a command that needs one asks for its flag, one given works', async () => {
    stackWithOutputs('App', {
      MailSmtpSecretArn46B3BB99: SECRET_ARN,
      MailSmtpPort9F8E7D6C: '2587',
      OtherSmtpSecretArn0A1B2C3D: `${SECRET_ARN}x`,
      OtherSmtpPort01234567: '465',
    });
    const ambiguous = await run(['env', '--stack', 'App', '--region', 'eu-west-1']);
    expect(ambiguous).toMatchObject({
      code: 2,
      stderr:
        'ses-smtp: stack App holds 2 SesSmtp constructs (Mail, Other): pass --secret-id (which one is meant is not known)\n',
    });
    // kamal reads the stack's outputs too (for the port): with --secret-id it works all the same.
    const given = await run([
      'env',
      '--stack',
      'App',
      '--region',
      'eu-west-1',
      '--secret-id',
      SECRET_ARN,
      '--format',
      'kamal',
    ]);
    expect(given).toMatchObject({ code: 0, stderr: '' });
    expect(given.stdout).toContain(SECRET_ARN);
    // The port is that construct's (the one whose secret --secret-id names).
    expect(given.stdout).toContain('\nAWS_SES_SMTP_PORT=2587\n');
  });

  test("env --secret-id ARN: no stack to read, the Region is the ARN's", async () => {
    const r = await run(['env', '--secret-id', SECRET_ARN, '--format', 'kamal']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^# \\.kamal/secrets \\(secret ${SECRET_ARN}\\)`));
    expect(r.stdout).toContain('AWS_REGION=eu-west-1 for kamal');
    expect(cfn.calls()).toHaveLength(0);
  });

  test("send-test --stack Mail --region eu-west-1 --to ...: sends with the stack's credentials", async () => {
    fs.writeFileSync(ca, smtp.ca);
    const r = await run([
      'send-test',
      ...['--stack', 'Mail', '--region', 'eu-west-1', '--to', 'dev@example.org'],
      ...['--smtp-host', '127.0.0.1', '--smtp-port', String(smtp.port), '--smtp-ca', ca],
    ]);
    expect(r.code).toBe(0);
    expect(smtp.messages.at(-1)?.raw).toContain('Subject: SES SMTP test from stack Mail');
  });

  test('request-production-access --identity: the defaults come from the identity', async () => {
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: false });
    ses.on(PutAccountDetailsCommand).resolves({});
    const r = await run([
      'request-production-access',
      '--identity',
      'example.net',
      '--region',
      'eu-west-1',
      '-y',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Production access request for eu-west-1 (identity example.net):');
    expect(ses.commandCalls(PutAccountDetailsCommand)[0].args[0].input).toMatchObject({
      WebsiteURL: 'https://example.net',
      UseCaseDescription: expect.stringContaining('from our web application at example.net, over SES SMTP'),
    });
  });

  test('rotate --secret-id ARN, and a secret without credentials names the same flags to rerun', async () => {
    sm.on(RotateSecretCommand).resolves({ VersionId: 'v2' });
    sm.on(DescribeSecretCommand).resolves({ VersionIdsToStages: { v2: ['AWSCURRENT'] } });
    expect((await run(['rotate', '--secret-id', SECRET_ARN])).code).toBe(0);
    sm.on(GetSecretValueCommand).resolves({ SecretString: '{}' });
    const r = await run(['env', '--stack', 'Mail', '--region', 'eu-west-1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('run: ses-smtp rotate --stack Mail --region eu-west-1)');
  });

  test('pause --stack Mail: the undo names the stack and the Region', async () => {
    ses.on(PutConfigurationSetSendingOptionsCommand).resolves({});
    const r = await run(['pause', '--stack', 'Mail', '--region', 'eu-west-1', '--yes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `✓ paused sending for configuration set ${CONFIGURATION_SET}: sends are refused until you run: ses-smtp resume --scope configuration-set --stack Mail --region eu-west-1`,
    );
  });

  const STACK_ARN_US = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Mail/5e3c9a10';
  test.each<[string[], string]>([
    [
      ['env', '--stack', 'Mail'],
      '--region is missing: without an environments file (config/environments.json not found) pass --region REGION, the Region of the stack (or --config PATH)',
    ],
    [
      ['env', '--region', 'eu-west-1'],
      "--secret-id is missing: without an environments file (config/environments.json not found) pass --secret-id ID, or --stack NAME to read it from the stack's outputs",
    ],
    [
      ['request-production-access', '--region', 'eu-west-1', '-y'],
      '--identity is missing: without an environments file (config/environments.json not found) pass --identity DOMAIN, or --stack NAME',
    ],
    [
      ['doctor', '--region', 'eu-west-1'],
      "doctor reads the environment's settings from the environments file (config/environments.json not found) or from the health-check function of a stack: name a stack of your own with --stack NAME --region REGION, run it where that file is, or pass --config PATH",
    ],
    [
      ['dns', '--check', '--identity', 'example.com', '--region', 'eu-west-1'],
      "dns reads the environment's settings from the environments file (config/environments.json not found) or from the health-check function of a stack: name a stack of your own",
    ],
    [
      ['env', '--env', 'prod'],
      '--env "prod": config/environments.json not found, so there is no environment to pick; run it where that file is, pass --config PATH, or name a stack of your own with --stack NAME --region REGION instead',
    ],
    [
      ['env', '--stack', 'Mail', '--region', 'eu-west'],
      '--region: got "eu-west", expected an AWS Region name',
    ],
    [
      ['env', '--stack', STACK_ARN_US, '--secret-id', SECRET_ARN],
      `--secret-id ${SECRET_ARN} is in eu-west-1, and this command runs in us-east-1 (from --stack); pass --region eu-west-1, or a --secret-id in us-east-1`,
    ],
    [
      ['env', '--stack', STACK_ARN_US, '--region', 'eu-west-1'],
      `--stack ${STACK_ARN_US} is in us-east-1, and this command runs in eu-west-1 (from --region); pass --region us-east-1, or a --stack in eu-west-1`,
    ],
    // A bad value comes before a missing --region: one run names what its own flags got wrong.
    [
      ['rotate', '--timeout', 'abc'],
      '--timeout: got "abc", expected a number of seconds from 1 to 86400, like 600 or 90.5',
    ],
    [
      ['send-test', '--to', 'a@example.org', '--smtp-port', 'x'],
      '--smtp-port: got "x", expected a TCP port number from 1 to 65535',
    ],
    [
      ['send-test', '--to', 'a@example.org', '--smtp-ca', '/nonexistent/ca.pem'],
      '--smtp-ca: cannot read "/nonexistent/ca.pem"; pass a PEM file of the CA to trust',
    ],
    [
      ['doctor', '--smtp-timeout', '0'],
      '--smtp-timeout: got "0", expected a number of seconds from 0.1 to 300',
    ],
    [['dns', '--check', '--resolver', '1.1.1'], '--resolver: got "1.1.1", expected IP[:PORT]'],
    // Two bad values: the global option's first, as the last release reported them.
    [['rotate', '--timeout', '0', '--smtp-port', '0'], '--smtp-port: got "0", expected a TCP port'],
  ])('%j: one line naming the missing or mismatched flag, exit 2, no AWS call', async (args, message) => {
    const r = await run(args);
    expect(r.stderr).toMatch(/^ses-smtp: [^\n]+\n$/);
    expect(r.stderr.startsWith(`ses-smtp: ${message}`)).toBe(true);
    expect(r.code).toBe(2);
    expectNoAwsCalls();
  });

  test('--config PATH that does not exist is still an error (the file was asked for)', async () => {
    const r = await run([
      'env',
      '--stack',
      'Mail',
      '--region',
      'eu-west-1',
      '--config',
      'config/environments.json',
    ]);
    expect(r.stderr).toBe(
      'ses-smtp: config/environments.json: cannot read the environments file (no such file); create it (see README "Configuration") or pass --config PATH\n',
    );
    expect(r.code).toBe(2);
  });
});

describe("the AWS clients' logger", () => {
  test('a warning of the SDK is one line; the calls it logs at info and error (a secret is one) are not printed', () => {
    const lines: string[] = [];
    const logger = sdkLogger((line) => lines.push(line));
    logger.info({ commandName: 'GetSecretValueCommand', output: { SecretString: 'S3cr3t' } });
    logger.error({ commandName: 'PutSecretValueCommand', input: { SecretString: 'S3cr3t' } });
    logger.debug('S3cr3t');
    logger.warn('a warning\n    over two lines');
    logger.warn({ not: 'text' });
    expect(lines).toEqual(['a warning over two lines']);
  });

  test('every client the context makes gets it, and its warnings reach stderr', () => {
    let stderr = '';
    const output = new Output(
      { stdout: { write: () => true }, stderr: { write: (text: string) => ((stderr += text), true) } },
      { json: false, noColour: true, env: {} },
    );
    // Its own file: the repository's config/environments.json is the team's to edit.
    const ctx = new CliContext({ region: 'eu-west-1', stack: 'Mail', config: writeConfig() }, output);
    ctx.client(CloudFormationClient).config.logger.warn('a warning\n    over two lines');
    ctx.client(IAMClient).config.logger.info({ output: { SecretString: 'S3cr3t' } });
    expect(stderr).toBe('! a warning over two lines\n');
  });
});

test("sesSmtpOutputs: of several constructs, --secret-id's, not one whose path starts the same", () => {
  const outputs = {
    MailSmtpSecretArn46B3BB99: 'arn:secret-a',
    MailSmtpPort9F8E7D6C: '2587',
    MailXSmtpSecretArn0A1B2C3D: 'arn:secret-b',
    MailXSmtpPort01234567: '465',
  };
  const constructs = ['Mail', 'MailX'];
  expect(sesSmtpOutputs(outputs, 'arn:secret-a')).toEqual({
    outputs: { SmtpSecretArn: 'arn:secret-a', SmtpPort: '2587' },
    constructs,
  });
  expect(sesSmtpOutputs(outputs, 'arn:secret-b').outputs).toEqual({
    SmtpSecretArn: 'arn:secret-b',
    SmtpPort: '465',
  });
  // Another secret, or none given: which one is meant is not known, nothing is renamed.
  expect(sesSmtpOutputs(outputs, 'arn:other')).toEqual({ outputs, constructs });
  expect(sesSmtpOutputs(outputs)).toEqual({ outputs, constructs });
});
