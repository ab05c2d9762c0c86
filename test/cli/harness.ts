import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
  StackStatus,
} from '@aws-sdk/client-cloudformation';
import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
} from '@aws-sdk/client-cloudtrail';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  GetAccessKeyLastUsedCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupsForUserCommand,
  ListUserPoliciesCommand,
} from '@aws-sdk/client-iam';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  GetAccountCommand,
  GetConfigurationSetCommand,
  GetConfigurationSetEventDestinationsCommand,
  GetEmailIdentityCommand,
  SESv2Client,
  type EventDestination,
  type GetEmailIdentityCommandOutput,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { ECSClient } from '@aws-sdk/client-ecs';
import type { HealthTarget } from '../../lambda/shared/checks';
import { main, MainDeps } from '../../lib/cli/main';
import { dkimRecords, dmarcValue, SES_SPF_INCLUDE } from '../../lib/dns-records';
import { BASE_ENV } from '../helpers';
import { Zone } from '../support/dns-server';
import {
  EXAMPLE_CONFIGURATION_SET,
  EXAMPLE_DMARC,
  EXAMPLE_SECRET_ARN,
  exampleHealthTarget,
} from '../support/health-target';
import { FEEDBACK_TOPIC_ARN } from '../support/fake-aws';

export const REGION = 'eu-west-1';
export const SECRET_ARN = EXAMPLE_SECRET_ARN;
export const TOKENS = ['tokone', 'toktwo', 'tokthree'];
export const CREDENTIALS = {
  username: 'AKIAEXAMPLEKEY000001',
  password: 'BExampleSmtpPasswordThatMustNeverLeak/+=',
  host: 'email-smtp.eu-west-1.amazonaws.com',
  port: 587,
  region: REGION,
  fromAddress: 'no-reply@example.com',
};

export const cfn = mockClient(CloudFormationClient);
export const sm = mockClient(SecretsManagerClient);
export const ses = mockClient(SESv2Client);
export const cw = mockClient(CloudWatchClient);
export const iam = mockClient(IAMClient);
export const trail = mockClient(CloudTrailClient);
export const lambda = mockClient(LambdaClient);
export const sns = mockClient(SNSClient);
export const ecs = mockClient(ECSClient);
export const ALARM_TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:SesSmtp-prod-OperatorAlarmsTopic-EXAMPLE';
export const TRAIL_ARN = 'arn:aws:cloudtrail:us-east-1:123456789012:trail/management-events';
/** A multi-Region trail of another home Region (a shadow trail in eu-west-1): healthyAws's trail. */
export const MANAGEMENT_TRAIL = {
  Name: 'management-events',
  TrailARN: TRAIL_ARN,
  HomeRegion: 'us-east-1',
  IsMultiRegionTrail: true,
};
export const USER_NAME = 'SesSmtp-prod-SmtpCredentialsUser1A2B3C4D-EXAMPLE';
export const CONFIGURATION_SET = EXAMPLE_CONFIGURATION_SET;

/** The health-check function of a SesSmtp "Mail" in a stack of your own, "Mail". */
export const HEALTH_FUNCTION = 'Mail-MailHealthChecksFunction1A2B3C4D-AbCdEfGhIjKl';
/** Its settings (HEALTH_TARGET) with the example environment's values, as HealthChecks writes them. */
export const HEALTH_TARGET: HealthTarget = exampleHealthTarget('Mail');

/** Lambda reports HEALTH_FUNCTION with these settings as its HEALTH_TARGET variable. */
export function healthFunction(target: unknown = HEALTH_TARGET): void {
  lambda.on(GetFunctionConfigurationCommand, { FunctionName: HEALTH_FUNCTION }).resolves({
    FunctionName: HEALTH_FUNCTION,
    Environment: {
      Variables: { NODE_OPTIONS: '--enable-source-maps', HEALTH_TARGET: JSON.stringify(target) },
    },
  });
}

export const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-smtp-cli-'));

/**
 * The options that point the CLI at a test SMTP server on 127.0.0.1, trusting its certificate
 * (written into the run's folder).
 */
export function localSmtpOptions(smtp: { port: number; ca: string }): string[] {
  const caFile = path.join(tmp, `smtp-ca-${smtp.port}.pem`);
  fs.writeFileSync(caFile, smtp.ca);
  return ['--smtp-host', '127.0.0.1', '--smtp-port', String(smtp.port), '--smtp-ca', caFile];
}

/** An environments file with one environment, "prod". */
export function writeConfig(env: Record<string, unknown> = {}): string {
  const file = path.join(tmp, `config-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(
    file,
    JSON.stringify({
      environments: {
        prod: {
          ...BASE_ENV,
          region: REGION,
          dmarc: { aggregateReportUris: ['mailto:dmarc@example.com'] },
          ...env,
        },
      },
    }),
  );
  return file;
}

/** No AWS client of the CLI was called (the command stopped before any request). */
export function expectNoAwsCalls(): void {
  expect([cfn, sm, ses, cw, iam, trail, lambda, sns, ecs].map((mock) => mock.calls().length)).toEqual([
    0, 0, 0, 0, 0, 0, 0, 0, 0,
  ]);
}

/** CloudFormation's DescribeStacks answer: `stackName` with these outputs (key: value). */
function describedStack(
  stackName: string,
  outputs: Record<string, string>,
  status = 'CREATE_COMPLETE',
  stackId?: string,
): DescribeStacksCommandOutput {
  return {
    $metadata: {},
    Stacks: [
      {
        StackName: stackName,
        ...(stackId !== undefined && { StackId: stackId }),
        CreationTime: new Date(),
        StackStatus: status as StackStatus,
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  };
}

/**
 * CloudFormation reports `stackName` with these outputs (key: value); with `stackId` (a stack
 * ARN), only when asked for that id, as a stack of that id.
 */
export function stackWithOutputs(
  stackName: string,
  outputs: Record<string, string>,
  status = 'CREATE_COMPLETE',
  stackId?: string,
) {
  cfn
    .on(DescribeStacksCommand, stackId === undefined ? undefined : { StackName: stackId })
    .resolves(describedStack(stackName, outputs, status, stackId));
}

/** An answer of healthyAws: to a command of this class whose input has these values (any input without). */
interface Answer {
  readonly command: abstract new (...args: never[]) => object;
  readonly input?: Readonly<Record<string, string | boolean>>;
  readonly output: object;
}

type SentCommand = { input?: object };

/**
 * Resets `mock` and makes `answers` its default: the first answer whose command and input match,
 * else undefined (what a stub with no matching `on` returns). An `on` a test adds later comes
 * first, as it did over the `on`s these answers once were; one difference: a test's `on` with only
 * `resolvesOnce` answers falls back to these once they are used up (sinon's fake takes its
 * parent's behaviour), where it answered undefined (no test relies on either: each such `on` ends
 * with a `resolves` or `rejects`). One function instead of one `on` per answer: aws-sdk-client-mock's
 * `on` makes a sinon fake, which copies the stub's properties, and the fakes made healthyAws cost
 * about 3 ms of each of the CLI's 600-odd tests.
 */
function answerByDefault(
  mock: { reset(): { send: { callsFake(fake: (command: SentCommand) => unknown): unknown } } },
  answers: readonly Answer[],
): void {
  mock.reset().send.callsFake((command) => {
    const answer = answers.find(
      ({ command: type, input = {} }) =>
        command instanceof type &&
        Object.entries(input).every(
          ([key, value]) => (command.input as Record<string, unknown> | undefined)?.[key] === value,
        ),
    );
    return answer && Promise.resolve(answer.output);
  });
}

/** SES's answer for example.com, verified with Easy DKIM and its MAIL FROM domain. */
export const VERIFIED_IDENTITY: GetEmailIdentityCommandOutput = {
  $metadata: {},
  VerifiedForSendingStatus: true,
  DkimAttributes: { Status: 'SUCCESS', Tokens: TOKENS, SigningEnabled: true },
  MailFromAttributes: {
    MailFromDomain: 'mail.example.com',
    MailFromDomainStatus: 'SUCCESS',
    BehaviorOnMxFailure: 'USE_DEFAULT_VALUE',
  },
  // The stack's configuration set, the identity's default (what SMTP mail goes through).
  ConfigurationSetName: CONFIGURATION_SET,
};

/** The event destination the stack gives its configuration set, as SES reports it. */
export const FEEDBACK_DESTINATION: EventDestination = {
  Name: 'SesSmtpprodSendingFeedbackConfigurationSetFeedback-EXAMPLE',
  Enabled: true,
  MatchingEventTypes: ['BOUNCE', 'COMPLAINT'],
  SnsDestination: { TopicArn: FEEDBACK_TOPIC_ARN },
};

/** The healthy state of a deployed environment, as the AWS APIs report it. */
export function healthyAws(): void {
  ecs.reset();
  answerByDefault(cfn, [
    {
      command: DescribeStacksCommand,
      output: describedStack('SesSmtp-prod', {
        SmtpSecretArn: SECRET_ARN,
        IdentityName: 'example.com',
        ConfigurationSetName: CONFIGURATION_SET,
        SmtpUserName: USER_NAME,
        SmtpPort: '587',
        OperatorAlarmTopicArn: ALARM_TOPIC_ARN,
      }),
    },
  ]);
  // One confirmed email subscription to the operator topic.
  answerByDefault(sns, [
    {
      command: ListSubscriptionsByTopicCommand,
      input: { TopicArn: ALARM_TOPIC_ARN },
      output: {
        Subscriptions: [
          { SubscriptionArn: `${ALARM_TOPIC_ARN}:0f1e2d3c`, Protocol: 'email', Endpoint: 'ops@example.com' },
        ],
      },
    },
  ]);
  answerByDefault(sm, [
    {
      command: GetSecretValueCommand,
      output: { ARN: SECRET_ARN, SecretString: JSON.stringify(CREDENTIALS) },
    },
    {
      command: DescribeSecretCommand,
      output: {
        ARN: SECRET_ARN,
        RotationEnabled: true,
        LastRotatedDate: new Date(Date.now() - 10 * 86_400_000),
        NextRotationDate: new Date(Date.now() + 80 * 86_400_000),
      },
    },
  ]);
  answerByDefault(ses, [
    { command: GetEmailIdentityCommand, input: { EmailIdentity: 'example.com' }, output: VERIFIED_IDENTITY },
    {
      command: GetAccountCommand,
      output: {
        ProductionAccessEnabled: true,
        SendingEnabled: true,
        EnforcementStatus: 'HEALTHY',
        SendQuota: { Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: 1200 },
      },
    },
    {
      command: GetConfigurationSetCommand,
      input: { ConfigurationSetName: 'SendingFeedbackConfigurationSet-abc' },
      output: {
        SendingOptions: { SendingEnabled: true },
        ReputationOptions: { ReputationMetricsEnabled: true },
      },
    },
    // The stack's event destination: bounces and complaints to the feedback topic.
    {
      command: GetConfigurationSetEventDestinationsCommand,
      input: { ConfigurationSetName: 'SendingFeedbackConfigurationSet-abc' },
      output: { EventDestinations: [FEEDBACK_DESTINATION] },
    },
  ]);
  // The previous key (here the same JSON as the current one) has no SES use on record; the
  // current one is active.
  answerByDefault(iam, [
    {
      command: GetAccessKeyLastUsedCommand,
      output: { UserName: USER_NAME, AccessKeyLastUsed: { ServiceName: 'N/A', Region: 'N/A' } },
    },
    {
      command: ListAccessKeysCommand,
      input: { UserName: USER_NAME },
      output: { AccessKeyMetadata: [{ AccessKeyId: 'AKIAEXAMPLEKEY000001', Status: 'Active' }] },
    },
    // The stack's send policy, inline; no managed policy, no group.
    {
      command: ListUserPoliciesCommand,
      input: { UserName: USER_NAME },
      output: { PolicyNames: ['SmtpUserDefaultPolicy'] },
    },
    { command: ListAttachedUserPoliciesCommand, output: { AttachedPolicies: [] } },
    { command: ListGroupsForUserCommand, output: { Groups: [] } },
  ]);
  answerByDefault(cw, [
    {
      command: GetMetricDataCommand,
      output: {
        MetricDataResults: [
          { Id: 'm0', Values: [0.004, 0.003] },
          { Id: 'm1', Values: [0.0001] },
        ],
      },
    },
  ]);
  // MANAGEMENT_TRAIL, logging every management event.
  answerByDefault(trail, [
    {
      command: DescribeTrailsCommand,
      input: { includeShadowTrails: true },
      output: { trailList: [MANAGEMENT_TRAIL] },
    },
    { command: GetTrailStatusCommand, input: { Name: TRAIL_ARN }, output: { IsLogging: true } },
    {
      command: GetEventSelectorsCommand,
      input: { TrailName: TRAIL_ARN },
      output: { EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: true }] },
    },
  ]);
  answerByDefault(lambda, []);
}

/** DNS exactly as the example environment needs it. */
export function healthyZone(): Zone {
  const zone: Zone = {
    'mail.example.com': {
      MX: [{ priority: 10, exchange: `feedback-smtp.${REGION}.amazonses.com` }],
      TXT: [[`v=spf1 ${SES_SPF_INCLUDE} ~all`]],
    },
    '_dmarc.example.com': {
      TXT: [[dmarcValue(EXAMPLE_DMARC)]],
    },
  };
  for (const r of dkimRecords('example.com', TOKENS))
    zone[r.name.replace(/\.$/, '')] = { CNAME: r.values[0] };
  return zone;
}

export interface Captured {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The questions asked on the terminal. */
  readonly questions: string[];
  /** Each wait the command asked for, in ms; none is waited. */
  readonly waits: number[];
}

export interface RunOptions {
  /** stdout is a terminal. @default false */
  readonly tty?: boolean;
  /** stderr is a terminal (progress lines are rewritten in place). @default false */
  readonly stderrTty?: boolean;
  /** stdin is a terminal, so questions can be asked. @default true */
  readonly interactive?: boolean;
  /** The answer to every question. @default false */
  readonly answer?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

export const TEST_VERSION = '9.9.9-test';

/** Runs the CLI in-process with captured streams. */
export async function run(args: string[], options: RunOptions = {}): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const questions: string[] = [];
  const waits: number[] = [];
  const deps: MainDeps = {
    streams: {
      stdout: { isTTY: options.tty ?? false, write: (t: string) => (stdout += t) },
      stderr: { isTTY: options.stderrTty ?? false, write: (t: string) => (stderr += t) },
    },
    env: options.env ?? {},
    interactive: options.interactive ?? true,
    ask: async (question) => {
      questions.push(question);
      return options.answer ?? false;
    },
    version: () => TEST_VERSION,
    sleep: async (ms) => void waits.push(ms),
  };
  const code = await main(args, deps);
  return { code, stdout, stderr, questions, waits };
}

/**
 * Runs `fn` with a clock that moves a second each time it is read (Date.now): a wait of N seconds
 * passes after N polls, without real time.
 */
export async function withSteppingClock<T>(fn: () => Promise<T>): Promise<T> {
  let clock = Date.now();
  const now = jest.spyOn(Date, 'now').mockImplementation(() => (clock += 1000));
  return fn().finally(() => now.mockRestore());
}
