/*
 * Every command and option of the CLI, declared once. Help and parsing are generated from this
 * table; a command's module (and the AWS clients it uses) loads only when that command runs.
 */
import type { CliContext } from './context';
import {
  RESOLVER_EXPECTS,
  resolverAddress,
  SMTP_PORT_EXPECTS,
  SMTP_TIMEOUT,
  smtpCaPem,
  smtpPort,
  smtpTimeoutSeconds,
  TIMEOUT_EXPECTS,
  timeoutSeconds,
} from './option-checks';
import { ciSignal } from '../ci';
import { OptionSpec, OptionValues } from './options';

/** What a command gets besides its context and options. */
export interface RunDeps {
  /** Asks a yes/no question, or refuses when not on a terminal; true without asking with --yes. */
  readonly confirm: (question: string, yes: boolean) => Promise<boolean>;
  readonly sleep?: (ms: number) => Promise<void>;
  /** The environment of the CLI process (AWS_PROFILE for the kamal format). */
  readonly env: NodeJS.ProcessEnv;
}

export interface CommandSpec {
  readonly summary: string;
  /** Paragraphs printed after the options in `help <command>`. */
  readonly details?: string;
  readonly options: readonly OptionSpec[];
  /**
   * It reads the environment's settings (DNS, alarm and health settings): from the environments
   * file, else from the health-check function of the stack --stack names.
   * @default false - the flags can name what it works on instead
   */
  readonly needsConfig?: boolean;
  readonly run: (ctx: CliContext, values: OptionValues, deps: RunDeps) => Promise<number>;
}

/** The formats of `env`. */
export const ENV_FORMATS = ['dotenv', 'shell', 'heroku', 'json', 'docker', 'kamal', 'rails'] as const;
export type EnvFormat = (typeof ENV_FORMATS)[number];

export const SCOPES = ['configuration-set', 'account'] as const;
export type Scope = (typeof SCOPES)[number];

const yes: OptionSpec = {
  name: 'yes',
  short: 'y',
  type: 'boolean',
  description: 'do it without asking (required when not on a terminal)',
};
/** --scope of pause and resume: `verb` is what the command does to the sending. */
const scope = (verb: 'pause' | 'resume'): OptionSpec => ({
  name: 'scope',
  type: 'string',
  choices: SCOPES,
  defaultText: 'configuration-set',
  description: `what to ${verb}: the stack's configuration set (this app's mail only) or all sending of the account in the Region`,
});
const configurationSet: OptionSpec = {
  name: 'configuration-set',
  type: 'string',
  placeholder: 'NAME',
  expects: 'the name of an SES configuration set',
  description: 'the configuration set, instead of the stack output ConfigurationSetName',
  check: (v) => validate().checkConfigurationSetName('--configuration-set', v),
};
const timeout: OptionSpec = {
  name: 'timeout',
  type: 'string',
  placeholder: 'SECONDS',
  expects: TIMEOUT_EXPECTS,
  defaultText: '600',
  description: 'how long to wait for the rotation to finish',
  check: timeoutSeconds,
};

function seconds(values: OptionValues): number | undefined {
  const text = values.string('timeout');
  return text === undefined ? undefined : timeoutSeconds(text);
}

/**
 * The name checks, loaded when a value is given (they load the config schema; --help does not).
 * Synchronous: the constructs run the global options' checks on `cliOptions` at synth.
 */
// oxlint-disable-next-line typescript/no-require-imports
const validate = () => require('./validate') as typeof import('./validate');

export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'env',
    type: 'string',
    placeholder: 'NAME',
    expects: 'the name of an environment of the environments file',
    description: 'environment from the config file (optional when it has only one)',
  },
  {
    name: 'config',
    type: 'string',
    placeholder: 'PATH',
    expects: 'the path of the environments file',
    defaultText: 'the file cdk.json\'s context "config" names, else config/environments.json',
    description: 'environments file (a stack of your own needs none: see below)',
  },
  {
    name: 'region',
    type: 'string',
    expects: 'an AWS Region name like "eu-west-1"',
    description: "the stack's Region, instead of the environment's (required without an environments file)",
    check: (v) => validate().checkRegion('--region', v),
  },
  {
    name: 'stack',
    type: 'string',
    placeholder: 'NAME',
    expects: 'a CloudFormation stack name',
    defaultText: 'SesSmtp-<env>',
    description: 'stack to read outputs from',
    check: (v) => validate().checkStackName('--stack', v),
  },
  {
    name: 'secret-id',
    type: 'string',
    placeholder: 'ID',
    expects: 'the ARN or name of the credentials secret',
    description: 'the credentials secret, instead of the stack output',
    check: (v) => validate().checkSecretId('--secret-id', v),
  },
  {
    name: 'identity',
    type: 'string',
    placeholder: 'DOMAIN',
    expects: 'the domain of the SES identity, like "example.com"',
    description: 'the SES identity, instead of the stack output',
    check: (v) => validate().checkDomainName('--identity', v),
  },
  {
    name: 'smtp-host',
    type: 'string',
    placeholder: 'HOST',
    expects: 'a host name or an IP address',
    description: 'SMTP endpoint (VPC endpoint, proxy, test server)',
    check: (v) => validate().checkHost('--smtp-host', v),
  },
  {
    name: 'smtp-port',
    type: 'string',
    placeholder: 'PORT',
    expects: SMTP_PORT_EXPECTS,
    defaultText: '587, STARTTLS',
    description: 'SMTP port',
    check: smtpPort,
  },
  {
    name: 'smtp-ca',
    type: 'string',
    placeholder: 'FILE',
    expects: 'the path of a PEM file',
    description: 'PEM of a CA to trust for SMTP TLS (TLS-inspecting proxies)',
    check: smtpCaPem,
    localFile: true,
  },
  {
    name: 'smtp-timeout',
    type: 'string',
    placeholder: 'SECONDS',
    expects: SMTP_TIMEOUT.expects,
    defaultText: '10',
    description: 'SMTP connect/greeting/reply timeout',
    check: smtpTimeoutSeconds,
  },
  {
    name: 'resolver',
    type: 'string',
    placeholder: 'IP[:PORT]',
    expects: RESOLVER_EXPECTS,
    defaultText: "the system's",
    description: 'DNS server for DNS checks',
    check: resolverAddress,
  },
  { name: 'json', type: 'boolean', description: 'machine-readable output' },
  {
    name: 'no-color',
    type: 'boolean',
    description: 'no colours (also NO_COLOR=1); colour is only used on a terminal',
  },
  { name: 'help', short: 'h', type: 'boolean', description: 'help' },
];

export const GLOBAL_NOTES = `AWS access uses the standard credential chain (AWS_PROFILE, SSO, roles...) and AWS_ENDPOINT_URL_*.
Without an environments file (a stack of your own with the SesSmtp construct): --region, and --stack
NAME or the resource's own flag (--secret-id, --identity, ...); doctor and dns need --stack (they
read the settings from the stack's health-check function: lambda:GetFunctionConfiguration).
Exit codes: 0 ok; 1 a check or an action failed (AWS refused, throttled or failed included);
2 a usage or configuration error (missing or expired AWS credentials included).`;

export const COMMANDS: Record<string, CommandSpec> = {
  doctor: {
    summary: 'check everything the guide troubleshoots, with the fix for each problem',
    options: [],
    needsConfig: true,
    run: async (ctx) => (await import('./commands/doctor.js')).doctorCommand(ctx),
  },
  env: {
    summary: "print the app's settings (AWS_SES_SMTP_* variables) from the current credentials",
    details: `On a terminal the password is masked (its line commented out) unless --reveal; piped output
carries the real values, except in CI (CI set and not false, or Jenkins', Azure Pipelines',
CodeBuild's or TeamCity's variable): a job's log keeps what it prints, so there only --reveal
prints it. kamal prints .kamal/secrets lines that fetch the values from Secrets Manager at deploy
time (no password in the file); docker prints an env-file for docker run --env-file (values
unquoted); rails prints the ActionMailer settings that read the variables.
--write FILE writes a dotenv file with mode 0600 and adds it to .gitignore if git would track it;
it refuses a file git already tracks (untrack it with git rm --cached FILE) unless --force.
--json is --format json; --write takes neither --json nor another --format.`,
    options: [
      {
        name: 'format',
        type: 'string',
        choices: ENV_FORMATS,
        defaultText: 'dotenv',
        description: 'output format',
      },
      { name: 'reveal', type: 'boolean', description: 'print the password on a terminal, and in CI' },
      {
        name: 'write',
        type: 'string',
        placeholder: 'FILE',
        expects: 'the path of the file to write',
        description: 'write a dotenv file (mode 0600) instead of printing',
      },
      { name: 'force', type: 'boolean', description: 'with --write: write even into a file git tracks' },
    ],
    run: async (ctx, v, deps) =>
      (await import('./commands/env.js')).envCommand(ctx, {
        format: v.string('format') as EnvFormat | undefined,
        reveal: v.flag('reveal'),
        write: v.string('write'),
        force: v.flag('force'),
        awsProfile: deps.env.AWS_PROFILE,
        ci: ciSignal(deps.env),
      }),
  },
  'send-test': {
    summary: 'send a test message over SMTP with the current credentials',
    options: [
      {
        name: 'to',
        type: 'string',
        placeholder: 'ADDRESS',
        expects: "the recipient's email address",
        description: "the recipient's address (required)",
        check: (v) => validate().checkEmailAddress('--to', v),
      },
      {
        name: 'subject',
        type: 'string',
        placeholder: 'TEXT',
        expects: 'the text of the subject line',
        description: 'the subject line',
      },
    ],
    run: async (ctx, v) =>
      (await import('./commands/send-test.js')).sendTestCommand(ctx, {
        to: v.string('to'),
        subject: v.string('subject'),
      }),
  },
  preflight: {
    summary:
      'before the first deploy: what exists already where the stack creates (SES identity, DNS records)',
    details: `A domain that sends through SES already (the manual guide's setup) has an identity, and often
record sets in its hosted zone, where the stack creates its own. CloudFormation does not adopt
them: the first deploy would stop at the first one ("already exists", ✗) and roll back. A record
set with the very values and TTL the stack writes is a warning (!): CloudFormation takes it over,
and the rollback of a failed first deploy then deletes it. Each comes with what to do; see "Coming
from the manual setup" in the README. Reads only: SES identities (ses:GetEmailIdentity), the
stack's status (cloudformation:DescribeStacks) and the hosted zone's record sets
(route53:ListResourceRecordSets); a read AWS refuses is a warning. Exit 1 while something is in
the way; once the stack exists it says so and exits 0 (doctor checks a deployed stack).`,
    options: [],
    run: async (ctx) => (await import('./commands/preflight.js')).preflightCommand(ctx),
  },
  dns: {
    summary: 'print every DNS record the environment needs (zone-file form); --check compares with live DNS',
    options: [{ name: 'check', type: 'boolean', description: 'compare with live DNS (see --resolver)' }],
    needsConfig: true,
    run: async (ctx, v) => (await import('./commands/dns.js')).dnsCommand(ctx, { check: v.flag('check') }),
  },
  'request-production-access': {
    summary: 'ask AWS to take the account out of the SES sandbox',
    details: 'Shows the request (defaults built from the config) and asks before sending it.',
    options: [
      {
        name: 'mail-type',
        type: 'string',
        choices: ['TRANSACTIONAL', 'MARKETING'],
        defaultText: 'TRANSACTIONAL',
        description: 'the kind of mail you send',
      },
      {
        name: 'website-url',
        type: 'string',
        placeholder: 'URL',
        expects: 'an http(s):// URL of your site',
        defaultText: 'https://<domain>',
        description: 'your website',
        check: async (v) => (await import('./commands/production-access.js')).checkWebsiteUrl(v),
      },
      {
        name: 'use-case',
        type: 'string',
        placeholder: 'TEXT',
        expects: 'the text of the use case',
        description: 'the use-case text (default built from the config)',
        check: async (v) => (await import('./commands/production-access.js')).checkUseCase(v),
      },
      {
        name: 'language',
        type: 'string',
        choices: ['EN', 'JA'],
        defaultText: 'EN',
        description: 'language AWS answers in',
      },
      {
        name: 'contact',
        type: 'string',
        multiple: true,
        placeholder: 'EMAIL',
        expects: 'an email address',
        description: 'another address AWS writes to (up to 4)',
        check: (v) => validate().checkEmailAddress('--contact', v),
      },
      yes,
    ],
    run: async (ctx, v, deps) =>
      (await import('./commands/production-access.js')).productionAccessCommand(ctx, {
        mailType: v.string('mail-type'),
        websiteUrl: v.string('website-url'),
        useCase: v.string('use-case'),
        language: v.string('language'),
        contacts: v.list('contact'),
        confirm: (q) => deps.confirm(q, v.flag('yes')),
      }),
  },
  rotate: {
    summary: 'rotate the SMTP credentials now and wait for the new ones',
    options: [timeout],
    run: async (ctx, v, deps) =>
      (await import('./commands/rotate.js')).rotateCommand(ctx, {
        timeoutSeconds: seconds(v),
        sleep: deps.sleep,
      }),
  },
  pause: {
    summary: 'emergency: stop sending now (configuration set, or the whole account in the Region)',
    details: `Mail the app sends through SMTP uses the stack's configuration set (the identity's default; the
SMTP user may send only with it): pausing it stops this app's mail and nothing else. --scope account
stops every sender of the account in the Region. Messages sent while paused are refused, not queued.
Undo: ses-smtp resume (with the same --scope). Asks first; --yes when not on a terminal.`,
    options: [scope('pause'), configurationSet, yes],
    run: async (ctx, v, deps) =>
      (await import('./commands/sending.js')).setSendingCommand(ctx, {
        enabled: false,
        scope: (v.string('scope') ?? 'configuration-set') as Scope,
        confirm: (q) => deps.confirm(q, v.flag('yes')),
      }),
  },
  resume: {
    summary: 'undo pause: let the configuration set, or the account, send again',
    details: `An account that AWS itself paused (enforcement status SHUTDOWN) cannot be resumed from here: answer
the review case in the AWS console. Asks first; --yes when not on a terminal.`,
    options: [scope('resume'), configurationSet, yes],
    run: async (ctx, v, deps) =>
      (await import('./commands/sending.js')).setSendingCommand(ctx, {
        enabled: true,
        scope: (v.string('scope') ?? 'configuration-set') as Scope,
        confirm: (q) => deps.confirm(q, v.flag('yes')),
      }),
  },
  revoke: {
    summary: 'emergency: deactivate every access key of the SMTP user at once, then rotate',
    details: `For a leaked SMTP password: every key of the SMTP user becomes Inactive (SES refuses its logins at
once, including your app's), then a rotation creates a new key and waits for it; give the app the
new credentials (ses-smtp env) afterwards. Undo while the old key still exists (the rotation
deletes the older one): aws iam update-access-key --user-name USER --access-key-id KEY --status Active
(the exact commands are printed). Asks first; --yes when not on a terminal.`,
    options: [
      {
        name: 'user-name',
        type: 'string',
        placeholder: 'NAME',
        expects: 'the name of an IAM user',
        description: 'the SMTP IAM user, instead of the stack output SmtpUserName',
        check: (v) => validate().checkIamUserName('--user-name', v),
      },
      timeout,
      yes,
    ],
    run: async (ctx, v, deps) =>
      (await import('./commands/revoke.js')).revokeCommand(ctx, {
        confirm: (q) => deps.confirm(q, v.flag('yes')),
        timeoutSeconds: seconds(v),
        sleep: deps.sleep,
      }),
  },
  'test-alarm': {
    summary: "fire one of the stack's alarms as a test and show whether CloudWatch could notify its topic",
    details: `An alarm that fires but cannot publish (a topic or key policy that refuses CloudWatch) tells no
one, and shows only in the alarm's history. This sets an alarm that is not in ALARM (the shortest
period first; --alarm NAME picks one) to ALARM with a reason that says it is a test, then reads the
history until CloudWatch records each action: published, or refused with AWS's error (exit 1).
Subscribers get the notification; CloudWatch sets the alarm back at its next evaluation. Asks
first; --yes when not on a terminal.`,
    options: [
      {
        name: 'alarm',
        type: 'string',
        placeholder: 'NAME',
        expects: 'the name of a CloudWatch alarm',
        description: "the alarm to fire, instead of one of the stack's",
        check: (v) => validate().checkAlarmName('--alarm', v),
      },
      {
        ...timeout,
        defaultText: '120',
        description: 'how long to wait for CloudWatch to record the outcome',
      },
      yes,
    ],
    run: async (ctx, v, deps) =>
      (await import('./commands/test-alarm.js')).testAlarmCommand(ctx, {
        alarm: v.string('alarm'),
        timeoutSeconds: seconds(v),
        confirm: (q) => deps.confirm(q, v.flag('yes')),
        sleep: deps.sleep,
      }),
  },
};
