import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetEventSelectorsCommandOutput,
  GetTrailStatusCommand,
  Trail,
} from '@aws-sdk/client-cloudtrail';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { ListSubscriptionsByTopicCommand, SNSClient, Subscription } from '@aws-sdk/client-sns';
import { smtpLogin, smtpLoginTitle } from '../../../lambda/shared/smtp-login';
import {
  CheckRun,
  CHECKS,
  cliCommand,
  couldNotRun,
  HealthTarget,
  runChecks,
  shownEndpoint,
} from '../../../lambda/shared/checks';
import { SMTP_LOGIN } from '../../../lambda/shared/check-catalog';
import {
  CONFIGURATION_SET_DIMENSION,
  REPUTATION_METRIC_NAMES,
  SES_NAMESPACE,
} from '../../../lambda/shared/ses-metric-names';
import { CliContext } from '../context';
import { deployedTarget, recordTarget } from '../dns-check';
import { CheckFailed, describeError, EXIT, UsageError } from '../errors';
import { CheckResult } from '../output';
import { currentCredentials } from '../secret';
import { diagnose, isTemporaryReply } from '../../../lambda/shared/smtp-diagnosis';

export interface DoctorOptions {
  readonly now?: () => Date;
}

/**
 * The environment as the shared checks see it: from the config file and the stack's outputs, or,
 * without that file, as the stack's health-check function runs them.
 */
export async function healthTarget(ctx: CliContext): Promise<HealthTarget> {
  if (ctx.environmentName === undefined) return deployedTarget(ctx);
  const { name, config, stackName } = ctx.environment();
  const secretId = await ctx.resource('secretId');
  const outputs = await outputsIfReadable(ctx);
  const configurationSetName = outputs?.ConfigurationSetName;
  const webhookUrl = config.feedback.webhookUrl;
  const webhookTopicArn = outputs?.WebhookFeedbackTopicArn;
  // The services restarted after each rotation, as the file lists them (a service the app's code
  // passes to restartOnRotation is in the health function's settings only).
  const ecsServices = config.credentials.restartEcsServices;
  return {
    ...(await recordTarget(ctx)),
    environmentName: name,
    cliOptions: ctx.cliOptions(['secretId', 'identity']),
    stackName,
    deployCommand: ctx.cdkCommand('deploy'),
    ...(configurationSetName && { configurationSetName }),
    secretId,
    rotationDays: config.credentials.rotationDays,
    previousKeyQuietDays: config.credentials.previousKeyQuietDays,
    expectProductionAccess: config.health.expectProductionAccess,
    quotaPercent: config.health.quotaPercent,
    sendRatePercent: config.health.sendRatePercent,
    ...(webhookUrl && {
      webhook: { url: webhookUrl, ...(webhookTopicArn && { topicArn: webhookTopicArn }) },
    }),
    ...(ecsServices.length > 0 && { ecsServices }),
  };
}

/**
 * No credentials, or expired or refused ones: the user's to fix (one line, exit 2), where every
 * check would otherwise fail on it as "could not run" (exit 1).
 */
const isCredentialsProblem = (e: unknown) =>
  !(e instanceof CheckFailed) && describeError(e, 'doctor').exit === EXIT.usage;

/** The stack's outputs; undefined when they cannot be read, unless for want of credentials. */
const outputsIfReadable = (ctx: CliContext) =>
  ctx.stackOutputs().catch((e: unknown) => {
    if (isCredentialsProblem(e)) throw e;
    return undefined;
  });

/**
 * Walks the manual guide's troubleshooting list: the shared health checks (the scheduled
 * health-check function runs the same module), then what only a workstation checks: an SMTP login
 * from here, the reputation rates and a CloudTrail trail for the rotation-failed events. Every
 * check prints ✓ / ✗ / ! and, when it is not ✓, the fix. Exit 1 when any check fails.
 */
export async function doctorCommand(ctx: CliContext, options: DoctorOptions = {}): Promise<number> {
  const now = options.now ?? (() => new Date());
  const results: CheckResult[] = [];
  const target = await healthTarget(ctx);
  const run = new CheckRun(target, {
    ses: ctx.client(SESv2Client),
    secrets: ctx.client(SecretsManagerClient),
    cloudwatch: ctx.client(CloudWatchClient),
    iam: ctx.client(IAMClient),
    sns: ctx.client(SNSClient),
    ecs: ctx.client(ECSClient),
    resolver: ctx.resolver(),
    now,
  });

  await runChecks(
    run,
    // Doctor logs in itself (below), from where it runs, at the endpoint its options name.
    CHECKS.filter((check) => check.id !== SMTP_LOGIN.id),
    (check) => ctx.out.progress(`checking ${check.id} ...`),
    ({ results: found }) => {
      ctx.out.progressDone();
      found.forEach((r) => ctx.out.check(r));
      results.push(...found);
    },
    isCredentialsProblem,
  );

  const local: [string, () => Promise<CheckResult[]>][] = [
    ['smtp', () => checkSmtp(ctx, target)],
    ['rates', () => checkRates(ctx, now(), target.configurationSetName)],
    ['trail', () => checkTrail(ctx)],
    ['alarm-topic', () => checkAlarmTopic(ctx)],
    ['alarm-delivery', () => checkAlarmNotified(ctx, now())],
  ];
  for (const [id, check] of local) {
    ctx.out.progress(`checking ${id} ...`);
    let found: CheckResult[];
    try {
      found = await check();
    } catch (e) {
      if (e instanceof UsageError || isCredentialsProblem(e)) throw e;
      found = [
        e instanceof CheckFailed
          ? { id, status: 'fail', title: `${id} check failed`, detail: e.message }
          : couldNotRun(id, e),
      ];
    }
    ctx.out.progressDone();
    found.forEach((r) => ctx.out.check(r));
    results.push(...found);
  }

  const count = (s: string) => results.filter((r) => r.status === s).length;
  const failed = count('fail');
  if (ctx.out.json)
    ctx.out.document({
      environment: target.environmentName,
      region: ctx.region,
      ok: failed === 0,
      checks: results,
    });
  const warned = count('warn');
  ctx.out.line(`\n${count('ok')} ok, ${warned} ${warned === 1 ? 'warning' : 'warnings'}, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

async function checkSmtp(ctx: CliContext, target: HealthTarget): Promise<CheckResult[]> {
  const endpoint = await ctx.smtp();
  const credentials = await currentCredentials(ctx);
  const title = smtpLoginTitle(endpoint);
  try {
    await smtpLogin(endpoint, credentials);
    return [{ id: 'smtp', status: 'ok', title, detail: `user ${credentials.username}` }];
  } catch (e) {
    const d = diagnose(e, endpoint, credentials.region);
    const fix =
      d.stage === 'auth' && !isTemporaryReply(e) ? authFix(target, endpoint.host, credentials.region) : d.fix;
    return [{ id: 'smtp', status: 'fail', title, detail: `${d.stage}: ${d.detail}`, fix }];
  }
}

/**
 * What to do about an AUTH refusal of the secret's own pair. The guide's advice to an app ("use
 * the SMTP password from the secret") is what doctor did: the secret's password does not match
 * its key (edited by hand?), or SES refuses the key, and a rotation writes a matching pair; unless
 * the endpoint is another Region's (SMTP passwords are per Region).
 */
function authFix(target: HealthTarget, host: string, region: string): string {
  const rotate = `the secret's password is not the SMTP password of its key (a secret edited by hand?), or SES refuses the key: ${cliCommand(target, 'rotate')} writes a new key with its password (apps then read it: ${cliCommand(target, 'env')})`;
  if (host.includes(region)) return rotate;
  return `the credentials are for ${region} but the endpoint is ${host}, and SMTP passwords are per Region: log in at an endpoint of ${region} (without --smtp-host, the Region's own); if ${host} is one, ${rotate}`;
}

/**
 * The reputation rates of the last 24 hours against the alarm levels of the environments file:
 * the account's, and the configuration set's (what the stack's own rate alarms watch: an
 * environment that shares its account with busier ones can be over its levels while the account
 * is not). Without that file the levels are not known (the health-check function's settings do
 * not hold them): the rates are reported, and the stack's alarms judge them.
 */
async function checkRates(ctx: CliContext, now: Date, setName?: string): Promise<CheckResult[]> {
  const alarms = ctx.environmentName === undefined ? undefined : ctx.config.alarms;
  const rates = [
    {
      id: 'bounce-rate',
      name: REPUTATION_METRIC_NAMES.Bounce,
      label: 'bounce rate',
      levels: alarms?.bounceRatePercent,
    },
    {
      id: 'complaint-rate',
      name: REPUTATION_METRIC_NAMES.Complaint,
      label: 'complaint rate',
      levels: alarms?.complaintRatePercent,
    },
  ];
  // The account's rates, then the set's: what SES publishes for the set once its reputation
  // metrics are on. A set's rate without data says nothing the account's line does not.
  const metrics = [undefined, ...(setName === undefined ? [] : [setName])].flatMap((set) =>
    rates.map((m) =>
      set === undefined
        ? { ...m, alarmsOf: "account's" }
        : {
            ...m,
            set,
            id: `${m.id}-set`,
            label: `${m.label} of configuration set ${set}`,
            alarmsOf: "configuration set's",
          },
    ),
  );
  const r = await ctx.client(CloudWatchClient).send(
    new GetMetricDataCommand({
      StartTime: new Date(now.getTime() - 86_400_000),
      EndTime: now,
      MetricDataQueries: metrics.map((m, i) => ({
        Id: `m${i}`,
        MetricStat: {
          Metric: {
            Namespace: SES_NAMESPACE,
            MetricName: m.name,
            Dimensions: 'set' in m ? [{ Name: CONFIGURATION_SET_DIMENSION, Value: m.set }] : [],
          },
          Period: 3600,
          Stat: 'Maximum',
        },
      })),
    }),
  );
  return metrics.flatMap((m, i): CheckResult[] => {
    const values = r.MetricDataResults?.find((d) => d.Id === `m${i}`)?.Values ?? [];
    if (values.length > 0) return [rateResult(m, values)];
    if ('set' in m) return [];
    return [
      {
        id: m.id,
        status: 'info',
        title: `${m.label}: no data in the last 24 h (nothing sent, or too little to rate)`,
      },
    ];
  });
}

/** A rate's levels, the higher first, with what reaching each means. */
const RATE_LEVELS = [
  {
    level: 'critical',
    status: 'fail',
    fix: 'stop bulk sends, find the cause in the feedback handler logs; AWS reviews accounts at 5 % bounces / 0.1 % complaints',
  },
  {
    level: 'warning',
    status: 'warn',
    fix: 'look at recent bounces/complaints in the feedback handler logs before it grows',
  },
] as const;

/** One rate's result: its highest hour against its levels, when known. */
function rateResult(
  m: { id: string; label: string; alarmsOf: string; levels?: { warning: number; critical: number } },
  values: number[],
): CheckResult {
  const percent = Math.max(...values) * 100;
  if (!m.levels)
    return {
      id: m.id,
      status: 'info',
      title: m.label,
      detail: `${percent.toFixed(3)} % (its warning and critical levels are in the ${m.alarmsOf} reputation alarms)`,
    };
  const detail = `${percent.toFixed(3)} % (warning ${m.levels.warning} %, critical ${m.levels.critical} %)`;
  const reached = RATE_LEVELS.find((l) => percent >= m.levels![l.level]);
  if (reached)
    return {
      id: m.id,
      status: reached.status,
      title: `${m.label} at or above the ${reached.level} level`,
      detail,
      fix: reached.fix,
    };
  return { id: m.id, status: 'ok', title: m.label, detail };
}

/**
 * Can the alarms publish at all? CloudWatch records each alarm action's outcome in the alarm's
 * history, and a refusal (the topic's or its key's policy) nowhere else (see test-alarm.ts).
 */
async function checkAlarmNotified(ctx: CliContext, now: Date): Promise<CheckResult[]> {
  const topicArn = (await outputsIfReadable(ctx))?.OperatorAlarmTopicArn;
  if (!topicArn) return [];
  const { checkAlarmDelivery } = await import('./test-alarm.js');
  return [await checkAlarmDelivery(ctx, topicArn, now)];
}

/**
 * Does anyone receive the alarms? Every alarm of the stack publishes to the operator topic; with
 * no confirmed subscription (alarms.emails empty, an email never confirmed: its link lasts three
 * days, or an unsubscribe, which any recipient can do) they reach nobody. Checked here, not on a
 * schedule: an alarm about it would go to the same topic. A warning, not a failure.
 */
async function checkAlarmTopic(ctx: CliContext): Promise<CheckResult[]> {
  const title = 'the alarms reach someone (a confirmed subscription to the operator topic)';
  const topicArn = (await outputsIfReadable(ctx))?.OperatorAlarmTopicArn;
  if (!topicArn) {
    return [
      {
        id: 'alarm-topic',
        status: 'info',
        title: `${title}: could not tell`,
        detail: 'no stack output OperatorAlarmTopicArn',
      },
    ];
  }
  const subscriptions: Subscription[] = [];
  try {
    let NextToken: string | undefined;
    do {
      const page = await ctx
        .client(SNSClient)
        .send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken }));
      subscriptions.push(...(page.Subscriptions ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
  } catch (e) {
    if (isCredentialsProblem(e)) throw e;
    return [
      {
        id: 'alarm-topic',
        status: 'info',
        title: `${title}: could not tell`,
        detail: `${(e as Error).name} (it reads sns:ListSubscriptionsByTopic on ${topicArn})`,
      },
    ];
  }
  // A subscription's ARN is "PendingConfirmation" until the endpoint confirms it.
  const confirmed = subscriptions.filter((s) => s.SubscriptionArn?.startsWith('arn:'));
  const pending = subscriptions.filter((s) => s.SubscriptionArn === 'PendingConfirmation');
  const describe = (list: Subscription[]) =>
    list.map((s) => `${s.Protocol} ${shownEndpoint(s.Endpoint ?? '')}`).join(', ');
  if (confirmed.length > 0) {
    return [{ id: 'alarm-topic', status: 'ok', title, detail: describe(confirmed) }];
  }
  const subscribe = `aws sns subscribe --topic-arn ${topicArn} --protocol email --notification-endpoint YOU@EXAMPLE.COM --region ${ctx.region}`;
  return [
    {
      id: 'alarm-topic',
      status: 'warn',
      title:
        pending.length > 0
          ? `the alarms reach nobody yet: ${pending.length} subscription(s) of the operator topic wait for confirmation`
          : 'the alarms reach nobody: the operator topic has no subscription',
      ...(pending.length > 0 && { detail: describe(pending) }),
      fix:
        pending.length > 0
          ? `open the link in the email AWS sent each address (SNS deletes a subscription still pending after 48 hours), or subscribe again: ${subscribe}`
          : `set alarms.emails and deploy (then confirm the email AWS sends), or subscribe: ${subscribe}`,
    },
  ];
}

/**
 * Does a trail that is logging record this Region's management events? Secrets Manager's
 * RotationFailed reaches EventBridge only as a CloudTrail service event, and only from a trail
 * (EventBridge User Guide, "Events from AWS services"): without one, the stack's RotationFailed
 * rule and its alarm can never fire. A warning, not a failure: the rotation function's error
 * alarm and the daily credentials check still see a rotation that fails, and a trail is the
 * account's choice.
 */
async function checkTrail(ctx: CliContext): Promise<CheckResult[]> {
  const title = `a CloudTrail trail records ${ctx.region}'s management events (RotationFailed reaches EventBridge)`;
  const couldNotTell = (detail: string): CheckResult[] => [
    { id: 'trail', status: 'info', title: `${title}: could not tell`, detail },
  ];
  const cloudtrail = ctx.client(CloudTrailClient);
  let trails: Trail[];
  try {
    // Shadow trails too: multi-Region and organization trails from other home Regions log here.
    trails =
      (await cloudtrail.send(new DescribeTrailsCommand({ includeShadowTrails: true }))).trailList ?? [];
  } catch (e) {
    if (isCredentialsProblem(e)) throw e;
    return couldNotTell(
      `${(e as Error).name} (it reads cloudtrail:DescribeTrails, GetTrailStatus, GetEventSelectors)`,
    );
  }
  const seen: string[] = [];
  let unread = false;
  for (const trail of trails) {
    // An organization trail answers a member account to its full ARN only.
    const arn = trail.TrailARN;
    if (!arn || !(trail.IsMultiRegionTrail || trail.HomeRegion === ctx.region)) continue;
    const name = trail.Name ?? arn;
    try {
      const { IsLogging } = await cloudtrail.send(new GetTrailStatusCommand({ Name: arn }));
      if (!IsLogging) {
        seen.push(`${name} (not logging)`);
        continue;
      }
      if (recordsManagementWrites(await cloudtrail.send(new GetEventSelectorsCommand({ TrailName: arn }))))
        return [{ id: 'trail', status: 'ok', title, detail: `trail ${name}` }];
      seen.push(`${name} (no write management events)`);
    } catch (e) {
      if (isCredentialsProblem(e)) throw e;
      unread = true;
      seen.push(`${name} (${(e as Error).name})`);
    }
  }
  if (unread) return couldNotTell(`trails: ${seen.join(', ')}`);
  return [
    {
      id: 'trail',
      status: 'warn',
      title: `no CloudTrail trail records ${ctx.region}'s management events: a failed rotation sends no RotationFailed event`,
      ...(seen.length > 0 && { detail: `trails: ${seen.join(', ')}` }),
      fix: "create a trail that logs management events (CloudTrail console, Trails, Create trail; the first copy of management events is free), or rely on the rotation function's error alarm and the daily credentials check",
    },
  ];
}

/**
 * A trail's selectors take the write management events: a RotationFailed entry is an
 * AwsServiceEvent with eventCategory "Management" and readOnly false.
 */
function recordsManagementWrites(selectors: GetEventSelectorsCommandOutput): boolean {
  // Basic selectors: management events are on unless turned off, read and write unless narrowed.
  const basic = (selectors.EventSelectors ?? []).some(
    (s) => s.IncludeManagementEvents !== false && s.ReadWriteType !== 'ReadOnly',
  );
  // Advanced selectors: a management selector, unless its readOnly field keeps read events only.
  const advanced = (selectors.AdvancedEventSelectors ?? []).some(({ FieldSelectors: fields = [] }) => {
    const field = (name: string) => fields.find((f) => f.Field === name);
    const readOnly = field('readOnly');
    const keepsWrites =
      !readOnly || ((readOnly.Equals?.includes('false') ?? true) && !readOnly.NotEquals?.includes('false'));
    return (field('eventCategory')?.Equals ?? []).includes('Management') && keepsWrites;
  });
  return basic || advanced;
}
