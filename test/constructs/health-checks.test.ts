import { App, Aws, Duration, NestedStack, Stack, Stage } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { CfnAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  HealthChecks,
  HealthChecksProps,
  leakedCredentialSteps,
  rotationBlockedAlarmOptions,
} from '../../lib/constructs/health-checks';
import { CHECK_CATALOG } from '../../lambda/shared/check-catalog';
import { ConfigError } from '../../lib/config/load';
import { synthStack, testApp } from '../helpers';

function build({
  withSecret,
  withQueues,
  withWebhook,
  withEcsServices,
  env = { account: '123456789012', region: 'eu-west-1' },
  place = (app, stackEnv) => new Stack(app, 'Test', { env: stackEnv }),
  ...props
}: Partial<HealthChecksProps> & {
  /** The stack to build in, in the test's app. */
  place?: (app: App, env: { account?: string; region?: string }) => Stack;
  withSecret?: (stack: Stack) => secretsmanager.ISecret;
  /** Queues of the stack to keep reporting. */
  withQueues?: (stack: Stack) => sqs.IQueue[];
  /** An app webhook, at WEBHOOK_URL, on a topic of the stack named WebhookTopic. */
  withWebhook?: boolean;
  /** ECS services restarted after each rotation (checkEcsServices). */
  withEcsServices?: string[];
  env?: { account?: string; region?: string };
} = {}) {
  const stack = place(testApp(), env);
  const identity = new ses.EmailIdentity(stack, 'Identity', { identity: ses.Identity.domain('example.com') });
  const configurationSet = new ses.ConfigurationSet(stack, 'Set', { configurationSetName: 'smtp-default' });
  const key = new kms.Key(stack, 'SecretKey');
  const health = new HealthChecks(stack, 'Health', {
    environmentName: 'prod',
    topic: new sns.Topic(stack, 'Topic'),
    identity,
    configurationSet,
    secret: withSecret
      ? withSecret(stack)
      : new secretsmanager.Secret(stack, 'Secret', { encryptionKey: key }),
    smtpUser: new iam.User(stack, 'User'),
    rotationDays: 90,
    dns: { mailFromSubdomain: 'mail' },
    ...(withQueues && { keepReporting: withQueues(stack) }),
    ...(withWebhook && { webhook: { url: WEBHOOK_URL, topic: new sns.Topic(stack, 'WebhookTopic') } }),
    ...props,
  });
  if (withEcsServices) health.checkEcsServices(...withEcsServices);
  // Synthesized when read: a test of what the constructor refuses needs no template.
  return {
    stack,
    health,
    get template() {
      return Template.fromStack(stack);
    },
  };
}

const WEBHOOK_URL = 'https://app.example.com/ses/feedback';
const ECS_SERVICE = 'arn:aws:ecs:eu-west-1:123456789012:service/prod/web';

/** The default `ses-smtp` options of the stack build() makes. */
const OPTIONS = '--stack Test --region eu-west-1';

type Alarm = { Properties: Record<string, unknown> & { AlarmDescription: unknown } };
/** An alarm description as text, with each token (a log group name) as "<token>". */
const text = (value: unknown): string =>
  typeof value === 'string'
    ? value
    : ((value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1] ?? [])
        .map((part) => (typeof part === 'string' ? part : '<token>'))
        .join('');
const alarmsOf = (template: Template) =>
  Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Alarm[];
const dimension = (alarm: Alarm, name: string) =>
  ((alarm.Properties.Dimensions ?? []) as { Name: string; Value: unknown }[]).find((d) => d.Name === name)
    ?.Value;

describe('HealthChecks', () => {
  // The check must be an upper bound of what Lambda measures: the largest settings it accepts, with
  // every Ref at its longest real value, must still fit 4096 bytes.
  test.each([
    [
      'a secret of this stack, its name generated',
      (stack: Stack) => new secretsmanager.Secret(stack, 'Secret'),
    ],
    [
      'a secret of this stack with a long name',
      (stack: Stack) =>
        new secretsmanager.Secret(stack, 'Secret', { secretName: `ses-smtp/${'n'.repeat(300)}` }),
    ],
    [
      'an imported secret, named by its name',
      (stack: Stack) =>
        secretsmanager.Secret.fromSecretNameV2(stack, 'Secret', `ses-smtp/${'n'.repeat(200)}`),
    ],
  ])('the largest settings accepted fit Lambda at deploy: %s', (_case, secret) => {
    const make = (length: number) =>
      build({
        dns: {
          mailFromSubdomain: 'mail',
          apexSpf: {
            otherMechanisms: [],
            all: '~all',
            otherTxtValues: [`v=${'x'.repeat(length)}`],
          },
        },
        // build() makes its own secret unless given one: this case's, in the same stack.
        withSecret: secret,
      });
    // The message says how many bytes the check counts; each character of the value adds one.
    let counted = 0;
    try {
      make(4096);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      counted = Number(/can take up to (\d+) bytes/.exec((e as Error).message)?.[1]);
    }
    const accepted = 4096 - (counted - 4096);
    expect(() => make(accepted + 1)).toThrow(ConfigError);
    expect(accepted).toBeGreaterThan(2500);
    // What Lambda measures: the JSON of the variables, each Ref at the longest it can be.
    const { template } = make(accepted);
    const resources = template.toJSON().Resources as Record<
      string,
      { Type: string; Properties?: Record<string, unknown> }
    >;
    const value = (part: unknown): string => {
      if (typeof part === 'string') return part;
      const { Ref, 'Fn::Join': join } = part as { Ref?: string; 'Fn::Join'?: [string, unknown[]] };
      if (join) return join[1].map(value).join(join[0]);
      if (Ref === 'AWS::Partition') return 'aws-us-gov';
      const resource = resources[Ref!];
      if (resource?.Type === 'AWS::SES::EmailIdentity') return resource.Properties!.EmailIdentity as string;
      if (resource?.Type === 'AWS::SES::ConfigurationSet') return resource.Properties!.Name as string;
      if (resource?.Type === 'AWS::SecretsManager::Secret') {
        // CloudFormation's name when none is given: the logical id and a random suffix.
        const name = (resource.Properties!.Name as string | undefined) ?? `${Ref}-${'r'.repeat(12)}`;
        return `arn:aws-us-gov:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`;
      }
      throw new Error(`no longest value for ${JSON.stringify(part)}`);
    };
    const [fn] = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    const variables = (fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    const measured = JSON.stringify(
      Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, value(v)])),
    );
    expect(Buffer.byteLength(measured)).toBeLessThanOrEqual(4096);
    // And the check does not refuse much that would deploy.
    expect(Buffer.byteLength(measured)).toBeGreaterThan(3700);
  });

  test("the SMTP login: the Region's endpoint, whose password the secret holds, on 587 (Lambda cannot reach 25)", () => {
    const { template } = build();
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(fn.Properties.Environment.Variables).toMatchObject({
      SMTP_HOST: 'email-smtp.eu-west-1.amazonaws.com',
      SMTP_PORT: '587',
    });
    expect(fn.Properties.Timeout).toBe(120);
  });

  test('cliOptions longer than 160 characters are refused (they would take alarm texts past 1024)', () => {
    expect(() => build({ cliOptions: `--env ${'x'.repeat(155)}` })).toThrow(
      /^cliOptions must be at most 160 characters \(alarm descriptions are limited to 1024\), got 161: --env x+\.\.\.$/,
    );
    expect(() => build({ cliOptions: `--env ${'x'.repeat(154)}` })).not.toThrow();
    // The stale-use guard's alarm options, made apart from the construct, check them too.
    expect(() => rotationBlockedAlarmOptions('prod', `--env ${'x'.repeat(155)}`)).toThrow(
      /at most 160 characters/,
    );
  });

  // An operator pastes them after a command: the CLI must take them, and the shell leave them be.
  test.each([
    ['--stack Mail --region eu-west-1 --profile prod', '"--profile" is not a CLI option that takes a value'],
    ['--stack Mail --json', '"--json" is not a CLI option that takes a value'],
    ['--stack', '--stack has no value'],
    ['--stack --region eu-west-1', '--stack has no value'],
    ['--env a --env b', '--env is given twice'],
    // The fix too: how to write such a value.
    [
      '--stack $(id)',
      '"$(id)" is not a word a shell reads as itself: put a value with spaces or other characters in single quotes',
    ],
    // A word in an option's place is named whole, "=" and all.
    ['envs=prod.json --env prod', '"envs=prod.json" is not a CLI option that takes a value'],
    ['--config my envs.json', '"envs.json" is not a CLI option that takes a value'],
    [
      '--stack Mail\n--region eu-west-1',
      '"--stack Mail\\n--region eu-west-1" holds a line break, a tab or another control character',
    ],
    // Any control character: a tab, and DEL (in quotes, where the shell would keep it).
    ['--stack\tMail', '"--stack\\tMail" holds a line break, a tab or another control character'],
    [
      "--config 'envs\x7f.json'",
      `"--config 'envs\x7f.json'" holds a line break, a tab or another control character`,
    ],
    ['prod', '"prod" is not a CLI option that takes a value'],
    ['', 'no option given'],
    // Double quotes keep $(...) live: only single quotes are taken.
    ['--stack "$(id)"', '"\\"$(id)\\"" is not a word a shell reads as itself'],
    // What the shell makes of it, not what it looks like: touching pieces are one word.
    ["--stack 'Mail'--region eu-west-1", '"eu-west-1" is not a CLI option that takes a value'],
    ["--env ''", '--env has no value'],
    // A quote left open: the pasted command would never run (the shell waits for its end).
    ["--env 'prod", `"--env 'prod" opens a single quote it does not close`],
    ["--env pr'od", `"--env pr'od" opens a single quote it does not close`],
    ["--env 'prod' '", `"--env 'prod' '" opens a single quote it does not close`],
    ["--stack '-Mail' --region eu-west-1", '--stack has no value'],
    ['--config =envs.json', '"=envs.json" is not a word a shell reads as itself'],
    ['--config=', '--config has no value'],
    // After "=", a value that starts with "-" is the value: the CLI's own check names it.
    ['--stack=-Mail', '--stack: got "-Mail", expected a CloudFormation stack name'],
    ['--config=x --config y', '--config is given twice'],
    // A value the CLI's own check refuses (each option's check runs as the CLI runs it).
    ['--stack Mail --region eu-west', '--region: got "eu-west", expected an AWS Region name'],
    ['--stack 1Mail', '--stack: got "1Mail", expected a CloudFormation stack name'],
    ['--identity=exa..mple.com', '--identity: got "exa..mple.com", expected a domain name'],
    [
      '--smtp-host https://mail.example.com',
      '--smtp-host: got "https://mail.example.com", expected a host name',
    ],
    ['--smtp-port 0', '--smtp-port: got "0", expected a TCP port number'],
    ['--smtp-timeout 10s', '--smtp-timeout: got "10s", expected'],
    ["--resolver '1.1.1.1 53'", '--resolver: got "1.1.1.1 53", expected IP[:PORT]'],
  ])('cliOptions %j are refused: %s', (cliOptions, problem) => {
    expect(() => build({ cliOptions })).toThrow(
      `cliOptions must be the CLI's options as "--name VALUE" pairs: ${problem}`,
    );
  });

  test.each([
    ['--env prod'],
    ["--config 'my envs/prod.json' --env prod"],
    ['--stack Mail --region eu-west-1 --secret-id arn:aws:secretsmanager:eu-west-1:123456789012:secret:s'],
    ['--stack  Mail   --region eu-west-1'],
    // "=" inside a value is the shell's plain character.
    ['--config envs=prod.json --env prod'],
    // The CLI's parser takes --name=VALUE too.
    ["--config='my envs/prod.json' --env=prod"],
    // Quotes anywhere in a word: the shell passes its text without them.
    ["'--env' prod --config 'my envs'/prod.json"],
    ["'--env=prod' --config=envs'/prod'.json"],
    // A value that starts with "-", after "=" (the CLI's parser takes it so, not as a word of its own).
    ["--config=-envs.json --secret-id='-mail/smtp'"],
    // Values as the CLI takes them: a stack's ARN, an IDN, an IPv6 resolver.
    [
      '--stack arn:aws-us-gov:cloudformation:us-gov-west-1:123456789012:stack/SesSmtp-prod/0a1b-2c3d --region us-gov-west-1',
    ],
    ["--identity 'bücher.example' --smtp-host vpce-0a1b.email-smtp.eu-west-1.vpce.amazonaws.com"],
    ["--resolver '[::1]:53' --smtp-port 2587 --smtp-timeout 30.5"],
    // A file on the operator's machine, not this one: the CLI reads it when the command runs.
    ['--smtp-ca /etc/ssl/corporate-proxy-ca.pem --config /srv/app/environments.json --env prod'],
  ])('cliOptions %j are taken', (cliOptions) => {
    expect(() => build({ cliOptions })).not.toThrow();
  });

  // A stack whose Region is known only at deploy: its name and Region are tokens until then.
  test('cliOptions with tokens are taken (each is one word once resolved)', () => {
    const options = `--stack ${Aws.STACK_NAME} --region ${Aws.REGION}`;
    expect(() => build({ env: {}, cliOptions: options })).not.toThrow();
    expect(() => rotationBlockedAlarmOptions('prod', options)).not.toThrow();
    expect(() => rotationBlockedAlarmOptions('prod', `--profile ${Aws.REGION}`)).toThrow(
      '"--profile" is not a CLI option that takes a value',
    );
  });

  // Lambda refuses more than 4 KB of environment variables, and says so only at deploy; the
  // target carries the apex TXT values and DMARC URIs the DNS check compares.
  /** Apex settings with `values` verification records of about 95 characters each. */
  const apexSpf = (values: number) => ({
    enabled: true,
    otherMechanisms: [],
    all: '~all' as const,
    otherTxtValues: Array.from({ length: values }, (_, i) => `verification-${i}=${'x'.repeat(80)}`),
  });
  test("settings that would pass Lambda's 4 KB of environment variables are one line at synth", () => {
    // 30 verification records of about 95 characters (a busy apex: 3.6 KB as Lambda measures it) still fit.
    expect(() => build({ dns: { mailFromSubdomain: 'mail', apexSpf: apexSpf(30) } })).not.toThrow();
    let error: unknown;
    try {
      build({ dns: { mailFromSubdomain: 'mail', apexSpf: apexSpf(40) } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(
        /^environment "prod": health: the health check's settings can take up to \d+ bytes at deploy, more than the 4096 bytes Lambda allows for environment variables: .*apexSpf\.otherTxtValues.*health\.enabled to false/,
      ),
    ]);
  });

  test('in a stack whose Region is known only at deploy, the default options count that Region at its longest (14), not as an unbounded value', () => {
    // The most 95-character values that fit the 4 KB, found by adding one at a time.
    const fits = (cliOptions?: string) => {
      for (let n = 28; ; n++) {
        try {
          build({
            env: {},
            ...(cliOptions && { cliOptions }),
            dns: { mailFromSubdomain: 'mail', apexSpf: apexSpf(n) },
          });
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          return n - 1;
        }
      }
    };
    const longest = 'ap-southeast-5';
    expect(longest).toHaveLength(14);
    const atLongest = fits(`--stack Test --region ${longest}`);
    expect(atLongest).toBeGreaterThan(28);
    expect(fits()).toBe(atLongest);
  });

  test('every check in the catalog has an alarm on its metric, with an actionable description, to the topic', () => {
    const { template } = build({ withWebhook: true, withEcsServices: [ECS_SERVICE] });
    const alarms = alarmsOf(template);
    for (const check of CHECK_CATALOG) {
      const alarm =
        check.id === 'quota'
          ? alarms.find(
              (a) => a.Properties.MetricName === 'QuotaUsedPercent' && a.Properties.Threshold === 95,
            )
          : alarms.find(
              (a) => a.Properties.MetricName === 'CheckPassed' && dimension(a, 'Check') === check.id,
            );
      expect({ check: check.id, found: alarm !== undefined }).toEqual({ check: check.id, found: true });
      expect(alarm!.Properties).toMatchObject({
        Namespace: 'SesSmtp/Health',
        AlarmActions: [{ Ref: expect.stringMatching(/^Topic/) }],
        OKActions: [{ Ref: expect.stringMatching(/^Topic/) }],
      });
      const description = text(alarm!.Properties.AlarmDescription);
      // The quota alarm says its own (shorter) text: with the leaked-credential steps, the
      // catalog's would take it past CloudWatch's 1024 characters.
      if (check.id === 'quota') expect(description).toContain(leakedCredentialSteps(OPTIONS));
      else expect(description).toContain(check.runbook);
      // Its commands pick this stack (the default options: no environments file needed).
      if (check.runbook.includes('ses-smtp ')) expect(description).toContain(OPTIONS);
      expect(description).toContain('environment prod');
      // Says what to do: names a command or a setting to run or change.
      expect(description).toMatch(
        /npx --no -- ses-smtp|ses-smtp \w+|Service Quotas|set health\.|credentials\./,
      );
    }
  });

  test('check alarms: the last run decides (Minimum < 1 over an hour, the state kept between runs)', () => {
    build().template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'CheckPassed',
      Namespace: 'SesSmtp/Health',
      Dimensions: [
        { Name: 'Check', Value: 'dkim' },
        { Name: 'Environment', Value: 'prod' },
      ],
      Statistic: 'Minimum',
      Period: 3600,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'ignore',
    });
  });

  // A failed run is a Lambda error: ALARM for the hour it fell in, not a 5-minute blip.
  test("the function's failures: ALARM on any error within the hour", () => {
    const errors = alarmsOf(build().template).filter(
      (a) => a.Properties.Namespace === 'AWS/Lambda' && a.Properties.MetricName === 'Errors',
    );
    expect(errors.map((a) => a.Properties)).toEqual([
      expect.objectContaining({
        Statistic: 'Sum',
        Period: 3600,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      }),
    ]);
    expect(text(errors[0].Properties.AlarmDescription)).toMatch(/^The SES SMTP health-check function failed/);
  });

  // The checks run daily and the quota hourly, into hourly periods: with "missing" an alarm would
  // fall to INSUFFICIENT_DATA between runs. Whether the runs happen at all is the watchers' job.
  test('every alarm on the scheduled results keeps its state between runs', () => {
    const onResults = alarmsOf(build({ withEcsServices: [ECS_SERVICE] }).template).filter(
      (a) =>
        ['CheckPassed', 'QuotaUsedPercent', 'PeakSendRatePercent'].includes(
          a.Properties.MetricName as string,
        ) && a.Properties.Statistic !== 'SampleCount',
    );
    expect(onResults.length).toBeGreaterThanOrEqual(CHECK_CATALOG.length + 1);
    for (const alarm of onResults) expect(alarm.Properties.TreatMissingData).toBe('ignore');
  });

  // A run that stops (rule disabled, permission gone, every invocation failing, the metrics' log
  // group deleted) publishes nothing, and the check alarms keep their last state: each schedule is
  // watched by the point its runs write as they finish. INSUFFICIENT_DATA is the signal (a new alarm starts
  // there, so a new environment is not reported before its first run).
  test.each<[string, events.Schedule | undefined, events.Schedule | undefined, number, number]>([
    ['the defaults (daily, hourly)', undefined, undefined, 26, 3],
    [
      'weekdays 08:00-17:45 every 15 minutes',
      events.Schedule.expression('cron(0/15 8-17 ? * MON-FRI *)'),
      undefined,
      65,
      3,
    ],
    // 168 one-hour periods: the 7 days CloudWatch takes (Period x EvaluationPeriods), still watched.
    ['every 166 hours', events.Schedule.rate(Duration.hours(166)), undefined, 168, 3],
  ])('runs that stop are reported: %s', (_name, schedule, quotaSchedule, allPeriods, quotaPeriods) => {
    const { template } = build({ ...(schedule && { schedule }), ...(quotaSchedule && { quotaSchedule }) });
    const watcher = (run: string, periods: number) =>
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'SesSmtp/Health',
        MetricName: 'RunFinished',
        Dimensions: [
          { Name: 'Environment', Value: 'prod' },
          { Name: 'Run', Value: run },
        ],
        Statistic: 'SampleCount',
        Period: 3600,
        EvaluationPeriods: periods,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'missing',
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^Topic') }],
        InsufficientDataActions: [{ Ref: Match.stringLikeRegexp('^Topic') }],
      });
    watcher('all', allPeriods);
    watcher('quota', quotaPeriods);
    // Not the id of the invocation-count alarm they replace: CloudFormation makes them anew, and a
    // new alarm starts in INSUFFICIENT_DATA without notifying (one updated in place keeps OK, then
    // would report the runs of its new metric as stopped).
    const ids = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
    expect(ids.filter((id) => /NotRunning/.test(id))).toEqual([]);
    expect(ids.filter((id) => /RunsStoppedAlarm/.test(id))).toHaveLength(2);
    const descriptions = alarmsOf(template)
      .filter((a) => a.Properties.Statistic === 'SampleCount')
      .map((a) => text(a.Properties.AlarmDescription));
    expect(descriptions).toEqual([
      expect.stringMatching(
        new RegExp(
          `^INSUFFICIENT_DATA here means the SES SMTP health function has not run every check for ${allPeriods} hours \\(environment prod; schedule .*\\): their alarms show stale states\\. Check that the function's EventBridge rules are enabled`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `has not run the identity, sending, quota, credentials and SMTP login checks for ${quotaPeriods} hours`,
        ),
      ),
    ]);
  });

  // A gap it cannot tell gives no count of runs: no alarm with NaN periods (the deploy fails).
  test('a schedule whose gap cannot be told (L): no alarm on checks that keep not telling', () => {
    const { template } = build({ schedule: events.Schedule.expression('cron(0 6 L * ? *)') });
    expect(alarmsOf(template).filter((a) => a.Properties.MetricName === 'ChecksUndetermined')).toEqual([]);
  });

  test('a schedule whose runs CloudWatch cannot watch (over 7 days apart, or L/W/#): no watcher, a warning', () => {
    const { stack, template } = build({ schedule: events.Schedule.expression('cron(0 6 1 * ? *)') });
    expect(
      Object.values(alarmsOf(template)).filter((a) => a.Properties.Statistic === 'SampleCount'),
    ).toHaveLength(1);
    // Nor one on checks that keep not telling: three runs would span three months.
    expect(alarmsOf(template).filter((a) => a.Properties.MetricName === 'ChecksUndetermined')).toEqual([]);
    Annotations.fromStack(stack).hasWarning(
      '/Test/Health',
      Match.stringLikeRegexp(
        'health checks schedule "cron\\(0 6 1 \\* \\? \\*\\)": runs up to 744 hours apart, longer than CloudWatch can watch',
      ),
    );
  });

  /**
   * CloudWatch's state for an M-of-N alarm whose missing data is not breaching, one point per
   * hour at most (`points`, by hour): ALARM when at least DatapointsToAlarm real points of the
   * evaluation range, up to `hour`, breach; OK otherwise. With fewer real points than
   * EvaluationPeriods, CloudWatch counts every real point of its evaluation range, which reaches
   * `extra` periods further back than EvaluationPeriods (by how much for 1-hour periods, AWS does
   * not say).
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
   */
  function stateAt(alarm: Alarm, points: Map<number, number>, hour: number, extra: number): 'ALARM' | 'OK' {
    const p = alarm.Properties as Record<string, number | string>;
    expect([p.Period, p.ComparisonOperator, p.TreatMissingData]).toEqual([
      3600,
      'GreaterThanOrEqualToThreshold',
      'notBreaching',
    ]);
    let breaching = 0;
    for (let h = hour - Number(p.EvaluationPeriods) - extra + 1; h <= hour; h++) {
      const value = points.get(h);
      if (value !== undefined && value >= Number(p.Threshold)) breaching++;
    }
    return breaching >= Number(p.DatapointsToAlarm) ? 'ALARM' : 'OK';
  }

  /** The hours in ALARM up to `until`, for daily runs at 06:00 whose counts are `days` (undefined: no run finished). */
  function alarmHours(alarm: Alarm, days: (number | undefined)[], extra: number, until: number): number[] {
    const points = new Map<number, number>();
    days.forEach((value, day) => value !== undefined && points.set(day * 24 + 6, value));
    return Array.from({ length: until + 1 }, (_, hour) => hour).filter(
      (hour) => stateAt(alarm, points, hour, extra) === 'ALARM',
    );
  }
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const undeterminedAlarm = (template: Template) =>
    alarmsOf(template).find((a) => a.Properties.MetricName === 'ChecksUndetermined')!;

  // A check that could not tell publishes no point, so its own alarm keeps its state: right for a
  // day (SES throttling one login), blind for a week (a resolver that never answers the function).
  test('checks that keep not telling: ALARM on the third daily run, held every hour while they go on, cleared by a run that tells', () => {
    const alarm = undeterminedAlarm(build().template);
    expect(alarm.Properties).toMatchObject({
      Namespace: 'SesSmtp/Health',
      Dimensions: [
        { Name: 'Environment', Value: 'prod' },
        { Name: 'Run', Value: 'all' },
      ],
      Statistic: 'Minimum',
      EvaluationPeriods: 73,
      DatapointsToAlarm: 3,
      AlarmActions: [{ Ref: expect.stringMatching(/^Topic/) }],
      OKActions: [{ Ref: expect.stringMatching(/^Topic/) }],
    });
    expect(text(alarm.Properties.AlarmDescription)).toBe(
      `SES SMTP health checks could not tell in 3 runs of every check within 73 hours (environment prod): a check that cannot tell publishes no point and its alarm keeps its last state, so a fault there goes unseen. The function's log (<token>) names each check ("could not tell") and why: AWS calls throttled or failing (its role, AWS Health), a resolver that does not answer, SES's temporary SMTP answers, a rotation left unfinished. npx --no -- ses-smtp doctor ${OPTIONS} runs the same checks from where you are.`,
    );
    // Five days that could not tell, then runs that tell (06:00 on day 5 is hour 126): cleared an
    // hour after.
    const days = [1, 1, 1, 1, 1, 0, 0];
    expect(alarmHours(alarm, days, 0, 200)).toEqual(range(54, 126));
    // CloudWatch looking a few hours further back: the same ALARM, cleared that much later.
    expect(alarmHours(alarm, days, 3, 200)).toEqual(range(54, 129));
    // A run an hour late (07:00 on day 3), so three gaps span 73 hours: still on every hour.
    const late = new Map([6, 30, 55, 78, 103, 126].map((hour) => [hour, 1]));
    expect(range(55, 140).filter((hour) => stateAt(alarm, late, hour, 0) === 'OK')).toEqual([]);
    // Two checks at once count as one run.
    expect(alarmHours(alarm, [2, 2, 0, 0], 0, 120)).toEqual([]);
  });

  test.each<[string, (number | undefined)[]]>([
    ['every other run could tell', [1, 0, 1, 0, 1, 0, 1]],
    ['two runs could tell between them', [1, 1, 0, 0, 1, 1, 0]],
    ['a run that did not finish and one that could tell', [1, undefined, 1, 0, 1]],
  ])('checks that keep not telling: no ALARM when %s (at most 2 of the last 4)', (_name, days) => {
    expect(alarmHours(undeterminedAlarm(build().template), days, 0, days.length * 24)).toEqual([]);
  });

  test.each<[string, events.Schedule, [number, number] | undefined]>([
    ['every 6 hours', events.Schedule.rate(Duration.hours(6)), [19, 3]],
    // Several runs an hour: hourly points (Minimum), so 3 hours in which every run could not tell.
    ['every 15 minutes', events.Schedule.rate(Duration.minutes(15)), [4, 3]],
    ['every 90 minutes', events.Schedule.rate(Duration.minutes(90)), [6, 3]],
    // Up to 62.25 hours apart (Friday 17:45 to Monday 08:00): 3 gaps pass 7 days, 2 runs.
    ['weekdays every 15 minutes', events.Schedule.expression('cron(0/15 8-17 ? * MON-FRI *)'), [126, 2]],
    ['every 3 days', events.Schedule.rate(Duration.days(3)), [145, 2]],
    // 3 gaps are exactly 7 days: with the hour more, 169 periods, past what CloudWatch takes.
    ['every 56 hours', events.Schedule.rate(Duration.hours(56)), [113, 2]],
    // 2 gaps pass 7 days: one run that could not tell is no alarm.
    ['every 4 days', events.Schedule.rate(Duration.days(4)), undefined],
  ])('the alarm on checks that keep not telling spans the schedule: %s', (_name, schedule, expected) => {
    const alarms = alarmsOf(build({ schedule }).template).filter(
      (a) => a.Properties.MetricName === 'ChecksUndetermined',
    );
    if (expected === undefined) {
      expect(alarms).toEqual([]);
      return;
    }
    const [periods, runs] = expected;
    const [alarm] = alarms;
    expect([alarm.Properties.EvaluationPeriods, alarm.Properties.DatapointsToAlarm]).toEqual([periods, runs]);
    expect(text(alarm.Properties.AlarmDescription)).toMatch(
      `could not tell in ${runs} runs of every check within ${periods} hours`,
    );
  });

  test('quota alarms at 80 % and 95 % by default, configurable; the send-rate alarm at 80 %', () => {
    const defaults = alarmsOf(build().template);
    const quota = (alarms: Alarm[]) =>
      alarms
        .filter((a) => a.Properties.MetricName === 'QuotaUsedPercent')
        .map((a) => [
          a.Properties.Threshold,
          a.Properties.ComparisonOperator,
          a.Properties.EvaluationPeriods,
        ]);
    // The first hourly run past the level alarms: a day's quota can be used up within hours.
    expect(quota(defaults)).toEqual([
      [80, 'GreaterThanOrEqualToThreshold', 1],
      [95, 'GreaterThanOrEqualToThreshold', 1],
    ]);
    const rate = defaults.find((a) => a.Properties.MetricName === 'PeakSendRatePercent')!;
    expect(rate.Properties.Threshold).toBe(80);
    expect(text(rate.Properties.AlarmDescription)).toMatch(/Maximum sending rate exceeded/);
    const custom = alarmsOf(
      build({ quotaPercent: { warning: 50, critical: 70 }, sendRatePercent: 60 }).template,
    );
    expect(quota(custom).map(([t]) => t)).toEqual([50, 70]);
    // The quota check's alarm (checkAlarms, for an app's own panel) is the critical one.
    const { health } = build({ quotaPercent: { warning: 50, critical: 70 } });
    expect((health.checkAlarms.quota.node.defaultChild as CfnAlarm).threshold).toBe(70);
    expect(custom.find((a) => a.Properties.MetricName === 'PeakSendRatePercent')!.Properties.Threshold).toBe(
      60,
    );
  });

  test.each([
    [
      { warning: 95, critical: 80 },
      /quotaPercent must have 0 < warning < critical <= 100, got: warning 95, critical 80/,
    ],
    [{ warning: 80, critical: 120 }, /got: warning 80, critical 120/],
  ])('quotaPercent %j is refused', (quotaPercent, message) => {
    expect(() => build({ quotaPercent })).toThrow(message);
  });

  test('sendRatePercent outside (0, 100] is refused', () => {
    expect(() => build({ sendRatePercent: 0 })).toThrow(
      /sendRatePercent must be more than 0 and at most 100, got: 0/,
    );
  });

  test('anomaly detection on the account send volume, pointing to the leaked-credential steps; can be off', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'GreaterThanUpperThreshold',
      ThresholdMetricId: 'expr_1',
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.stringLikeRegexp(
        // The figure is the account's: the steps are for the environment that sends.
        'every sender of the account in this Region: find the environment that sends \\(its dashboard\'s "sends of this environment"\\), then run with its options \\(this one\'s: --stack Test --region eu-west-1\\): 1\\) npx --no -- ses-smtp pause .*npx --no -- ses-smtp revoke deactivates .* and rotates; 3\\) npx --no -- ses-smtp env .*npx --no -- ses-smtp resume',
      ),
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'ANOMALY_DETECTION_BAND(m0, 3)' }),
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: { Namespace: 'AWS/SES', MetricName: 'Send' },
            Period: 900,
            Stat: 'Sum',
          }),
        }),
      ]),
    });
    const off = build({ sendAnomalyDetection: false }).template;
    expect(alarmsOf(off).some((a) => a.Properties.ComparisonOperator === 'GreaterThanUpperThreshold')).toBe(
      false,
    );
  });

  test('two schedules: every check daily, the quota hourly; both configurable', () => {
    const { template } = build();
    const rules = Object.values(template.findResources('AWS::Events::Rule')).map((r) => [
      r.Properties.ScheduleExpression,
      JSON.parse(r.Properties.Targets[0].Input),
    ]);
    expect(rules).toEqual([
      ['rate(1 day)', { checks: 'all' }],
      ['rate(1 hour)', { checks: 'quota' }],
    ]);
    const custom = build({
      schedule: events.Schedule.expression('cron(0 6 * * ? *)'),
      quotaSchedule: events.Schedule.rate(Duration.minutes(15)),
    }).template;
    expect(
      Object.values(custom.findResources('AWS::Events::Rule')).map((r) => r.Properties.ScheduleExpression),
    ).toEqual(['cron(0 6 * * ? *)', 'rate(15 minutes)']);
  });

  test('the role reads only: this identity and set, the account status, this user, this secret', () => {
    const { template } = build();
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('HealthFunctionRole'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.sort()).toEqual(
      [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'ses:GetEmailIdentity',
        'ses:GetConfigurationSet',
        'ses:GetConfigurationSetEventDestinations',
        'ses:GetAccount',
        'cloudwatch:GetMetricData',
        'iam:GetAccessKeyLastUsed',
        'iam:ListAccessKeys',
        'iam:ListUserPolicies',
        'iam:ListAttachedUserPolicies',
        'iam:ListGroupsForUser',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'kms:Decrypt',
      ].sort(),
    );
    const star = statements.filter((s) => s.Resource === '*');
    expect(star).toEqual([
      {
        Sid: 'ReadAccountStatusAndSendMetrics',
        Effect: 'Allow',
        Action: ['ses:GetAccount', 'cloudwatch:GetMetricData'],
        Resource: '*',
      },
    ]);
    expect(statements).toContainEqual({
      Sid: 'ReadTheSmtpUsersKeys',
      Effect: 'Allow',
      Action: [
        'iam:GetAccessKeyLastUsed',
        'iam:ListAccessKeys',
        'iam:ListUserPolicies',
        'iam:ListAttachedUserPolicies',
        'iam:ListGroupsForUser',
      ],
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^User/), 'Arn'] },
    });
    const decrypt = statements.find((s) => s.Action === 'kms:Decrypt');
    expect(decrypt.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^SecretKey/), 'Arn'] });
    expect(decrypt.Condition).toEqual({
      StringEquals: {
        'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.eu-west-1.', { Ref: 'AWS::URLSuffix' }]] },
      },
    });
    for (const s of statements.filter((s) => String(s.Action).startsWith('ses:Get') && s.Resource !== '*'))
      expect(JSON.stringify(s.Resource)).toMatch(/identity\/|configuration-set\/smtp-default/);
  });

  test("a webhook: ListSubscriptionsByTopic on the webhook's topic alone, its target and alarm", () => {
    const without = build().template;
    expect(JSON.stringify(without.toJSON())).not.toMatch(/sns:ListSubscriptionsByTopic|"webhook"/);
    expect(alarmsOf(without).filter((a) => dimension(a, 'Check') === 'webhook')).toEqual([]);
    const { template } = build({ withWebhook: true });
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('HealthFunctionRole'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements.filter((st) => JSON.stringify(st.Action).includes('sns:'))).toEqual([
      {
        Sid: 'ListTheWebhookTopicsSubscriptions',
        Effect: 'Allow',
        Action: 'sns:ListSubscriptionsByTopic',
        Resource: { Ref: expect.stringMatching(/^WebhookTopic/) },
      },
    ]);
    const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
      String(f.Properties.Description).startsWith('Runs the ses-smtp doctor checks'),
    )!;
    const healthTarget = fn.Properties.Environment.Variables.HEALTH_TARGET;
    expect(text(healthTarget)).toContain(`"webhook":{"url":"${WEBHOOK_URL}","topicArn":"<token>"}`);
    expect(healthTarget['Fn::Join'][1]).toContainEqual({ Ref: expect.stringMatching(/^WebhookTopic/) });
    const alarm = alarmsOf(template).find((a) => dimension(a, 'Check') === 'webhook')!;
    expect(text(alarm.Properties.AlarmDescription)).toMatch(/SubscriptionConfirmation/);
  });

  test('queues to keep reporting: their URLs in KEEP_REPORTING_QUEUES, and GetQueueAttributes on them alone', () => {
    expect(JSON.stringify(build().template.toJSON())).not.toMatch(/KEEP_REPORTING_QUEUES|sqs:/);
    const { template } = build({
      withQueues: (stack) => [
        new sqs.Queue(stack, 'DeadLetters', { encryption: sqs.QueueEncryption.KMS }),
        new sqs.Queue(stack, 'AppQueue'),
      ],
    });
    const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
      String(f.Properties.Description).startsWith('Runs the ses-smtp doctor checks'),
    )!;
    const ref = (prefix: string) => ({ Ref: expect.stringMatching(new RegExp(`^${prefix}`)) });
    expect(fn.Properties.Environment.Variables.KEEP_REPORTING_QUEUES).toEqual({
      'Fn::Join': ['', ['["', ref('DeadLetters'), '","', ref('AppQueue'), '"]']],
    });
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('HealthFunctionRole'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    // The attributes only: no message is read, so no ReceiveMessage and no key of the queues.
    expect(statements.filter((st) => JSON.stringify(st.Action).includes('sqs:'))).toEqual([
      {
        Sid: 'ReadTheQueuesAttributes',
        Effect: 'Allow',
        Action: 'sqs:GetQueueAttributes',
        Resource: [
          { 'Fn::GetAtt': [expect.stringMatching(/^DeadLetters/), 'Arn'] },
          { 'Fn::GetAtt': [expect.stringMatching(/^AppQueue/), 'Arn'] },
        ],
      },
    ]);
    expect(statements.filter((st) => st.Action === 'kms:Decrypt')).toHaveLength(1); // the secret's
  });

  // SQS reports a queue for up to six hours after the last call on it: with no run that often, the
  // app feedback queue's 3-day age alarm (missing data not breaching) would never fire.
  test.each<[string, events.Schedule, events.Schedule | undefined, boolean]>([
    ['the defaults (hourly)', events.Schedule.rate(Duration.days(1)), undefined, false],
    ['every 6 hours', events.Schedule.rate(Duration.days(1)), events.Schedule.rate(Duration.hours(6)), false],
    [
      'every check every 4 hours',
      events.Schedule.rate(Duration.hours(4)),
      events.Schedule.rate(Duration.days(1)),
      false,
    ],
    [
      'every 12 hours',
      events.Schedule.rate(Duration.days(1)),
      events.Schedule.rate(Duration.hours(12)),
      true,
    ],
    [
      'weekdays only',
      events.Schedule.rate(Duration.days(1)),
      events.Schedule.expression('cron(0/15 8-17 ? * MON-FRI *)'),
      true,
    ],
    [
      'a gap it cannot tell',
      events.Schedule.expression('cron(0 6 L * ? *)'),
      events.Schedule.rate(Duration.hours(7)),
      true,
    ],
  ])(
    'queues to keep reporting, runs %s: a warning when no run reads them within 6 hours',
    (_name, schedule, quotaSchedule, warns) => {
      const warnings = (withQueues: boolean) =>
        Annotations.fromStack(
          build({
            schedule,
            ...(quotaSchedule && { quotaSchedule }),
            ...(withQueues && { withQueues: (stack: Stack) => [new sqs.Queue(stack, 'AppQueue')] }),
          }).stack,
        )
          .findWarning('*', Match.stringLikeRegexp('keeps SQS reporting'))
          .map((w) => String(w.entry.data));
      expect(warnings(true)).toEqual(
        warns
          ? [
              expect.stringContaining(
                "neither runs at least every 6 hours, yet each run's read of 1 queue(s) (dead-letter and feedback queues) is what keeps SQS reporting them",
              ),
            ]
          : [],
      );
      // No queue to keep reporting: nothing to say.
      expect(warnings(false)).toEqual([]);
    },
  );

  /** The health function's HEALTH_TARGET, each token as the string "token". */
  const healthTarget = (template: Template) => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
      String(f.Properties.Description).startsWith('Runs the ses-smtp doctor checks'),
    )!;
    const joined = fn.Properties.Environment.Variables.HEALTH_TARGET['Fn::Join'][1]
      .map((part: unknown) => (typeof part === 'string' ? part : `"<${JSON.stringify(part).length}>"`))
      .join('');
    // Tokens become placeholders; everything else is the JSON the handler parses.
    return JSON.parse(joined.replace(/""<\d+>""/g, '"token"').replace(/"<\d+>"/g, 'token'));
  };

  test('checkEcsServices: a service given twice is listed once', () => {
    const built = build({ withEcsServices: [ECS_SERVICE] });
    built.health.checkEcsServices(ECS_SERVICE);
    expect(healthTarget(built.template).ecsServices).toEqual([ECS_SERVICE]);
  });

  test('the function gets the target as JSON: identity, set, secret, levels, records', () => {
    const target = healthTarget(build({ previousKeyQuietDays: 10, expectProductionAccess: false }).template);
    expect(target).toMatchObject({
      environmentName: 'prod',
      // The stack's name and Region, as its alarms name it (no cliOptions given).
      cliOptions: '--stack Test --region eu-west-1',
      region: 'eu-west-1',
      rotationDays: 90,
      previousKeyQuietDays: 10,
      expectProductionAccess: false,
      quotaPercent: { warning: 80, critical: 95 },
      sendRatePercent: 80,
      dns: { mailFromSubdomain: 'mail' },
    });
    // The stack's name is its id in the app: what cdk deploy takes.
    expect(target.stackPath).toBeUndefined();
  });

  // The checks' fixes say `npx cdk deploy <stack>`, and the CDK CLI selects a stack by its path.
  test.each([
    [
      'named otherwise',
      (app: App) => new Stack(app, 'MailStack', { stackName: 'Mail' }),
      'Mail',
      'MailStack',
    ],
    [
      'in a Stage',
      (app: App) => new Stack(new Stage(app, 'Prod'), 'MailStack'),
      'Prod-MailStack',
      'Prod/MailStack',
    ],
  ])('a stack %s: the target has the path cdk deploy takes', (_, place, stackName, stackPath) => {
    const target = healthTarget(build({ place }).template);
    expect([target.stackName, target.stackPath]).toEqual([stackName, stackPath]);
  });

  // The CDK CLI selects no nested stack ("Mail/Inner" matches nothing): it deploys one with its
  // top-level stack, whose path the fixes give.
  test.each([
    ['in a stack', (app: App) => new Stack(app, 'Mail'), 'Mail'],
    ['in a Stage', (app: App) => new Stack(new Stage(app, 'Prod'), 'Mail'), 'Prod/Mail'],
  ])("a nested stack %s: the target has its top-level stack's path", (_, parent, stackPath) => {
    const place = (app: App) => new NestedStack(new NestedStack(parent(app), 'Inner'), 'Innermost');
    expect(healthTarget(build({ place }).template).stackPath).toBe(stackPath);
  });
});

describe('HealthChecks in the stack', () => {
  test('wired from config; its alarms appear in the dashboard alarm panel; it keeps the quiet queues reporting', () => {
    const { stack, template } = synthStack({
      health: { quotaPercent: { warning: 70, critical: 90 } },
      feedback: { appQueue: true },
    });
    // The dead-letter queue, the app's queue and its dead-letter queue: nothing else touches them
    // while all is well. The feedback queue too: its age alarm is for when nothing polls it.
    const { feedback } = stack;
    const queues = [
      feedback.queue,
      feedback.deadLetterQueue,
      feedback.appQueue!,
      feedback.appDeadLetterQueue!,
    ];
    const fn =
      template.toJSON().Resources[
        stack.getLogicalId(stack.health!.function.node.defaultChild as CfnFunction)
      ];
    expect(fn.Properties.Environment.Variables.KEEP_REPORTING_QUEUES).toEqual(
      stack.resolve(stack.toJsonString(queues.map((q) => q.queueUrl))),
    );
    expect(stack.health).toBeDefined();
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]);
    const ids = Object.keys(template.findResources('AWS::CloudWatch::Alarm')).filter((id) =>
      id.startsWith('HealthChecks'),
    );
    expect(ids.length).toBeGreaterThanOrEqual(CHECK_CATALOG.length + 4);
    for (const id of ids) expect(body).toContain(id);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'QuotaUsedPercent',
      Threshold: 70,
    });
  });

  test('health.enabled false builds no health function, no health alarm and no output naming it', () => {
    const { stack, template } = synthStack({ health: { enabled: false } });
    expect(stack.health).toBeUndefined();
    expect(
      Object.keys(template.findResources('AWS::CloudWatch::Alarm')).filter((id) =>
        id.startsWith('HealthChecks'),
      ),
    ).toEqual([]);
    // ses-smtp doctor and dns then say the stack has no health-check function to read.
    const outputs = template.findOutputs('*');
    expect(outputs.HealthCheckFunctionName).toBeUndefined();
    expect(outputs.SmtpSecretArn).toBeDefined();
  });
});
