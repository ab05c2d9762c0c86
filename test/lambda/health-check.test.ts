import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import {
  GetAccessKeyLastUsedCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupsForUserCommand,
  ListUserPoliciesCommand,
} from '@aws-sdk/client-iam';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  GetAccountCommand,
  GetConfigurationSetCommand,
  GetConfigurationSetEventDestinationsCommand,
  GetEmailIdentityCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import { promises as dnsPromises } from 'node:dns';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { createServer } from 'node:net';
import { runHealth, smtpLoginFromEnv, targetFromEnv } from '../../lambda/health-check/health';
import { CHECK_CATALOG } from '../../lambda/shared/check-catalog';
import { CheckRun, CHECKS, HealthTarget, runChecks, SmtpLoginClient } from '../../lambda/shared/checks';
import { SmtpEndpoint, smtpLogin } from '../../lambda/shared/smtp-login';
import { createLogger } from '../../lambda/shared/logger';
import { dkimRecords, dmarcValue, SES_SPF_INCLUDE } from '../../lib/dns-records';
import { startDnsServer, TestDnsServer, Zone } from '../support/dns-server';
import { startSmtpServer, TestSmtpServer } from '../support/smtp-server';
import {
  EXAMPLE_CONFIGURATION_SET,
  EXAMPLE_DMARC,
  EXAMPLE_SECRET_ARN,
  exampleHealthTarget,
} from '../support/health-target';
import {
  awsError,
  FakeCloudWatch,
  FakeIam,
  FakeSecretsManager,
  FakeSes,
  FEEDBACK_TOPIC_ARN,
  feedbackDestination,
  serviceUnavailable,
  throttling,
} from '../support/fake-aws';
import { assertValidEmf } from '../support/emf';
import { HEALTH_NAMESPACE, ROTATION_BLOCKED_METRIC } from '../../lambda/shared/health-metrics';
import { synthStack } from '../helpers';

const REGION = 'eu-west-1';
const DOMAIN = 'example.com';
const SET = EXAMPLE_CONFIGURATION_SET;
const USER = 'SesSmtp-prod-SmtpUser-1A2B3C';
const ARN = EXAMPLE_SECRET_ARN;
const TOKENS = ['tokone', 'toktwo', 'tokthree'];
const NOW = new Date('2026-11-29T12:00:00Z');
const DAY = 86_400_000;
const TARGET: HealthTarget = exampleHealthTarget('SesSmtp-prod');

const sesMock = mockClient(SESv2Client);
const smMock = mockClient(SecretsManagerClient);
const iamMock = mockClient(IAMClient);
const cwMock = mockClient(CloudWatchClient);
const snsMock = mockClient(SNSClient);
const ecsMock = mockClient(ECSClient);

let dns: TestDnsServer;
let ses: FakeSes;
let sm: FakeSecretsManager;
let iam: FakeIam;
let cw: FakeCloudWatch;
let metricLines: string[];
let logLines: string[];
let target: HealthTarget;
/** The keys the fake secret holds: AWSCURRENT's and AWSPREVIOUS's. */
let keys: { current: string; previous: string; secrets: string[] };

function healthyZone(): Zone {
  const zone: Zone = {
    'mail.example.com': {
      MX: [{ priority: 10, exchange: `feedback-smtp.${REGION}.amazonses.com` }],
      TXT: [[`v=spf1 ${SES_SPF_INCLUDE} ~all`]],
    },
    '_dmarc.example.com': { TXT: [[dmarcValue(EXAMPLE_DMARC)]] },
  };
  for (const r of dkimRecords(DOMAIN, TOKENS)) zone[r.name.replace(/\.$/, '')] = { CNAME: r.values[0] };
  return zone;
}

const secretJson = (username: string) =>
  JSON.stringify({
    username,
    password: `B-password-of-${username}-must-never-leak`,
    host: `email-smtp.${REGION}.amazonaws.com`,
    port: 587,
    region: REGION,
    fromAddress: 'no-reply@example.com',
  });

beforeAll(async () => {
  dns = await startDnsServer(healthyZone());
});
afterAll(() => dns.close());

beforeEach(() => {
  for (const key of Object.keys(dns.zone)) delete dns.zone[key];
  Object.assign(dns.zone, healthyZone());
  const clock = () => NOW.getTime();
  ses = new FakeSes(clock);
  ses.identities.set(DOMAIN, {
    verifiedForSending: true,
    dkimStatus: 'SUCCESS',
    tokens: TOKENS,
    mailFromDomain: 'mail.example.com',
    mailFromStatus: 'SUCCESS',
    configurationSet: SET,
  });
  ses.configurationSets.set(SET, { sendingEnabled: true });
  ses.send(900, NOW.getTime() - 2 * 3_600_000);
  ses.send(300, NOW.getTime() - 30 * 60_000);
  iam = new FakeIam(USER, clock);
  const previous = iam.createAccessKey({ UserName: USER }).AccessKey.AccessKeyId;
  const current = iam.createAccessKey({ UserName: USER }).AccessKey.AccessKeyId;
  keys = { current, previous, secrets: iam.created.map((k) => k.secret) };
  // The last rotation, 10 days ago, made the current version.
  sm = new FakeSecretsManager(ARN, secretJson(previous), () => NOW.getTime() - 10 * DAY);
  sm.putSecretValue({ SecretId: ARN, ClientRequestToken: 'v2', SecretString: secretJson(current) });
  sm.versions.get('initial-version')!.stages.add('AWSPREVIOUS');
  sm.lastRotatedDate = new Date(NOW.getTime() - 10 * DAY);
  sm.nextRotationDate = new Date(NOW.getTime() + 80 * DAY);
  cw = new FakeCloudWatch(ses);

  for (const m of [sesMock, smMock, iamMock, cwMock, snsMock, ecsMock]) m.reset();
  sesMock.on(GetEmailIdentityCommand).callsFake((input) => ses.getEmailIdentity(input));
  sesMock.on(GetConfigurationSetCommand).callsFake((input) => ses.getConfigurationSet(input));
  sesMock
    .on(GetConfigurationSetEventDestinationsCommand)
    .callsFake((input) => ses.getConfigurationSetEventDestinations(input));
  sesMock.on(GetAccountCommand).callsFake(() => ses.getAccount());
  smMock.on(GetSecretValueCommand).callsFake((input) => sm.getSecretValue(input));
  smMock.on(DescribeSecretCommand).callsFake((input) => sm.describeSecret(input));
  iamMock.on(GetAccessKeyLastUsedCommand).callsFake((input) => iam.getAccessKeyLastUsed(input));
  iamMock.on(ListAccessKeysCommand).callsFake((input) => iam.listAccessKeys(input));
  iamMock.on(ListUserPoliciesCommand).callsFake((input) => iam.listUserPolicies(input));
  iamMock.on(ListAttachedUserPoliciesCommand).callsFake((input) => iam.listAttachedUserPolicies(input));
  iamMock.on(ListGroupsForUserCommand).callsFake((input) => iam.listGroupsForUser(input));
  cwMock.on(GetMetricDataCommand).callsFake((input) => cw.getMetricData(input));

  metricLines = [];
  logLines = [];
  target = TARGET;
});

// Every line a test made the function write is a document CloudWatch keeps: one it drops takes
// every metric it declares with it, and the alarms on them go quiet.
afterEach(() => assertValidEmf(metricLines));

function newRun(smtp?: SmtpLoginClient): CheckRun {
  const resolver = new dnsPromises.Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([dns.address]);
  return new CheckRun(target, {
    ses: new SESv2Client({ region: REGION, maxAttempts: 1 }),
    secrets: new SecretsManagerClient({ region: REGION, maxAttempts: 1 }),
    iam: new IAMClient({ region: REGION, maxAttempts: 1 }),
    cloudwatch: new CloudWatchClient({ region: REGION, maxAttempts: 1 }),
    sns: new SNSClient({ region: REGION, maxAttempts: 1 }),
    ecs: new ECSClient({ region: REGION, maxAttempts: 1 }),
    resolver,
    now: () => NOW,
    ...(smtp && { smtp }),
  });
}

async function check(event: { checks?: 'all' | 'quota' } = {}, smtp?: SmtpLoginClient) {
  const run = newRun(smtp);
  const result = await runHealth(
    event,
    run,
    (line) => metricLines.push(line),
    createLogger({}, (line) => logLines.push(line)),
  );
  return { result, run };
}

/** CheckPassed per check id, from the EMF lines. */
function passed(): Record<string, number> {
  return Object.fromEntries(
    metricLines
      .map((l) => JSON.parse(l))
      .filter((d) => 'CheckPassed' in d)
      .map((d) => [d.Check, d.CheckPassed]),
  );
}

/**
 * Every check's 1 (the webhook check runs only for an environment with a webhook, the ECS services
 * check only with services restarted after each rotation).
 */
const allPass = () =>
  Object.fromEntries(
    CHECK_CATALOG.filter(
      (c) => (c.id !== 'webhook' || target.webhook) && (c.id !== 'ecs-services' || target.ecsServices),
    ).map((c) => [c.id, 1]),
  );
/** Every check's 1 but `id`'s: a check that could not tell publishes no data point. */
const allPassBut = (id: string) => Object.fromEntries(Object.entries(allPass()).filter(([c]) => c !== id));
const warnings = () => logLines.map((l) => JSON.parse(l)).filter((l) => l.level === 'WARN');
/** What the frequent (hourly) run publishes when all is well besides the sending and quota checks. */
const FREQUENT_PASS = { identity: 1, credentials: 1, 'smtp-login': 1 };

describe('scheduled health checks', () => {
  test('a healthy environment: every check publishes 1, the quota figures are published', async () => {
    const { result } = await check();
    expect(passed()).toEqual(allPass());
    // Every check but the webhook's and the ECS services': this environment has neither.
    expect(result).toEqual({ checks: CHECK_CATALOG.length - 2, failed: [] });
    expect(ecsMock.calls()).toHaveLength(0);
    const doc = JSON.parse(metricLines.find((l) => l.includes('QuotaUsedPercent'))!);
    expect(doc).toMatchObject({
      Environment: 'prod',
      Max24HourSend: 50000,
      SentLast24Hours: 1200,
      MaxSendRate: 14,
      QuotaUsedPercent: 2.4,
      PeakSendRatePercent: (300 / 60 / 14) * 100,
    });
    expect(doc._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'SesSmtp/Health',
      Dimensions: [['Environment']],
      Metrics: [
        { Name: 'Max24HourSend', Unit: 'Count' },
        { Name: 'SentLast24Hours', Unit: 'Count' },
        { Name: 'MaxSendRate', Unit: 'Count/Second' },
        { Name: 'QuotaUsedPercent', Unit: 'Percent' },
        { Name: 'PeakSendRatePercent', Unit: 'Percent' },
      ],
    });
    const dkim = JSON.parse(metricLines.find((l) => l.includes('"Check":"dkim"'))!);
    expect(dkim._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Environment', 'Check']]);
    expect(warnings()).toEqual([]);
  });

  test.each<[string, string, () => void, RegExp]>([
    [
      'identity',
      'identity not verified',
      () => (ses.identities.get(DOMAIN)!.verifiedForSending = false),
      /not verified for sending/,
    ],
    // Only SES's true is verified: an answer without the flag is not taken for one.
    [
      'identity',
      'an identity whose answer has no VerifiedForSendingStatus',
      () => Object.assign(ses.identities.get(DOMAIN)!, { verifiedForSending: undefined }),
      /not verified for sending/,
    ],
    [
      'dkim',
      'DKIM status FAILED',
      () => (ses.identities.get(DOMAIN)!.dkimStatus = 'FAILED'),
      /DKIM not verified/,
    ],
    // Still waiting for the records (or never started): not verified either, so SES cannot sign.
    [
      'dkim',
      'DKIM status PENDING',
      () => (ses.identities.get(DOMAIN)!.dkimStatus = 'PENDING'),
      /DKIM not verified/,
    ],
    [
      'dkim',
      'DKIM status NOT_STARTED',
      () => (ses.identities.get(DOMAIN)!.dkimStatus = 'NOT_STARTED'),
      /DKIM not verified/,
    ],
    [
      'dkim',
      'DKIM signing turned off (the status stays SUCCESS)',
      () => (ses.identities.get(DOMAIN)!.dkimSigning = false),
      /DKIM signing turned off for example\.com.*aws sesv2 put-email-identity-dkim-attributes --email-identity example\.com --signing-enabled --region eu-west-1/,
    ],
    [
      'dkim',
      'a DKIM CNAME removed',
      () => delete dns.zone['toktwo._domainkey.example.com'],
      /add CNAME toktwo\.dkim\.amazonses\.com/,
    ],
    [
      'mail-from',
      'MAIL FROM pending',
      () => (ses.identities.get(DOMAIN)!.mailFromStatus = 'PENDING'),
      /MAIL FROM domain mail\.example\.com not verified/,
    ],
    // Removed outside the stack: the records are all in place, and no record brings it back.
    [
      'mail-from',
      'the custom MAIL FROM domain removed outside the stack',
      () => delete ses.identities.get(DOMAIN)!.mailFromDomain,
      /"title":"identity example\.com has no custom MAIL FROM domain: SES sends with amazonses\.com as envelope sender and SPF does not align","detail":"changed outside the stack: a deploy of the unchanged template does not change it back","fix":"aws sesv2 put-email-identity-mail-from-attributes --email-identity example\.com --mail-from-domain mail\.example\.com --region eu-west-1 /,
    ],
    [
      'mail-from',
      'MX pointing to another Region',
      () =>
        (dns.zone['mail.example.com'].MX = [
          { priority: 10, exchange: 'feedback-smtp.us-east-1.amazonses.com' },
        ]),
      /add MX 10 feedback-smtp\.eu-west-1\.amazonses\.com/,
    ],
    [
      'dmarc',
      'DMARC record removed',
      () => delete dns.zone['_dmarc.example.com'],
      /add TXT v=DMARC1; p=quarantine/,
    ],
    [
      'dmarc',
      'two DMARC records',
      () => dns.zone['_dmarc.example.com'].TXT!.push(['v=DMARC1; p=none']),
      /2 DMARC records/,
    ],
    [
      'dmarc-reports',
      'reports to another domain that has not consented',
      () => {
        const dmarc = { ...EXAMPLE_DMARC, aggregateReportUris: ['mailto:rua@dmarc-vendor.net'] };
        target = { ...TARGET, dns: { ...TARGET.dns, dmarc } };
        dns.zone['_dmarc.example.com'].TXT = [[dmarcValue(dmarc)]];
      },
      /"status":"warn","title":"DMARC reports to dmarc-vendor\.net \(TXT example\.com\._report\._dmarc\.dmarc-vendor\.net\)"/,
    ],
    // SMTP mail names no configuration set: the identity's default publishes its feedback.
    [
      'identity',
      "the identity's default configuration set removed outside the stack",
      () => delete ses.identities.get(DOMAIN)!.configurationSet,
      new RegExp(
        `"status":"warn","title":"identity example\\.com has no default configuration set: its bounces and complaints reach no handler","fix":"aws sesv2 put-email-identity-configuration-set-attributes --email-identity example\\.com --configuration-set-name ${SET} --region`,
      ),
    ],
    [
      'identity',
      "the identity's default configuration set switched to another",
      () => (ses.identities.get(DOMAIN)!.configurationSet = 'marketing'),
      new RegExp(
        `"status":"fail","title":"identity example\\.com sends through configuration set marketing, not the stack's ${SET}: its bounces and complaints reach no handler, and the SMTP user may be refused`,
      ),
    ],
    [
      'sending',
      'account sending paused',
      () => (ses.account.sendingEnabled = false),
      /sending is disabled for the account/,
    ],
    [
      'sending',
      'configuration set paused',
      () => ses.configurationSets.set(SET, { sendingEnabled: false }),
      /ses-smtp resume --scope configuration-set/,
    ],
    [
      'sending',
      'configuration set gone',
      () => ses.configurationSets.delete(SET),
      /configuration set .* not found/,
    ],
    // Turned off outside the stack: a deploy of the unchanged template does not turn it back on.
    [
      'sending',
      'reputation metrics turned off on the configuration set (its rate alarms would stay OK)',
      () => (ses.configurationSets.get(SET)!.reputationMetricsEnabled = false),
      /SES collects no reputation metrics for the configuration set .*put-configuration-set-reputation-options/,
    ],
    [
      'sending',
      "the configuration set's event destination disabled",
      () =>
        (ses.configurationSets.get(SET)!.eventDestinations = [{ ...feedbackDestination(), enabled: false }]),
      /event destination Feedback of the configuration set .* is disabled.*update-configuration-set-event-destination/,
    ],
    [
      'sending',
      'the event destination no longer publishes complaints',
      () =>
        (ses.configurationSets.get(SET)!.eventDestinations = [
          { ...feedbackDestination(), matchingEventTypes: ['BOUNCE', 'DELIVERY'] },
        ]),
      /publishes no COMPLAINT events.*update-configuration-set-event-destination/,
    ],
    [
      'sending',
      'the event destination no longer publishes bounces',
      () =>
        (ses.configurationSets.get(SET)!.eventDestinations = [
          { ...feedbackDestination(), matchingEventTypes: ['COMPLAINT'] },
        ]),
      /publishes no BOUNCE events/,
    ],
    // With an app's webhook the set has two, each to its own topic: the webhook's enabled must
    // not hide the queues' disabled.
    [
      'sending',
      "the queues' event destination disabled, the webhook's still on",
      () =>
        (ses.configurationSets.get(SET)!.eventDestinations = [
          { ...feedbackDestination(), name: 'AppWebhook', snsTopicArn: `${FEEDBACK_TOPIC_ARN}-webhook` },
          { ...feedbackDestination(), enabled: false },
        ]),
      /event destination Feedback of the configuration set .* is disabled.*update-configuration-set-event-destination/,
    ],
    [
      'sending',
      "the queues' event destination deleted, the webhook's left",
      () =>
        (ses.configurationSets.get(SET)!.eventDestinations = [
          { ...feedbackDestination(), name: 'AppWebhook', snsTopicArn: `${FEEDBACK_TOPIC_ARN}-webhook` },
        ]),
      /has no SNS event destination.*no event destination but AppWebhook, to the app webhook's topic only.*create-configuration-set-event-destination/,
    ],
    [
      'sending',
      'the event destination deleted',
      () => (ses.configurationSets.get(SET)!.eventDestinations = []),
      /has no SNS event destination.*create-configuration-set-event-destination/,
    ],
    [
      'sending',
      'the event destination replaced by one to EventBridge',
      () =>
        (ses.configurationSets.get(SET)!.eventDestinations = [
          { ...feedbackDestination(), snsTopicArn: undefined },
        ]),
      /has no SNS event destination/,
    ],
    [
      'sending',
      'account under review',
      () => (ses.account.enforcementStatus = 'PROBATION'),
      /enforcement status PROBATION/,
    ],
    [
      'sandbox',
      'still in the sandbox',
      () => (ses.account.productionAccessEnabled = false),
      /request-production-access/,
    ],
    [
      'quota',
      '95 % of the quota used',
      () => ses.send(50_000 * 0.95 - 1200, NOW.getTime() - 3 * 3_600_000),
      /Daily message quota exceeded/,
    ],
    [
      'quota',
      'busiest minute at 90 % of the send rate',
      () => ses.send(14 * 60 * 0.9, NOW.getTime() - 60_000),
      /Maximum sending rate exceeded/,
    ],
    [
      'credentials',
      'the secret still holds the placeholder',
      () =>
        sm.putSecretValue({ SecretId: ARN, ClientRequestToken: 'p', SecretString: '{"placeholder":"x"}' }),
      /holds no SMTP credentials/,
    ],
    ['credentials', 'rotation turned off', () => (sm.rotationEnabled = false), /credential rotation is off/],
    [
      'credentials',
      'last rotation 120 days ago',
      () => (sm.lastRotatedDate = new Date(NOW.getTime() - 120 * DAY)),
      /older than the 90-day schedule/,
    ],
    ['credentials', 'never rotated', () => (sm.lastRotatedDate = undefined), /never rotated/],
    [
      'previous-key',
      'an app still sends with the previous key',
      () =>
        iam.recordUse(keys.previous, { date: new Date(NOW.getTime() - DAY), service: 'ses', region: REGION }),
      /an app still sends with the previous key AKIAFAKE0+1/,
    ],
  ])('%s fails: %s', async (id, _case, breakIt, logged) => {
    breakIt();
    const { result } = await check();
    expect(passed()).toEqual({ ...allPass(), [id]: 0 });
    expect(result.failed).toEqual([id]);
    const warned = warnings();
    expect(warned.map((w) => w.check)).toEqual([id]);
    expect(JSON.stringify(warned[0].problems)).toMatch(logged);
  });

  // BehaviorOnMxFailure REJECT_MESSAGE: no fallback to amazonses.com, every send is refused while
  // the MAIL FROM domain is PENDING, FAILED or TEMPORARY_FAILURE (MailFromAttributes, SES API v2).
  // That stops every app at once: the hourly run says so (the identity check, from SES's answer),
  // not only the daily mail-from check a day later.
  test.each(['PENDING', 'FAILED', 'TEMPORARY_FAILURE'] as const)(
    'MAIL FROM %s under REJECT_MESSAGE: the hourly run fails the identity check, the daily one mail-from too',
    async (status) => {
      Object.assign(ses.identities.get(DOMAIN)!, {
        mailFromStatus: status,
        mailFromBehavior: 'REJECT_MESSAGE',
      });
      const hourly = await check({ checks: 'quota' });
      expect(passed()).toMatchObject({ identity: 0 });
      expect(hourly.result.failed).toEqual(['identity']);
      expect(JSON.stringify(warnings()[0].problems)).toMatch(
        new RegExp(
          `"status":"fail","title":"SES refuses every send from example\\.com: its MAIL FROM domain mail\\.example\\.com is ${status} and behaviorOnMxFailure is REJECT_MESSAGE".*"fix":"publish the MX record of mail\\.example\\.com \\(ses-smtp dns --check --env prod names it\\); to send meanwhile \\(SPF then does not align\\), set mailFrom\\.behaviorOnMxFailure to USE_DEFAULT_VALUE and deploy"`,
        ),
      );
      metricLines = [];
      logLines = [];
      const { result } = await check();
      expect(passed()).toEqual({ ...allPass(), identity: 0, 'mail-from': 0 });
      expect(result.failed).toEqual(['identity', 'mail-from']);
      expect(JSON.stringify(warnings()[1].problems)).toMatch(
        /"title":"MAIL FROM domain mail\.example\.com not verified: SES refuses every send from example\.com \(behaviorOnMxFailure REJECT_MESSAGE\)".*"fix":"publish its MX and SPF TXT \(below\); until SES finds the MX record it refuses every send \(MailFromDomainNotVerified\); to send meanwhile/,
      );
    },
  );

  test('MAIL FROM verified under REJECT_MESSAGE: mail flows, the identity check passes', async () => {
    ses.identities.get(DOMAIN)!.mailFromBehavior = 'REJECT_MESSAGE';
    await check({ checks: 'quota' });
    expect(passed()).toMatchObject({ identity: 1 });
  });

  test('MAIL FROM not verified under USE_DEFAULT_VALUE: mail flows, the identity check passes', async () => {
    ses.identities.get(DOMAIN)!.mailFromStatus = 'FAILED';
    await check({ checks: 'quota' });
    expect(passed()).toMatchObject({ identity: 1 });
  });

  test("a report service's name servers failing once raise no alarm: the consent is only not known", async () => {
    const dmarc = { ...EXAMPLE_DMARC, aggregateReportUris: ['mailto:rua@dmarc-vendor.net'] };
    target = { ...TARGET, dns: { ...TARGET.dns, dmarc } };
    dns.zone['_dmarc.example.com'].TXT = [[dmarcValue(dmarc)]];
    dns.zone['example.com._report._dmarc.dmarc-vendor.net'] = { RCODE: 2 };
    const { result } = await check();
    // No data point either: a 1 would clear the alarm of a consent that was missing yesterday.
    expect(passed()).toEqual(allPassBut('dmarc-reports'));
    expect(result.failed).toEqual([]);
    expect(warnings().map((w) => w.message)).toEqual([
      'health check dmarc-reports could not tell: no data point, its alarm keeps its state',
    ]);
    dns.zone['example.com._report._dmarc.dmarc-vendor.net'] = { TXT: [['v=DMARC1']] };
    metricLines = [];
    await check();
    expect(passed()).toEqual(allPass());
  });

  // DkimAttributes.Status TEMPORARY_FAILURE: "A temporary issue is preventing Amazon SES from
  // determining the DKIM authentication status of the domain". The CNAMEs are what can be fixed.
  test('DKIM status TEMPORARY_FAILURE with every CNAME in place: could not tell, no page', async () => {
    ses.identities.get(DOMAIN)!.dkimStatus = 'TEMPORARY_FAILURE';
    const { result } = await check();
    expect(passed()).toEqual(allPassBut('dkim'));
    expect(result.failed).toEqual([]);
    expect(warnings()).toEqual([
      expect.objectContaining({
        message: 'health check dkim could not tell: no data point, its alarm keeps its state',
        problems: [
          {
            id: 'dkim',
            status: 'info',
            title: 'DKIM status: SES could not tell for now',
            detail: 'status TEMPORARY_FAILURE: SES checks the CNAMEs again by itself',
            undetermined: true,
          },
        ],
      }),
    ]);
    const finished = metricLines.map((l) => JSON.parse(l)).find((d) => 'RunFinished' in d);
    expect(finished).toMatchObject({ Run: 'all', ChecksUndetermined: 1 });
  });

  test('DKIM status TEMPORARY_FAILURE with signing turned off: fails on the signing', async () => {
    Object.assign(ses.identities.get(DOMAIN)!, { dkimStatus: 'TEMPORARY_FAILURE', dkimSigning: false });
    await check();
    expect(passed().dkim).toBe(0);
    expect(warnings()[0].problems).toEqual([
      expect.objectContaining({ status: 'fail', detail: 'status TEMPORARY_FAILURE, signing disabled' }),
    ]);
  });

  test('DKIM status TEMPORARY_FAILURE beside a CNAME removed: fails on the CNAME', async () => {
    ses.identities.get(DOMAIN)!.dkimStatus = 'TEMPORARY_FAILURE';
    delete dns.zone['toktwo._domainkey.example.com'];
    const { result } = await check();
    expect(passed().dkim).toBe(0);
    expect(result.failed).toEqual(['dkim']);
    expect(JSON.stringify(warnings()[0].problems)).toMatch(/add CNAME toktwo\.dkim\.amazonses\.com/);
  });

  test('an identity that no longer exists fails identity, DKIM and MAIL FROM, each saying to deploy', async () => {
    ses.identities.delete(DOMAIN);
    const { result } = await check();
    expect(result.failed).toEqual(['identity', 'dkim', 'mail-from']);
    for (const w of warnings())
      expect(w.problems).toEqual([
        expect.objectContaining({
          title: 'SES has no identity example.com in eu-west-1',
          fix: 'deploy the stack (npx cdk deploy SesSmtp-prod)',
        }),
      ]);
  });

  // The settings say mail.example.com, the identity uses bounce.example.com (moved by hand, or by a
  // deploy under way): SES verifies, and sends with, the identity's own MAIL FROM domain, so the
  // records that decide bounces and SPF alignment are those at its name, not the settings'. That
  // the names differ is a warning of its own: a deploy of the unchanged template keeps bounce's.
  test("the MAIL FROM records checked are those of the identity's MAIL FROM domain, not the settings'", async () => {
    ses.identities.get(DOMAIN)!.mailFromDomain = 'bounce.example.com';
    dns.zone['bounce.example.com'] = dns.zone['mail.example.com'];
    delete dns.zone['mail.example.com'];
    await check();
    expect(warnings().flatMap((w) => w.problems)).toEqual([
      {
        id: 'mail-from',
        status: 'warn',
        title: "MAIL FROM domain bounce.example.com is not the settings' mail.example.com",
        detail:
          'changed outside the stack: a deploy of the unchanged template does not change it back (or a deploy that changes it is under way)',
        fix: `to use the settings' again: aws sesv2 put-email-identity-mail-from-attributes --email-identity ${DOMAIN} --mail-from-domain mail.example.com --region eu-west-1 (with --behavior-on-mx-failure REJECT_MESSAGE where mailFrom.behaviorOnMxFailure says so); to keep bounce.example.com: set mailFrom.subdomain to "bounce" and deploy`,
      },
    ]);

    metricLines = [];
    logLines = [];
    ses.identities.get(DOMAIN)!.mailFromStatus = 'PENDING';
    dns.zone['mail.example.com'] = dns.zone['bounce.example.com'];
    delete dns.zone['bounce.example.com'];
    const { result } = await check();
    expect(result.failed).toEqual(['mail-from']);
    const problems = warnings().flatMap((w) => w.problems);
    expect(problems.map((p) => p.title)).toEqual([
      'MAIL FROM domain bounce.example.com not verified',
      "MAIL FROM domain bounce.example.com is not the settings' mail.example.com",
      expect.stringMatching(/^MAIL FROM: .*\(MX bounce\.example\.com\)$/),
      expect.stringMatching(/^MAIL FROM: .*\(TXT bounce\.example\.com\)$/),
    ]);
  });

  // cdk deploy selects a stack by its construct path: a stack of your own may be named otherwise.
  test('the fix deploys the stack by its path in the app where that is not its name', async () => {
    target = { ...TARGET, stackName: 'Mail', stackPath: 'Prod Stage/MailStack' };
    ses.identities.delete(DOMAIN);
    await check();
    expect(warnings()[0].problems).toEqual([
      expect.objectContaining({ fix: "deploy the stack (npx cdk deploy 'Prod Stage/MailStack')" }),
    ]);
  });

  // doctor gives its own command (with the environments file it read): every fix that deploys takes it.
  test("a target's deployCommand is what every fix that deploys gives", async () => {
    const deploy = "npx cdk deploy SesSmtp-prod -c 'config=/my envs/x.json'";
    target = { ...TARGET, deployCommand: deploy };
    ses.identities.delete(DOMAIN);
    ses.configurationSets.delete(SET);
    await check({}, smtpLoginFromEnv({}));
    const fixes = warnings().flatMap((w) => (w.problems as { fix?: string }[]).map((p) => p.fix ?? ''));
    expect(fixes.filter((fix) => fix.includes('npx cdk'))).toEqual([
      `deploy the stack (${deploy})`,
      `deploy the stack (${deploy})`,
      `deploy the stack (${deploy})`,
      `redeploy the stack (${deploy})`,
      `deploy the stack again (${deploy}): the HealthChecks construct sets SMTP_HOST and SMTP_PORT`,
    ]);
  });

  // Until the last rotation the previous key was the current one: every app sent with it.
  test.each([
    [
      'before the current credentials replaced it (3 days ago)',
      3 * DAY,
      -60_000,
      1,
      /not used by SES later than 2 hours after the current credentials replaced it at 2026-11-26T12:00:00.000Z/,
    ],
    [
      'more than 2 hours after they replaced it (3 days ago)',
      3 * DAY,
      2 * 3_600_000 + 60_000,
      0,
      /an app still sends with the previous key/,
    ],
    // A run right after a rotation: the apps have the grace to switch; no alarm yet.
    [
      'since they replaced it, 40 minutes ago',
      40 * 60_000,
      10 * 60_000,
      1,
      /used since the current credentials replaced it at 2026-11-29T11:20:00.000Z, less than 2 hours ago: apps may still be switching/,
    ],
    // Not SES: the rotation deletes such a key (with a warning), so there is nothing to wait for.
    [
      'never: another service used it since they replaced it, 40 minutes ago',
      40 * 60_000,
      10 * 60_000,
      1,
      /not used by SES in the last 7 days/,
      'sts',
    ],
  ])(
    'previous key last used by SES %s, within the quiet period',
    async (_when, ago, offset, passes, title, service = 'ses') => {
      const replacedAt = NOW.getTime() - ago;
      sm.versions.get('v2')!.created = new Date(replacedAt);
      iam.recordUse(keys.previous, { date: new Date(replacedAt + offset), service, region: REGION });
      const { run } = await check();
      expect(passed()['previous-key']).toBe(passes);
      // The title doctor prints, and the health check logs when the check fails.
      const [result] = await CHECKS.find((c) => c.id === 'previous-key')!.run(run);
      expect(result.title).toMatch(title);
    },
  );

  // RotateSecret made the version 6 days ago; Secrets Manager's retry of its rotation moved
  // AWSCURRENT yesterday: the previous key was the current one until then.
  test('previous key used before the switch of a rotation finished days after it started: passes', async () => {
    sm.versions.get('v2')!.created = new Date(NOW.getTime() - 6 * DAY);
    sm.lastRotatedDate = new Date(NOW.getTime() - DAY);
    iam.recordUse(keys.previous, { date: new Date(NOW.getTime() - 2 * DAY), service: 'ses', region: REGION });
    await check();
    expect(passed()['previous-key']).toBe(1);
    // The same use after the switch (and its grace) is an app left behind.
    iam.recordUse(keys.previous, {
      date: new Date(NOW.getTime() - DAY + 3 * 3_600_000),
      service: 'ses',
      region: REGION,
    });
    metricLines = [];
    await check();
    expect(passed()['previous-key']).toBe(0);
  });

  test('previous key: never used, used outside the quiet period, used by another service, or gone: passes', async () => {
    await check();
    iam.recordUse(keys.previous, { date: new Date(NOW.getTime() - 8 * DAY), service: 'ses', region: REGION });
    await check();
    iam.recordUse(keys.previous, { date: new Date(NOW.getTime() - DAY), service: 'sts', region: REGION });
    await check();
    iam.deleteAccessKey({ UserName: USER, AccessKeyId: keys.previous });
    await check();
    expect(
      metricLines.filter((l) => l.includes('"Check":"previous-key"')).map((l) => JSON.parse(l).CheckPassed),
    ).toEqual([1, 1, 1, 1]);
    expect(
      iamMock
        .commandCalls(GetAccessKeyLastUsedCommand)
        .filter((c) => c.args[0].input.AccessKeyId === keys.previous),
    ).toHaveLength(4);
  });

  // A rotation that replaced a dead AWSCURRENT key kept AWSPREVIOUS's live one, and AWSPREVIOUS
  // moved to the dead key's version: the kept key has no label, and an app given it still sends.
  describe('an active key neither AWSCURRENT nor AWSPREVIOUS holds', () => {
    /** AWSPREVIOUS's key gone, and another key made `daysAgo` days ago (the current version: 10). */
    function unnamedKey(daysAgo: number, status: 'Active' | 'Inactive' = 'Active'): string {
      iam.deleteAccessKey({ UserName: USER, AccessKeyId: keys.previous });
      const id = iam.createAccessKey({ UserName: USER }).AccessKey.AccessKeyId;
      iam.keys.set(id, { ...iam.keys.get(id)!, createdAt: NOW.getTime() - daysAgo * DAY });
      if (status === 'Inactive') iam.inactive.add(id);
      return id;
    }
    const results = async () => {
      const { run } = await check();
      return CHECKS.find((c) => c.id === 'previous-key')!.run(run);
    };

    test('SES used it within the quiet period: a warning naming it, and the check fails', async () => {
      const id = unnamedKey(20);
      iam.recordUse(id, { date: new Date(NOW.getTime() - DAY), service: 'ses', region: REGION });
      const [previous, unnamed, ...more] = await results();
      expect(previous.title).toBe(`previous key ${keys.previous} no longer exists`);
      expect(unnamed).toMatchObject({
        status: 'warn',
        title: `an app still sends with key ${id}, which neither AWSCURRENT nor AWSPREVIOUS holds`,
        fix: expect.stringContaining(`find the app whose SMTP username is ${id}`),
      });
      expect(more).toEqual([]);
      expect(passed()['previous-key']).toBe(0);
      // The user's keys listed once: IAM names the user with the current key's last use.
      iamMock.resetHistory();
      await CHECKS.find((c) => c.id === 'previous-key')!.run(newRun());
      expect(iamMock.commandCalls(ListAccessKeysCommand)).toHaveLength(1);
    });

    // A rotation makes its key a moment before the version that holds it: the keys the secret
    // names were made before the current credentials too, and are the other result's.
    test('the keys AWSCURRENT and AWSPREVIOUS hold are not reported as unnamed', async () => {
      // The current credentials replaced the previous ones 3 days ago; every app sent with the
      // previous key until then.
      const replacedAt = NOW.getTime() - 3 * DAY;
      sm.versions.get('v2')!.created = new Date(replacedAt);
      const made = { [keys.current]: replacedAt - 1000, [keys.previous]: NOW.getTime() - 40 * DAY };
      for (const [id, at] of Object.entries(made)) iam.keys.set(id, { ...iam.keys.get(id)!, createdAt: at });
      iam.recordUse(keys.current, {
        date: new Date(NOW.getTime() - 3_600_000),
        service: 'ses',
        region: REGION,
      });
      iam.recordUse(keys.previous, { date: new Date(replacedAt - DAY), service: 'ses', region: REGION });
      expect((await results()).map((r) => r.status)).toEqual(['ok']);
      expect(passed()['previous-key']).toBe(1);
    });

    // P was current until C replaced it 3 days ago; C was deleted by hand, and the repair a day ago
    // kept P: P's last use, while it was still current, is no app left behind.
    test('after a repair, a use while the kept key was still current is not counted', async () => {
      sm.versions.get('v2')!.created = new Date(NOW.getTime() - 3 * DAY);
      iam.keys.set(keys.previous, { ...iam.keys.get(keys.previous)!, createdAt: NOW.getTime() - 40 * DAY });
      const use = (at: number) => ({ date: new Date(at), service: 'ses', region: REGION });
      iam.recordUse(keys.previous, use(NOW.getTime() - 3 * DAY - 3_600_000));
      iam.deleteAccessKey({ UserName: USER, AccessKeyId: keys.current });
      const repaired = iam.createAccessKey({ UserName: USER }).AccessKey.AccessKeyId;
      iam.keys.set(repaired, { ...iam.keys.get(repaired)!, createdAt: NOW.getTime() - DAY });
      sm.putSecretValue({ SecretId: ARN, ClientRequestToken: 'v3', SecretString: secretJson(repaired) });
      sm.versions.get('v3')!.created = new Date(NOW.getTime() - DAY);
      sm.versions.get('initial-version')!.stages.delete('AWSPREVIOUS');
      sm.versions.get('v2')!.stages.add('AWSPREVIOUS');
      sm.lastRotatedDate = new Date(NOW.getTime() - DAY);
      expect((await results()).map((r) => r.status)).toEqual(['ok']);
      // A use after the grace is an app left behind.
      iam.recordUse(keys.previous, use(NOW.getTime() - 2 * DAY));
      expect((await results()).map((r) => r.status)).toEqual(['ok', 'warn']);
    });

    test.each([
      ['last used by SES 8 days ago (the quiet period: 7)', 20, 8 * DAY, 'ses', 'Active'],
      ['last used by another service', 20, DAY, 'sts', 'Active'],
      ['made after the current credentials (an orphan of a failed attempt)', 5, DAY, 'ses', 'Active'],
      ['deactivated', 20, DAY, 'ses', 'Inactive'],
    ] as const)('not an app left behind: %s', async (_case, daysAgo, usedAgo, service, status) => {
      const id = unnamedKey(daysAgo, status);
      iam.recordUse(id, { date: new Date(NOW.getTime() - usedAgo), service, region: REGION });
      expect((await results()).map((r) => r.status)).toEqual(['ok']);
      expect(passed()['previous-key']).toBe(1);
    });
  });

  // Every app reads the secret, and SES refuses the key it names: nothing else would say so
  // until the next rotation (up to rotationDays away) repairs it.
  test.each([
    [
      'deleted',
      () => iam.deleteAccessKey({ UserName: USER, AccessKeyId: keys.current }),
      () =>
        `the secret's access key ${keys.current} no longer exists in IAM: SES refuses every app that reads the secret`,
      'make new credentials now: ses-smtp rotate --env prod; if the rotation fails with NoSuchEntity, the SMTP user was deleted too: recreate it first, with CDK CLI 2.1110.0 or later (npx cdk deploy SesSmtp-prod --revert-drift)',
    ],
    // IAM's third status (AccessKeyMetadata: Active | Inactive | Expired): only Active signs.
    [
      'expired',
      () => iam.expired.add(keys.current),
      () =>
        `the secret's access key ${keys.current} has expired in IAM: SES refuses every app that reads the secret`,
      'make new credentials now: ses-smtp rotate --env prod',
    ],
    [
      'deactivated',
      () => iam.inactive.add(keys.current),
      () =>
        `the secret's access key ${keys.current} is deactivated in IAM: SES refuses every app that reads the secret`,
      `if a revoke stopped half-way, run it again (ses-smtp revoke --env prod); otherwise reactivate the key (aws iam update-access-key --user-name ${USER} --access-key-id `,
    ],
    // A status IAM adds later, or none: it does not sign either (read as deactivated).
    ...[undefined, 'Suspended'].map((status): [string, () => void, () => string, string] => [
      `in status ${String(status)}`,
      () =>
        iamMock.on(ListAccessKeysCommand).callsFake((input) => {
          const listed = iam.listAccessKeys(input);
          for (const k of listed.AccessKeyMetadata)
            if (k.AccessKeyId === keys.current) (k as { Status?: string }).Status = status;
          return listed;
        }),
      () =>
        `the secret's access key ${keys.current} is deactivated in IAM: SES refuses every app that reads the secret`,
      'otherwise reactivate the key',
    ]),
  ])('the current key %s in IAM fails the credentials check', async (_state, change, title, fix) => {
    await check();
    expect(passed().credentials).toBe(1);
    change();
    const { run, result } = await check();
    expect(result.failed).toEqual(['credentials']);
    const [secret] = await runChecks(run, [CHECKS.find((c) => c.id === 'credentials')!]).then(
      ([o]) => o.results,
    );
    expect(secret).toMatchObject({ id: 'secret', status: 'fail', title: title() });
    expect(secret.fix).toContain(fix);
  });

  // SES authenticates an SMTP login by the key alone and authorizes each send by the user's
  // policies: without one, AUTH passes (the smtp-login check with it) and every send is refused
  // ("554 Access denied ... not authorized to perform ses:SendRawEmail").
  test('the SMTP user without any policy (its send policy deleted or detached) fails the credentials check', async () => {
    await check();
    expect(passed().credentials).toBe(1);
    iam.inlinePolicies.clear();
    const { run, result } = await check();
    expect(result.failed).toEqual(['credentials']);
    const [outcome] = await runChecks(run, [CHECKS.find((c) => c.id === 'credentials')!]);
    const policy = outcome.results.find((r) => r.id === 'user-policy');
    expect(policy).toMatchObject({
      status: 'fail',
      title: `the SMTP user ${USER} has no IAM policy: SES accepts its login but refuses every send (554 Access denied)`,
    });
    // A plain deploy does not put it back (drift): the fix says the drift-aware one.
    expect(policy!.detail).toBe(
      'changed outside the stack: a deploy of the unchanged template does not change it back',
    );
    expect(policy!.fix).toContain('npx cdk deploy SesSmtp-prod --revert-drift');
  });

  test.each([
    [
      'a managed policy attached to it',
      () => iam.attachedPolicies.add('arn:aws:iam::aws:policy/AmazonSESFullAccess'),
    ],
    ['a group', () => iam.groups.add('mailers')],
  ])('the SMTP user whose send policy is %s instead passes (IAM grants it there)', async (_, change) => {
    iam.inlinePolicies.clear();
    change();
    await check();
    expect(passed().credentials).toBe(1);
  });

  test('a refused policy listing could not tell (doctor run by someone without iam:ListUserPolicies)', async () => {
    iam.faults.failNext(
      'ListUserPolicies',
      awsError('AccessDenied', 'not authorized to perform iam:ListUserPolicies', 403),
    );
    const [outcome] = await runChecks(newRun(), [CHECKS.find((c) => c.id === 'credentials')!]);
    expect(outcome.results.find((r) => r.id === 'user-policy')).toMatchObject({
      status: 'info',
      undetermined: true,
    });
    expect(outcome.passed).toBeUndefined();
  });

  // Only a refusal says the reader lacks the IAM list actions; a throttle, after the SDK's retries,
  // says nothing of the permissions.
  test('a throttled policy listing: the policy part could not run, and names no missing permission', async () => {
    iam.faults.failNext('ListUserPolicies', throttling());
    const [outcome] = await runChecks(newRun(), [CHECKS.find((c) => c.id === 'credentials')!]);
    const policy = outcome.results.find((r) => r.id === 'user-policy')!;
    expect(policy).toMatchObject({
      status: 'fail',
      title: 'user-policy check could not run',
      undetermined: true,
    });
    expect(policy.detail).not.toContain('iam:ListUserPolicies');
    expect(outcome.passed).toBeUndefined();
  });

  test.each([
    [
      'names the function when Secrets Manager still does',
      'arn:aws:lambda:eu-west-1:123456789012:function:Rotate',
    ],
    ['with a placeholder for it when it does not', undefined],
  ])("rotation turned off: the fix turns it back on with the stack's schedule, %s", async (_, lambdaArn) => {
    sm.rotationEnabled = false;
    sm.rotationLambdaArn = lambdaArn;
    const { run } = await check();
    const [, rotation] = await runChecks(run, [CHECKS.find((c) => c.id === 'credentials')!]).then(
      ([o]) => o.results,
    );
    expect(rotation).toMatchObject({ id: 'rotation', status: 'fail', title: 'credential rotation is off' });
    expect(rotation.fix).toBe(
      `turn it back on (it rotates now, then every 90 days, as the stack set it): aws secretsmanager rotate-secret --secret-id ${TARGET.secretId} --rotation-lambda-arn ${lambdaArn ?? "<the ARN of the stack's rotation function>"} --rotation-rules AutomaticallyAfterDays=90 --region ${REGION}`,
    );
  });

  test('a rotation in progress: the rotation part passes and says so (another waits until it ends)', async () => {
    sm.startRotation('in-progress');
    const { run } = await check();
    const [, rotation] = await runChecks(run, [CHECKS.find((c) => c.id === 'credentials')!]).then(
      ([o]) => o.results,
    );
    expect(rotation).toMatchObject({
      id: 'rotation',
      status: 'ok',
      title: 'credentials rotate every 90 days; a rotation is in progress',
    });
    expect(rotation.detail).toMatch(
      /; version in-progress is AWSPENDING: another rotation, or a deploy that changes credentials\.rotationDays, waits until it ends$/,
    );
  });

  test("a stack of an app's own: the fixes name it as its alarms do (the target's cliOptions), not by --env", async () => {
    target = { ...TARGET, cliOptions: '--stack Mail --region eu-west-1' };
    iam.deleteAccessKey({ UserName: USER, AccessKeyId: keys.current });
    const { run } = await check();
    const [secret] = await runChecks(run, [CHECKS.find((c) => c.id === 'credentials')!]).then(
      ([o]) => o.results,
    );
    expect(secret.fix).toBe(
      'make new credentials now: ses-smtp rotate --stack Mail --region eu-west-1; if the rotation fails with NoSuchEntity, the SMTP user was deleted too: recreate it first, with CDK CLI 2.1110.0 or later (npx cdk deploy SesSmtp-prod --revert-drift)',
    );
  });

  test.each(['AWSCURRENT', 'AWSPREVIOUS'])(
    'a refused read of %s fails the credentials and previous-key checks as "could not run", never passes them',
    async (stage) => {
      // A role or key policy that no longer lets the function read the secret (KMS refuses the decrypt).
      smMock
        .on(GetSecretValueCommand, { VersionStage: stage })
        .rejects(Object.assign(new Error('Access to KMS is not allowed'), { name: 'AccessDeniedException' }));
      const { run } = await check();
      const checks = stage === 'AWSCURRENT' ? ['credentials', 'previous-key'] : ['previous-key'];
      for (const id of checks) {
        expect(passed()[id]).toBe(0);
        const [result] = await runChecks(run, [CHECKS.find((c) => c.id === id)!]).then(([o]) => o.results);
        expect(result).toMatchObject({
          status: 'fail',
          title: `${id} check could not run`,
          detail: 'AccessDeniedException: Access to KMS is not allowed',
        });
      }
    },
  );

  test('an unlimited 24-hour quota (SES reports -1) passes and publishes 0 %', async () => {
    ses.account.max24HourSend = -1;
    await check();
    expect(passed().quota).toBe(1);
    expect(JSON.parse(metricLines.find((l) => l.includes('QuotaUsedPercent'))!).QuotaUsedPercent).toBe(0);
  });

  test('a staging environment in the sandbox passes when production access is not expected', async () => {
    ses.account.productionAccessEnabled = false;
    target = { ...TARGET, expectProductionAccess: false };
    await check();
    expect(passed().sandbox).toBe(1);
  });

  // The credentials and previous-key checks both ask IAM about the current key and list its user's
  // keys: one run asks each once.
  test("a daily run asks IAM about each key once and lists the SMTP user's keys once", async () => {
    await check();
    const lastUse = iamMock.commandCalls(GetAccessKeyLastUsedCommand).map((c) => c.args[0].input.AccessKeyId);
    expect(lastUse.filter((id) => id === keys.current)).toHaveLength(1);
    expect(new Set(lastUse).size).toBe(lastUse.length);
    expect(iamMock.commandCalls(ListAccessKeysCommand)).toHaveLength(1);
  });

  test('a check whose API refuses publishes 0 and names the error; the others still run', async () => {
    iam.faults.failNext(
      'GetAccessKeyLastUsed',
      awsError('AccessDenied', 'not authorized to perform iam:GetAccessKeyLastUsed', 403),
    );
    const { result } = await check();
    expect(result.failed).toEqual(['credentials']);
    expect(passed()).toEqual({ ...allPass(), credentials: 0 });
    expect(logLines.join('\n')).toContain('AccessDenied: not authorized to perform iam:GetAccessKeyLastUsed');
  });

  // After the SDK's retries: a throttle or an AWS outage says nothing of the account, and a 0
  // would page with the runbook of an account AWS paused.
  test.each([
    ['ServiceUnavailable (503)', serviceUnavailable],
    ['ThrottlingException', throttling],
    ['a network error', () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
  ])(
    'a check whose API fails for now (%s) publishes no data point, and names the error',
    async (_case, error) => {
      ses.faults.failNext('GetAccount', error());
      const { result } = await check();
      // GetAccount is read once per run: sending, sandbox and quota all report its failure.
      expect(result.failed).toEqual([]);
      const { sending, sandbox, quota, ...rest } = allPass();
      expect([sending, sandbox, quota]).toEqual([1, 1, 1]);
      expect(passed()).toEqual(rest);
      expect(warnings().map((w) => w.check)).toEqual(['sending', 'sandbox', 'quota']);
      expect(logLines.join('\n')).toContain(`${error().name}: ${error().message}`);
    },
  );

  // What a check found before an AWS call failed for now still stands: a 0 for a fault found.
  test.each<[string, string, () => void]>([
    [
      'sending',
      'the account paused, the configuration set read throttled',
      () => {
        ses.account.sendingEnabled = false;
        ses.faults.failNext('GetConfigurationSet', throttling());
      },
    ],
    [
      'credentials',
      "the secret's key deleted, the rotation status read throttled",
      () => {
        iam.deleteAccessKey({ UserName: USER, AccessKeyId: keys.current });
        sm.faults.failNext('DescribeSecret', throttling());
      },
    ],
    [
      'credentials',
      "the secret's read throttled, rotation turned off",
      () => {
        sm.rotationEnabled = false;
        sm.faults.failNext('GetSecretValue', throttling());
      },
    ],
  ])('%s publishes 0 for %s', async (id, _case, breakIt) => {
    breakIt();
    const { result } = await check();
    expect(passed()[id]).toBe(0);
    expect(result.failed).toContain(id);
  });

  // 1200 sent in the last 24 hours: a share exactly at a level is at it ("at or above").
  test.each([
    [1500, { warning: 80, critical: 95 }, 'warn'],
    [1250, { warning: 80, critical: 96 }, 'fail'],
    [1520, { warning: 80, critical: 95 }, 'ok'],
  ])('a quota of %d with levels %j: %s', async (max, quotaPercent, status) => {
    ses.account.max24HourSend = max;
    target = { ...TARGET, quotaPercent };
    const { run } = await check({ checks: 'quota' });
    const [quota] = await runChecks(run, [CHECKS.find((c) => c.id === 'quota')!]);
    expect(quota.results.find((r) => r.id === 'quota')?.status).toBe(status);
  });

  // The busiest minute "reached" health.sendRatePercent (80 % of 14 a second: 672 in a minute).
  test.each([
    [671, 'ok'],
    [672, 'warn'],
  ])('%d sends in the busiest minute: send-rate %s', async (sends, status) => {
    ses.send(sends, NOW.getTime() - 60_000);
    const { run } = await check({ checks: 'quota' });
    const [quota] = await runChecks(run, [CHECKS.find((c) => c.id === 'quota')!]);
    expect(quota.results.find((r) => r.id === 'send-rate')?.status).toBe(status);
  });

  // Behind the schedule by more than a week warns (a rotation a few days late is not yet a failing one).
  test.each([
    [90 + 7, 'ok'],
    [90 + 8, 'warn'],
  ])('credentials last rotated %d days ago on a 90-day schedule: rotation %s', async (days, status) => {
    sm.lastRotatedDate = new Date(NOW.getTime() - days * DAY);
    const { run } = await check({ checks: 'quota' });
    const [credentials] = await runChecks(run, [CHECKS.find((c) => c.id === 'credentials')!]);
    expect(credentials.results.find((r) => r.id === 'rotation')?.status).toBe(status);
  });

  test('an account AWS shut down fails; one under review warns', async () => {
    const enforcement = async () => {
      const { run } = await check({ checks: 'quota' });
      const [sending] = await runChecks(run, [CHECKS.find((c) => c.id === 'sending')!]);
      const result = sending.results.find((r) => r.id === 'enforcement');
      return [result?.status, result?.fix];
    };
    // SHUTDOWN is no review: sending is paused until AWS is asked to resume it.
    ses.account.enforcementStatus = 'SHUTDOWN';
    expect(await enforcement()).toEqual([
      'fail',
      expect.stringMatching(
        /^AWS paused sending for the account: .*then ask AWS in the case to resume sending/,
      ),
    ]);
    ses.account.enforcementStatus = 'PROBATION';
    expect(await enforcement()).toEqual(['warn', expect.stringMatching(/^AWS is reviewing the account/)]);
  });

  test('a peak send rate that could not be read for now: the quota figures and the quota verdict stand', async () => {
    ses.account.max24HourSend = 1250;
    cw.faults.failNext('GetMetricData', serviceUnavailable());
    const { result } = await check({ checks: 'quota' });
    // 1200 of 1250 sent: over the critical level, whatever the peak.
    expect(passed()).toEqual({ ...FREQUENT_PASS, sending: 1, quota: 0 });
    expect(result.failed).toEqual(['quota']);
    const figures = JSON.parse(metricLines.find((l) => l.includes('QuotaUsedPercent'))!);
    expect(figures.QuotaUsedPercent).toBe(96);
    expect(figures.PeakSendRatePercent).toBeUndefined();
  });

  test('a quota within its levels beside a peak rate read that failed, for now or refused: no quota point, counted as could not tell; the figures stand', async () => {
    cw.faults.failNext('GetMetricData', serviceUnavailable());
    const { run } = await check({ checks: 'quota' });
    expect(passed()).toEqual({ ...FREQUENT_PASS, sending: 1 });
    expect(JSON.parse(metricLines.find((l) => l.includes('QuotaUsedPercent'))!).QuotaUsedPercent).toBe(2.4);
    cw.faults.failNext('GetMetricData', serviceUnavailable());
    const [quota] = await runChecks(run, [CHECKS.find((c) => c.id === 'quota')!]);
    expect(quota.results.map((r) => [r.id, r.status, r.undetermined])).toEqual([
      ['quota', 'ok', undefined],
      ['send-rate', 'fail', true],
    ]);

    // Refused (an SCP, a permissions boundary): a 0 for the quota check would reach no alarm (its
    // figures have theirs) while the send-rate alarm kept its state; ChecksUndetermined has one.
    metricLines = [];
    const refused = () => awsError('AccessDenied', 'not authorized to perform cloudwatch:GetMetricData', 403);
    cw.faults.failNext('GetMetricData', refused());
    await check({ checks: 'quota' });
    expect(passed()).toEqual({ ...FREQUENT_PASS, sending: 1 });
    expect(metricLines.some((l) => l.includes('QuotaUsedPercent'))).toBe(true);
    expect(metricLines.some((l) => l.includes('PeakSendRatePercent'))).toBe(false);
    const finished = metricLines.map((l) => JSON.parse(l)).find((d) => 'RunFinished' in d);
    expect(finished).toMatchObject({ Run: 'quota', ChecksUndetermined: 1 });
    cw.faults.failNext('GetMetricData', refused());
    const [again] = await runChecks(run, [CHECKS.find((c) => c.id === 'quota')!]);
    expect(again.results[1]).toMatchObject({
      id: 'send-rate',
      status: 'fail',
      title: 'send-rate check could not run',
      undetermined: true,
    });
  });

  test('ChecksUndetermined counts every check of the run that could not tell', async () => {
    cw.faults.failNext('GetMetricData', serviceUnavailable());
    ses.faults.failNext('GetConfigurationSet', throttling());
    await check({ checks: 'quota' });
    expect(passed()).toEqual({ ...FREQUENT_PASS });
    const finished = metricLines.map((l) => JSON.parse(l)).find((d) => 'RunFinished' in d);
    expect(finished).toMatchObject({ Run: 'quota', ChecksUndetermined: 2 });
  });

  test('a GetAccount answer without SendQuota: the quota check could not tell, not a pass on nothing', async () => {
    sesMock.on(GetAccountCommand).resolves({
      ProductionAccessEnabled: true,
      SendingEnabled: true,
      EnforcementStatus: 'HEALTHY',
    });
    await check({ checks: 'quota' });
    expect(passed()).toEqual({ ...FREQUENT_PASS, sending: 1 });
    const finished = metricLines.map((l) => JSON.parse(l)).find((d) => 'RunFinished' in d);
    expect(finished).toMatchObject({ Run: 'quota', ChecksUndetermined: 1 });
  });

  test('the hourly run checks what can stop every app at any hour, and publishes the quota figures', async () => {
    const { result } = await check({ checks: 'quota' });
    expect(passed()).toEqual({ identity: 1, sending: 1, quota: 1, credentials: 1, 'smtp-login': 1 });
    expect(result.checks).toBe(5);
    // One GetAccount for sending and the quota.
    expect(sesMock.commandCalls(GetAccountCommand)).toHaveLength(1);
    // Not the records (DNS changes slowly) nor the previous key (a warning weeks ahead): their
    // checks publish nothing above.
    expect(metricLines.some((l) => l.includes('"SentLast24Hours":1200'))).toBe(true);
  });

  /** The first deploy: the secret made `ago` ms before NOW, its placeholder AWSCURRENT, the first rotation's AWSPENDING. */
  function firstRotationRunning(ago: number) {
    sm = new FakeSecretsManager(ARN, '{"placeholder":"x"}', () => NOW.getTime() - ago);
    sm.startRotation('first-rotation');
    smMock.on(GetSecretValueCommand).callsFake((input) => sm.getSecretValue(input));
    smMock.on(DescribeSecretCommand).callsFake((input) => sm.describeSecret(input));
  }

  // The deploy waits up to 14.5 minutes for the first credentials while the schedules already run.
  test('the first rotation running, 5 minutes after the secret was made: could not tell yet, no page', async () => {
    firstRotationRunning(5 * 60_000);
    const { result } = await check(
      { checks: 'quota' },
      { endpoint: () => ({ host: 'h', port: 587 }), login: jest.fn() },
    );
    expect(result.failed).toEqual([]);
    expect(passed()).toEqual({ identity: 1, sending: 1, quota: 1 });
    const credentials = warnings().find((w) => w.check === 'credentials');
    expect(credentials).toMatchObject({
      message: 'health check credentials could not tell: no data point, its alarm keeps its state',
      problems: [
        {
          id: 'secret',
          status: 'info',
          title: 'the first rotation is running: no SMTP credentials yet',
          detail: `secret created at ${new Date(NOW.getTime() - 5 * 60_000).toISOString()}, version first-rotation is AWSPENDING; past an hour without credentials this check fails`,
          undetermined: true,
        },
      ],
    });
  });

  test('credentials put by hand during the first rotation: never rotated still fails (no "could not tell")', async () => {
    firstRotationRunning(5 * 60_000);
    sm.versions.get('initial-version')!.value = secretJson(keys.current);
    const { result } = await check({ checks: 'quota' });
    expect(result.failed).toEqual(['credentials']);
    expect(warnings().find((w) => w.check === 'credentials')!.problems).toEqual([
      expect.objectContaining({ id: 'rotation', status: 'fail', title: 'credentials never rotated' }),
    ]);
  });

  test.each([
    ['an hour after the secret was made, still running', 60 * 60_000, true],
    ['5 minutes after the secret was made, AWSPENDING gone (the rotation gave up)', 5 * 60_000, false],
  ])('the placeholder %s: the credentials check fails as before', async (_case, ago, pending) => {
    firstRotationRunning(ago);
    if (!pending) sm.versions.get('first-rotation')!.stages.clear();
    const { result } = await check({ checks: 'quota' });
    expect(result.failed).toEqual(['credentials']);
    expect(warnings().find((w) => w.check === 'credentials')!.problems).toEqual([
      expect.objectContaining({ id: 'secret', status: 'fail' }),
      expect.objectContaining({ id: 'rotation', status: 'fail', title: 'credentials never rotated' }),
    ]);
  });

  // A key deleted or deactivated in IAM strands every app at once: found within the hour.
  test('the current key deactivated: the hourly run fails the credentials check', async () => {
    iam.inactive.add(keys.current);
    const { result } = await check({ checks: 'quota' });
    expect(result.failed).toEqual(expect.arrayContaining(['credentials']));
    expect(passed()).toMatchObject({ credentials: 0 });
  });

  // A pause by AWS (a review, an enforcement) stops every send: found within the hour.
  test('AWS paused sending: the hourly run fails the sending check', async () => {
    ses.account.sendingEnabled = false;
    const { result } = await check({ checks: 'quota' });
    expect(result.failed).toEqual(['sending']);
    expect(passed()).toEqual({ ...FREQUENT_PASS, sending: 0, quota: 1 });
    // A check that failed told: it is no "could not tell".
    const finished = metricLines.map((l) => JSON.parse(l)).find((d) => 'RunFinished' in d);
    expect(finished).toMatchObject({ Run: 'quota', ChecksUndetermined: 0 });
  });

  // What the watchers of the schedules alarm on: one point per finished run, by run.
  test('each run ends with its RunFinished point, after its checks', async () => {
    await check();
    await check({ checks: 'quota' });
    const docs = metricLines.map((l) => JSON.parse(l));
    const runs = docs.filter((d) => 'RunFinished' in d);
    expect(runs.map((d) => [d.Environment, d.Run, d.RunFinished, d.ChecksUndetermined])).toEqual([
      ['prod', 'all', 1, 0],
      ['prod', 'quota', 1, 0],
    ]);
    expect(runs[0]._aws.CloudWatchMetrics[0]).toEqual({
      Namespace: 'SesSmtp/Health',
      Dimensions: [['Environment', 'Run']],
      Metrics: [
        { Name: 'RunFinished', Unit: 'Count' },
        { Name: 'ChecksUndetermined', Unit: 'Count' },
      ],
    });
    // Written last: a run that dies on the way writes none.
    expect(docs.indexOf(runs[0])).toBeGreaterThan(docs.findIndex((d) => d.Check === 'previous-key'));
  });

  test('an unknown event is an error', async () => {
    await expect(check({ checks: 'everything' as 'all' })).rejects.toThrow(
      'event.checks must be "all" or "quota", got: "everything"',
    );
  });

  test('no password or secret key reaches a log line or a metric', async () => {
    iam.recordUse(keys.previous, { date: new Date(NOW.getTime() - DAY), service: 'ses', region: REGION });
    sm.rotationEnabled = false;
    await check();
    const text = [...logLines, ...metricLines].join('\n');
    expect(text).toContain(keys.previous);
    expect(text).not.toMatch(/must-never-leak/);
    for (const secret of keys.secrets) expect(text).not.toContain(secret);
  });
});

// Changed outside CloudFormation, each stays so: a deploy of the unchanged template updates
// nothing. Reputation metrics off: the configuration set's rate alarms (missing data ignored) stay
// OK. No enabled SNS destination with BOUNCE and COMPLAINT: the feedback queues just stay empty.
describe("the sending check: the configuration set's reputation metrics and event destination", () => {
  const sending = CHECKS.find((c) => c.id === 'sending')!;
  const sendingResults = async () => (await runChecks(newRun(), [sending]))[0];
  const set = () => ses.configurationSets.get(SET)!;
  const changedOutside =
    'changed outside the stack: a deploy of the unchanged template does not change it back';
  const update = (events: string[]) =>
    `aws sesv2 update-configuration-set-event-destination --configuration-set-name ${SET} --event-destination-name Feedback --event-destination '{"Enabled":true,"MatchingEventTypes":${JSON.stringify(events)},"SnsDestination":{"TopicArn":"${FEEDBACK_TOPIC_ARN}"}}' --region eu-west-1`;

  test('all well: one result for each, ok, from the set and its event destinations', async () => {
    const outcome = await sendingResults();
    expect(outcome.results).toEqual([
      { id: 'sending', status: 'ok', title: 'sending is enabled' },
      { id: 'configuration-set', status: 'ok', title: `sending is enabled for the configuration set ${SET}` },
      {
        id: 'reputation-metrics',
        status: 'ok',
        title: `SES collects reputation metrics for the configuration set ${SET}`,
      },
      {
        id: 'event-destination',
        status: 'ok',
        title: `the configuration set ${SET} publishes bounces and complaints to SNS (event destination Feedback)`,
      },
    ]);
    expect(outcome.passed).toBe(true);
    expect(
      sesMock.commandCalls(GetConfigurationSetEventDestinationsCommand).map((c) => c.args[0].input),
    ).toEqual([{ ConfigurationSetName: SET }]);
  });

  test('one enabled SNS destination with BOUNCE and COMPLAINT is enough, beside others', async () => {
    set().eventDestinations = [
      { ...feedbackDestination(), name: 'Old', enabled: false },
      { ...feedbackDestination(), name: 'Analytics', snsTopicArn: undefined },
      { ...feedbackDestination(), matchingEventTypes: ['SEND', 'BOUNCE', 'COMPLAINT', 'DELIVERY'] },
    ];
    expect((await sendingResults()).passed).toBe(true);
  });

  test('reputation metrics turned off: fails, with the call that turns them back on', async () => {
    set().reputationMetricsEnabled = false;
    const outcome = await sendingResults();
    expect(outcome.results.find((r) => r.id === 'reputation-metrics')).toEqual({
      id: 'reputation-metrics',
      status: 'fail',
      title: `SES collects no reputation metrics for the configuration set ${SET}: its bounce and complaint rate alarms stay OK whatever the rates`,
      detail: changedOutside,
      fix: `aws sesv2 put-configuration-set-reputation-options --configuration-set-name ${SET} --reputation-metrics-enabled --region eu-west-1`,
    });
    expect(outcome.passed).toBe(false);
  });

  test('the destination disabled: fails, with the update that enables it with its own settings', async () => {
    set().eventDestinations = [{ ...feedbackDestination(), enabled: false }];
    const outcome = await sendingResults();
    expect(outcome.results.find((r) => r.id === 'event-destination')).toEqual({
      id: 'event-destination',
      status: 'fail',
      title: `event destination Feedback of the configuration set ${SET} is disabled: no bounce or complaint reaches the feedback handler or the app`,
      detail: changedOutside,
      fix: update(['BOUNCE', 'COMPLAINT']),
    });
    expect(outcome.passed).toBe(false);
  });

  test.each<[string[], string, string[]]>([
    [
      ['BOUNCE', 'DELIVERY'],
      'publishes no COMPLAINT events: no complaint',
      ['BOUNCE', 'DELIVERY', 'COMPLAINT'],
    ],
    [['COMPLAINT'], 'publishes no BOUNCE events: no bounce', ['COMPLAINT', 'BOUNCE']],
    [
      ['SEND'],
      'publishes no BOUNCE or COMPLAINT events: no bounce or complaint',
      ['SEND', 'BOUNCE', 'COMPLAINT'],
    ],
  ])(
    'the destination publishing %j: fails, with the update that adds the missing types',
    async (types, found, fixed) => {
      set().eventDestinations = [{ ...feedbackDestination(), matchingEventTypes: types }];
      const outcome = await sendingResults();
      expect(outcome.results.find((r) => r.id === 'event-destination')).toEqual({
        id: 'event-destination',
        status: 'fail',
        title: `event destination Feedback of the configuration set ${SET} ${found} reaches the feedback handler or the app`,
        detail: changedOutside,
        fix: update(fixed),
      });
      expect(outcome.passed).toBe(false);
    },
  );

  test('disabled and without COMPLAINT: both said, one update fixes both', async () => {
    set().eventDestinations = [{ ...feedbackDestination(), enabled: false, matchingEventTypes: ['BOUNCE'] }];
    const result = (await sendingResults()).results.find((r) => r.id === 'event-destination');
    expect(result?.title).toBe(
      `event destination Feedback of the configuration set ${SET} is disabled and publishes no COMPLAINT events: no bounce or complaint reaches the feedback handler or the app`,
    );
    expect(result?.fix).toBe(update(['BOUNCE', 'COMPLAINT']));
  });

  test.each<[string, () => void, string]>([
    ['deleted', () => (set().eventDestinations = []), 'no event destination'],
    [
      'replaced by one to EventBridge',
      () => (set().eventDestinations = [{ ...feedbackDestination(), name: 'Bus', snsTopicArn: undefined }]),
      'event destination Bus, not to SNS',
    ],
  ])('no SNS destination (%s): fails, with the call that creates it again', async (_case, breakIt, found) => {
    breakIt();
    const outcome = await sendingResults();
    expect(outcome.results.find((r) => r.id === 'event-destination')).toEqual({
      id: 'event-destination',
      status: 'fail',
      title: `the configuration set ${SET} has no SNS event destination: no bounce or complaint reaches the feedback handler or the app`,
      detail: `${found}; ${changedOutside}`,
      fix: `recreate it under the name CloudFormation gave it (NAME: aws cloudformation list-stack-resources --stack-name SesSmtp-prod --region eu-west-1 --query "StackResourceSummaries[?ResourceType=='AWS::SES::ConfigurationSetEventDestination' && contains(LogicalResourceId, 'ConfigurationSetFeedback')].PhysicalResourceId" --output text), with TOPIC_ARN the stack's FeedbackTopicArn output (and feedback.additionalEvents' types added to MatchingEventTypes): aws sesv2 create-configuration-set-event-destination --configuration-set-name ${SET} --event-destination-name NAME --event-destination '{"Enabled":true,"MatchingEventTypes":["BOUNCE","COMPLAINT"],"SnsDestination":{"TopicArn":"TOPIC_ARN"}}' --region eu-west-1`,
    });
    expect(outcome.passed).toBe(false);
  });

  // The stack's set has other event destinations (Sends, to CloudWatch; AppWebhook, with a
  // webhook): a query that listed them too printed two or three names for NAME, and recreating the
  // queues' under the Sends one's name fails on a name that exists.
  test("the fix's query lists the name of the queues' event destination alone, from the stack's resources", async () => {
    set().eventDestinations = [];
    const fix = String((await sendingResults()).results.find((r) => r.id === 'event-destination')?.fix);
    const query = /--query "StackResourceSummaries\[\?(.*)\]\.PhysicalResourceId"/.exec(fix)![1];
    // What list-stack-resources reports: CloudFormation names an unnamed destination after the
    // stack and its logical id (the CLI harness's FEEDBACK_DESTINATION); AppWebhook keeps its name.
    const { template } = synthStack({ feedback: { webhookUrl: 'https://app.example.com/ses/events' } });
    type Resource = {
      Type: string;
      Properties?: {
        EventDestination?: { Name?: string; SnsDestination?: { TopicARN?: { Ref?: string } } };
      };
    };
    const resources = template.toJSON().Resources as Record<string, Resource>;
    const summaries = Object.entries(resources).map(([id, r]) => ({
      LogicalResourceId: id,
      ResourceType: r.Type,
      PhysicalResourceId: String(
        r.Properties?.EventDestination?.Name ?? `SesSmtpprod${id.slice(0, -8)}-EXAMPLE`,
      ),
      topic: r.Properties?.EventDestination?.SnsDestination?.TopicARN?.Ref,
    }));
    expect(
      summaries.filter((s) => s.ResourceType === 'AWS::SES::ConfigurationSetEventDestination'),
    ).toHaveLength(3);
    // The JMESPath terms the fix may use, each evaluated as the CLI would.
    const holds = (s: Record<string, unknown>, term: string): boolean => {
      const compare = /^(\w+)\s*(==|!=)\s*'([^']*)'$/.exec(term);
      if (compare) return (s[compare[1]] === compare[3]) === (compare[2] === '==');
      const contains = /^contains\((\w+),\s*'([^']*)'\)$/.exec(term);
      if (contains) return String(s[contains[1]]).includes(contains[2]);
      throw new Error(`a term this test cannot evaluate: ${term}`);
    };
    const listed = summaries.filter((s) => query.split('&&').every((term) => holds(s, term.trim())));
    const feedbackTopic = Object.keys(template.findResources('AWS::SNS::Topic')).find((id) =>
      /^SendingFeedbackTopic[0-9A-F]{8}$/.test(id),
    );
    const queues = summaries.find((s) => s.topic !== undefined && s.topic === feedbackTopic)!;
    // (Not toEqual on the topics: it takes [topic, undefined] for [topic].)
    expect(listed.map((s) => s.PhysicalResourceId)).toStrictEqual([queues.PhysicalResourceId]);
  });

  test('the destinations read throttled: that part could not tell; the rest stands; no data point', async () => {
    ses.faults.failNext('GetConfigurationSetEventDestinations', throttling());
    const outcome = await sendingResults();
    expect(outcome.results.map((r) => [r.id, r.status, r.undetermined])).toEqual([
      ['sending', 'ok', undefined],
      ['configuration-set', 'ok', undefined],
      ['reputation-metrics', 'ok', undefined],
      ['event-destination', 'fail', true],
    ]);
    expect(outcome.results[3]).toMatchObject({ detail: 'ThrottlingException: Rate exceeded' });
    expect(outcome.passed).toBeUndefined();
    ses.faults.failNext('GetConfigurationSetEventDestinations', throttling());
    const { result } = await check({ checks: 'quota' });
    expect(result.failed).toEqual([]);
    expect(passed()).toEqual({ ...FREQUENT_PASS, quota: 1 });
  });

  test('the destinations read throttled beside metrics turned off: still a 0', async () => {
    set().reputationMetricsEnabled = false;
    ses.faults.failNext('GetConfigurationSetEventDestinations', throttling());
    const { result } = await check({ checks: 'quota' });
    expect(result.failed).toEqual(['sending']);
    expect(passed()).toEqual({ ...FREQUENT_PASS, sending: 0, quota: 1 });
  });

  // The role lacks ses:GetConfigurationSetEventDestinations (an SCP, a boundary): not "could not tell".
  test('the destinations read refused: the sending check fails, naming the error', async () => {
    const refused = () =>
      awsError(
        'AccessDeniedException',
        'not authorized to perform: ses:GetConfigurationSetEventDestinations',
        403,
      );
    ses.faults.failNext('GetConfigurationSetEventDestinations', refused());
    const outcome = await sendingResults();
    expect(outcome.results).toEqual([
      expect.objectContaining({
        id: 'sending',
        status: 'fail',
        title: 'sending check could not run',
        detail: 'AccessDeniedException: not authorized to perform: ses:GetConfigurationSetEventDestinations',
      }),
    ]);
    expect(outcome.results[0].undetermined).toBeUndefined();
    expect(outcome.passed).toBe(false);
    ses.faults.failNext('GetConfigurationSetEventDestinations', refused());
    const { result } = await check({ checks: 'quota' });
    expect(result.failed).toEqual(['sending']);
    expect(passed()).toEqual({ ...FREQUENT_PASS, sending: 0, quota: 1 });
  });
});

describe('targetFromEnv', () => {
  test('parses the JSON the construct writes', () => {
    expect(targetFromEnv({ HEALTH_TARGET: JSON.stringify(TARGET) })).toEqual(TARGET);
  });
  test.each([
    [{}, 'HEALTH_TARGET is not set'],
    [{ HEALTH_TARGET: '{' }, 'HEALTH_TARGET is not JSON'],
    [
      { HEALTH_TARGET: JSON.stringify({ ...TARGET, identity: '' }) },
      'HEALTH_TARGET.identity must be a non-empty string, got: ""',
    ],
    [
      { HEALTH_TARGET: JSON.stringify({ ...TARGET, rotationDays: '90' }) },
      'HEALTH_TARGET.rotationDays must be a number, got: "90"',
    ],
    [
      { HEALTH_TARGET: JSON.stringify({ ...TARGET, cliOptions: 7 }) },
      'HEALTH_TARGET.cliOptions must be a string, got: 7',
    ],
    [
      { HEALTH_TARGET: JSON.stringify({ ...TARGET, stackPath: ['MailStack'] }) },
      'HEALTH_TARGET.stackPath must be a string, got: ["MailStack"]',
    ],
  ])('refuses %j', (env, message) => {
    expect(() => targetFromEnv(env)).toThrow(message);
  });
});

describe('the SMTP login (smtp-login): the 535 of the guide, watched', () => {
  let server: TestSmtpServer;
  let accept: (username: string, password: string) => boolean;
  beforeAll(async () => {
    server = await startSmtpServer({ accept: (username, password) => accept(username, password) });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.authAttempts.length = 0;
    // SES: the key exists and the password is its SMTP password.
    accept = (username, password) =>
      iam.created.some((k) => k.id === username) && password === JSON.parse(secretJson(username)).password;
  });

  /** The test server's endpoint, its certificate trusted; `login` counts the attempts, throws `fail` first. */
  function client(endpoint: Partial<SmtpEndpoint> = {}, fail: Error[] = []) {
    const attempts: string[] = [];
    const login: SmtpLoginClient['login'] = async (at, credentials) => {
      attempts.push(credentials.username);
      const error = fail.shift();
      if (error) throw error;
      return smtpLogin(at, credentials);
    };
    const at = { host: '127.0.0.1', port: server.port, tls: { ca: server.ca }, ...endpoint };
    return { attempts, smtp: { endpoint: () => at, login } };
  }
  const reply = (response: string) =>
    Object.assign(new Error(`Invalid login: ${response}`), {
      code: 'EAUTH',
      response,
      responseCode: Number(response.slice(0, 3)),
    });

  test("logs in with AWSCURRENT's credentials, as an app does: passes", async () => {
    const { smtp } = client();
    await check({}, smtp);
    expect(passed()).toEqual(allPass());
    expect(server.authAttempts).toEqual([{ username: keys.current, accepted: true }]);
    expect(warnings()).toEqual([]);
  });

  test("a password that is not its key's (a secret edited by hand): fails, once, says to rotate, logs no password", async () => {
    accept = () => false;
    const { smtp, attempts } = client();
    const { result } = await check({}, smtp);
    expect(passed()).toEqual({ ...allPass(), 'smtp-login': 0 });
    expect(result.failed).toEqual(['smtp-login']);
    expect(attempts).toHaveLength(1);
    expect(warnings()[0].problems).toEqual([
      expect.objectContaining({
        status: 'fail',
        detail: expect.stringMatching(/^auth: authentication rejected \(535 /),
        fix: "the secret's password is not the SMTP password of its key (a secret edited by hand?), or SES refuses the key: ses-smtp rotate --env prod writes a new key with its password (apps then read it: ses-smtp env --env prod)",
      }),
    ]);
    expect(logLines.join('\n')).not.toContain('must-never-leak');
  });

  test.each([
    ['at the connection', Object.assign(new Error('Connection closed unexpectedly'), { code: 'ESOCKET' })],
    [
      'in the TLS handshake',
      Object.assign(
        new Error('Client network socket disconnected before secure TLS connection was established'),
        {
          code: 'ESOCKET',
        },
      ),
    ],
  ])('a connection that fails once %s is tried again at once, and passes', async (_where, error) => {
    const { smtp, attempts } = client({}, [error]);
    await check({}, smtp);
    expect(passed()).toEqual(allPass());
    expect(attempts).toEqual([keys.current, keys.current]);
  });

  test("each check's metric is written as it finishes: the earlier ones before the login", async () => {
    const { smtp } = client();
    let writtenBeforeLogin: string[] = [];
    const login = smtp.login;
    await check(
      {},
      {
        ...smtp,
        login: (at, credentials) => {
          writtenBeforeLogin = Object.keys(passed());
          return login(at, credentials);
        },
      },
    );
    expect(writtenBeforeLogin).toEqual(
      CHECK_CATALOG.map((c) => c.id).filter((id) => !['smtp-login', 'webhook', 'ecs-services'].includes(id)),
    );
  });

  test("a connection refused twice fails at the connect stage, with the function's own advice", async () => {
    // A port nothing listens on: one the system gave a server that is closed again.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise((resolve) => closed.close(resolve));
    const { smtp, attempts } = client({ port });
    await check({}, smtp);
    expect(passed()).toEqual({ ...allPass(), 'smtp-login': 0 });
    expect(attempts).toHaveLength(2);
    expect(warnings()[0].problems[0]).toMatchObject({
      detail: `connect: connection refused by 127.0.0.1:${port}`,
      fix: `the health-check function (on Lambda's network, outside any VPC) could not reach 127.0.0.1:${port} twice: look for an SES event in AWS Health for this Region; ses-smtp doctor --env prod logs in from where you run it`,
    });
  });

  // Hourly, one network blip would page 24 times as often as daily: the second attempt waits.
  test('the second attempt comes after the pause, the first does not wait', async () => {
    const events: string[] = [];
    const { smtp } = client({}, [Object.assign(new Error('connect ECONNRESET'), { code: 'ESOCKET' })]);
    const paused = {
      ...smtp,
      login: async (...args: Parameters<typeof smtp.login>) => {
        events.push('login');
        return smtp.login(...args);
      },
      pauseBeforeRetry: async () => void events.push('pause'),
    };
    await check({}, paused);
    expect(events).toEqual(['login', 'pause', 'login']);
    expect(passed()).toEqual(allPass());
  });

  test("the function's pause is 5 s (on a fake clock)", async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      let done = false;
      const pause = smtpLoginFromEnv({}).pauseBeforeRetry!().then(() => (done = true));
      await jest.advanceTimersByTimeAsync(4_999);
      expect(done).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await pause;
      expect(done).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  test('a temporary answer (4xx) is tried again; twice, it is "could not tell": no data point', async () => {
    const throttled = () => reply('454 Throttling failure: Maximum SigV4 authentication rate exceeded');
    const once = client({}, [throttled()]);
    await check({}, once.smtp);
    expect(passed()).toEqual(allPass());
    expect(once.attempts).toHaveLength(2);

    metricLines = [];
    // A greeting's 421: nodemailer gives the reply text, not always its code.
    const greeting = Object.assign(new Error('421 Too many concurrent SMTP connections'), {
      code: 'EPROTOCOL',
      response: '421 Too many concurrent SMTP connections',
    });
    const twice = client({}, [throttled(), greeting]);
    const { run } = await check({}, twice.smtp);
    expect(passed()).toEqual(allPassBut('smtp-login'));
    expect(twice.attempts).toHaveLength(2);
    // Counted in the run's last line: the alarm on checks that keep not telling reads it.
    const finished = metricLines.map((l) => JSON.parse(l)).find((d) => 'RunFinished' in d);
    expect(finished).toMatchObject({ Run: 'all', ChecksUndetermined: 1 });
    const [result] = await CHECKS.find((c) => c.id === 'smtp-login')!.run(
      new CheckRun(run.target, { ...run.clients, smtp: client({}, [throttled(), throttled()]).smtp }),
    );
    expect(result).toMatchObject({
      status: 'info',
      detail: expect.stringMatching(/\(a temporary answer, twice\)$/),
      undetermined: true,
    });
  });

  // The guide's 535 found yesterday, then SES throttling today's login: the alarm must not clear.
  test('a 535 one day, temporary answers the next: the 0 stands (no 1 that would clear the alarm)', async () => {
    await check({}, client({}, [reply('535 Authentication Credentials Invalid')]).smtp);
    expect(passed()['smtp-login']).toBe(0);
    metricLines = [];
    const throttled = () => reply('454 Throttling failure: Maximum SigV4 authentication rate exceeded');
    await check({}, client({}, [throttled(), throttled()]).smtp);
    expect(passed()).toEqual(allPassBut('smtp-login'));
  });

  // The stale-use guard and the previous-key check take a use of the key AWSPREVIOUS holds for an
  // app's: the check must never log in with a key a rotation has just replaced.
  test('reads AWSCURRENT right before it logs in: a rotation that moved it since the run began', async () => {
    let rotated: string | undefined;
    // IAM's keys are listed after the run's first read of AWSCURRENT: the rotation finishes there.
    iamMock.on(ListAccessKeysCommand).callsFake((input) => {
      if (!rotated) {
        // IAM's two keys: the rotation deletes the oldest first.
        iam.deleteAccessKey({ UserName: USER, AccessKeyId: keys.previous });
        rotated = iam.createAccessKey({ UserName: USER }).AccessKey.AccessKeyId;
        sm.putSecretValue({ SecretId: ARN, ClientRequestToken: 'v3', SecretString: secretJson(rotated) });
      }
      return iam.listAccessKeys(input);
    });
    const { smtp } = client();
    await check({}, smtp);
    expect(server.authAttempts.map((a) => a.username)).toEqual([rotated]);
  });

  test('reads AWSCURRENT again before the second attempt', async () => {
    const { smtp, attempts } = client();
    let rotated: string | undefined;
    const reset = Object.assign(new Error('Connection closed unexpectedly'), { code: 'ESOCKET' });
    await check(
      {},
      {
        ...smtp,
        login: async (at, credentials) => {
          if (!rotated) {
            // A rotation finishes while the first attempt fails.
            iam.deleteAccessKey({ UserName: USER, AccessKeyId: keys.previous });
            rotated = iam.createAccessKey({ UserName: USER }).AccessKey.AccessKeyId;
            sm.putSecretValue({ SecretId: ARN, ClientRequestToken: 'v3', SecretString: secretJson(rotated) });
            attempts.push(credentials.username);
            throw reset;
          }
          return smtp.login(at, credentials);
        },
      },
    );
    expect(attempts).toEqual([keys.current, rotated]);
  });

  // A rotation that stopped half-way may be resumed days later; the replacement time the guard
  // reads is then the pending version's old CreatedDate, so a login with AWSCURRENT's key
  // meanwhile would count as a use after the replacement.
  test.each([
    ['running (30 minutes old)', 30 * 60_000],
    ['stopped half-way (3 days old)', 3 * DAY],
  ])('a rotation not finished, %s: no login, "not logged in"', async (_case, age) => {
    iam.deleteAccessKey({ UserName: USER, AccessKeyId: keys.previous });
    const pending = iam.createAccessKey({ UserName: USER }).AccessKey.AccessKeyId;
    sm.putSecretValue({
      SecretId: ARN,
      ClientRequestToken: 'v3',
      SecretString: secretJson(pending),
      VersionStages: ['AWSPENDING'],
    });
    sm.versions.get('v3')!.created = new Date(NOW.getTime() - age);
    const { smtp, attempts } = client();
    const { run } = await check({}, smtp);
    expect(passed()).toEqual(allPassBut('smtp-login'));
    expect(attempts).toEqual([]);
    const [skipped] = await CHECKS.find((c) => c.id === 'smtp-login')!.run(run);
    expect(skipped).toMatchObject({
      status: 'info',
      undetermined: true,
      detail: `a rotation has not finished (AWSPENDING since ${new Date(NOW.getTime() - age).toISOString()}): no login with a key it may replace; the credentials check reports a rotation that stays unfinished`,
    });
  });

  test('AWSPENDING on the AWSCURRENT version (finishSecret moved the stage, not yet cleared): logs in', async () => {
    sm.versions.get('v2')!.stages.add('AWSPENDING');
    const { smtp, attempts } = client();
    await check({}, smtp);
    expect(attempts).toEqual([keys.current]);
  });

  test('a secret without credentials: nothing to log in with (the credentials check fails for it)', async () => {
    sm.putSecretValue({ SecretId: ARN, ClientRequestToken: 'p', SecretString: '{"placeholder":"x"}' });
    const { smtp, attempts } = client();
    const { result } = await check({}, smtp);
    expect(result.failed).toEqual(['credentials']);
    expect(attempts).toEqual([]);
  });

  // A password that no longer matches its key strands every app at once: found within the hour.
  test('the hourly run logs in too', async () => {
    const { smtp, attempts } = client();
    await check({ checks: 'quota' }, smtp);
    expect(attempts).toEqual([keys.current]);
  });

  test("the function's endpoint: SMTP_HOST and SMTP_PORT, read when the check runs; a missing one fails only that check", async () => {
    expect(
      smtpLoginFromEnv({ SMTP_HOST: 'email-smtp.eu-west-1.amazonaws.com', SMTP_PORT: '587' }).endpoint(),
    ).toEqual({ host: 'email-smtp.eu-west-1.amazonaws.com', port: 587 });
    expect(smtpLoginFromEnv({ SMTP_HOST: 'h', SMTP_PORT: '465' }).endpoint()).toEqual({
      host: 'h',
      port: 465,
      implicitTls: true,
    });
    const { result } = await check({}, smtpLoginFromEnv({}));
    expect(result.failed).toEqual(['smtp-login']);
    expect(warnings()[0].problems[0]).toMatchObject({
      detail: 'SMTP_HOST is not set: the construct sets it to the Region SMTP endpoint',
      fix: 'deploy the stack again (npx cdk deploy SesSmtp-prod): the HealthChecks construct sets SMTP_HOST and SMTP_PORT',
    });
  });
});

// The alarms and the function share the names (health-metrics.ts), but an alarm matches only a
// metric with exactly its dimensions and their values: one that reads a name, a dimension or a
// value (a Check id, a Run) no run writes has no data, ever, and stays as it is whatever happens.
describe("the template's alarms read what the runs write", () => {
  type Dimensions = Record<string, unknown>;
  const key = (namespace: unknown, name: unknown, dimensions: Dimensions) =>
    JSON.stringify([namespace, name, Object.entries(dimensions).sort()]);

  test('every alarm on SesSmtp/Health of the stack reads a metric the daily and the hourly runs write', async () => {
    // The environment synthStack builds.
    target = { ...TARGET, environmentName: 'test' };
    await check({ checks: 'all' });
    await check({ checks: 'quota' });
    const written = new Set(
      metricLines.flatMap((line) => {
        const doc = JSON.parse(line) as Record<string, unknown> & {
          _aws: {
            CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
          };
        };
        return doc._aws.CloudWatchMetrics.flatMap(({ Namespace, Dimensions, Metrics }) =>
          Dimensions.flatMap((set) =>
            Metrics.map((m) => key(Namespace, m.Name, Object.fromEntries(set.map((d) => [d, doc[d]])))),
          ),
        );
      }),
    );

    const { template } = synthStack();
    const read = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
      .map(
        (a) =>
          a.Properties as {
            Namespace?: string;
            MetricName?: string;
            Dimensions?: { Name: string; Value: unknown }[];
          },
      )
      // The stale-use guard's metric is the rotation function's (its own test compares it).
      .filter((a) => a.Namespace === HEALTH_NAMESPACE && a.MetricName !== ROTATION_BLOCKED_METRIC)
      .map((a) =>
        key(
          a.Namespace,
          a.MetricName,
          Object.fromEntries((a.Dimensions ?? []).map((d) => [d.Name, d.Value])),
        ),
      );
    // A check's alarm each but the quota's (its levels watch its figures): 10; the 2 quota levels,
    // the send rate, the 2 watchers of the runs and the checks that keep not telling. An alarm
    // whose namespace drifted would leave the list: the count says so.
    expect(read).toHaveLength(16);
    expect(read.filter((k) => !written.has(k))).toEqual([]);
  });
});

describe('the ECS services check (services restarted after each rotation)', () => {
  const service = (cluster: string, name: string) =>
    `arn:aws:ecs:eu-west-1:123456789012:service/${cluster}/${name}`;
  const WEB = service('prod', 'web');
  const WORKER = service('prod', 'worker');
  const JOBS = service('jobs', 'runner');
  /** The services ECS has: ARN to status. */
  let live: Map<string, string>;
  const ecsProblems = () =>
    warnings()
      .filter((w) => w.check === 'ecs-services')
      .flatMap((w) => w.problems as { id: string; title: string; fix?: string; detail?: string }[]);

  beforeEach(() => {
    target = { ...TARGET, ecsServices: [WEB, WORKER, JOBS] };
    live = new Map([WEB, WORKER, JOBS].map((arn) => [arn, 'ACTIVE']));
    // As ECS answers: the services it has in the cluster, a failure for each it has not.
    ecsMock.on(DescribeServicesCommand).callsFake(({ cluster, services }) => {
      if (![...live.keys()].some((arn) => arn.includes(`:service/${cluster}/`)))
        throw awsError('ClusterNotFoundException', 'Cluster not found.');
      const arnOf = (name: string) => service(cluster, name);
      return {
        services: services
          .filter((name: string) => live.has(arnOf(name)))
          .map((name: string) => ({
            serviceName: name,
            serviceArn: arnOf(name),
            status: live.get(arnOf(name)),
          })),
        failures: services
          .filter((name: string) => !live.has(arnOf(name)))
          .map((name: string) => ({ arn: arnOf(name), reason: 'MISSING' })),
      };
    });
  });

  test('every service ACTIVE passes, one DescribeServices per cluster', async () => {
    await check();
    expect(passed()).toEqual(allPass());
    expect(passed()['ecs-services']).toBe(1);
    expect(ecsMock.commandCalls(DescribeServicesCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', services: ['web', 'worker'] },
      { cluster: 'jobs', services: ['runner'] },
    ]);
    expect(warnings()).toEqual([]);
  });

  test('at most 10 services a call (DescribeServices takes no more)', async () => {
    const many = Array.from({ length: 12 }, (_, i) => service('prod', `s${i}`));
    target = { ...TARGET, ecsServices: many };
    for (const arn of many) live.set(arn, 'ACTIVE');
    await check();
    expect(passed()['ecs-services']).toBe(1);
    expect(
      ecsMock.commandCalls(DescribeServicesCommand).map((c) => c.args[0].input.services!.length),
    ).toEqual([10, 2]);
  });

  test('a service that does not exist fails, naming its ARN, why it matters and the fix; the others pass', async () => {
    live.delete(WORKER);
    await check();
    expect(passed()).toEqual({ ...allPass(), 'ecs-services': 0 });
    const problems = ecsProblems();
    expect(problems).toHaveLength(1);
    expect(problems[0].title).toBe(
      `ECS service ${WORKER} does not exist: nothing is restarted for it after a rotation, and the app's tasks keep the previous SMTP key, which the next rotation deletes`,
    );
    expect(problems[0].detail).toMatch(/MISSING/);
    expect(problems[0].fix).toMatch(
      /^no service worker in cluster prod: correct its ARN in credentials\.restartEcsServices \(or the service given to restartOnRotation\) and deploy \(.+\), or deploy the service$/,
    );
  });

  test('a cluster that does not exist fails its services, naming each', async () => {
    live.delete(JOBS);
    await check();
    expect(passed()).toEqual({ ...allPass(), 'ecs-services': 0 });
    const [problem] = ecsProblems();
    expect(problem.title).toMatch(new RegExp(`^ECS service ${JOBS}: its cluster jobs does not exist`));
  });

  test.each(['DRAINING', 'INACTIVE'])('a service %s fails, naming its ARN', async (status) => {
    live.set(WEB, status);
    await check();
    expect(passed()).toEqual({ ...allPass(), 'ecs-services': 0 });
    const problems = ecsProblems();
    expect(problems.map((p) => p.title)).toEqual([
      `ECS service ${WEB} is ${status}, not ACTIVE: it is not restarted after a rotation, and the app's tasks keep the previous SMTP key, which the next rotation deletes`,
    ]);
  });

  test('ECS throttled: the check could not tell (no data point)', async () => {
    ecsMock.on(DescribeServicesCommand).rejects(throttling());
    await check();
    expect(passed()).toEqual(allPassBut('ecs-services'));
    const [warning] = warnings().filter((w) => w.check === 'ecs-services');
    expect(warning.message).toMatch(/could not tell/);
  });

  // One DescribeServices throttled could not tell of its services only: a missing service of another
  // cluster still fails the check.
  test('one cluster throttled: the services of the others are still checked', async () => {
    live.delete(JOBS);
    ecsMock.on(DescribeServicesCommand, { cluster: 'prod' }).rejects(throttling());
    await check();
    expect(passed()['ecs-services']).toBe(0);
    expect(ecsProblems().map((p) => p.title)).toContainEqual(
      expect.stringMatching(new RegExp(`^ECS service ${JOBS}: its cluster jobs does not exist`)),
    );
  });

  test('ECS refuses the call (AccessDenied): the check could not run, naming the permissions', async () => {
    ecsMock
      .on(DescribeServicesCommand)
      .rejects(awsError('AccessDeniedException', 'not authorized to perform: ecs:DescribeServices'));
    await check();
    expect(passed()).toEqual({ ...allPass(), 'ecs-services': 0 });
    const [problem] = ecsProblems();
    expect(problem.title).toBe('ecs-services check could not run');
    expect(problem.fix).toMatch(/permissions/);
  });

  test('the function reads the services from HEALTH_TARGET, and refuses anything but a list of ARNs', () => {
    const env = (ecsServices: unknown) => ({ HEALTH_TARGET: JSON.stringify({ ...TARGET, ecsServices }) });
    expect(targetFromEnv(env([WEB])).ecsServices).toEqual([WEB]);
    expect(() => targetFromEnv(env(WEB))).toThrow(
      /^HEALTH_TARGET\.ecsServices must be a list of ECS service ARNs/,
    );
    expect(() => targetFromEnv(env([WEB, { arn: WORKER }]))).toThrow(
      /^HEALTH_TARGET\.ecsServices must be a list of ECS service ARNs/,
    );
  });
});

describe('the webhook check (an environment with feedback.webhookUrl)', () => {
  const URL = 'https://app.example.com/ses/feedback?key=app-secret-in-query';
  const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:SesSmtp-prod-SendingFeedbackWebhookTopic-EXAMPLE';
  const webhookDestination = () => ({
    name: 'AppWebhook',
    enabled: true,
    matchingEventTypes: ['BOUNCE', 'COMPLAINT'],
    snsTopicArn: TOPIC,
  });
  const subscription = (SubscriptionArn: string, Endpoint = URL) => ({
    SubscriptionArn,
    Owner: '123456789012',
    Protocol: 'https',
    Endpoint,
    TopicArn: TOPIC,
  });
  const webhookProblems = () =>
    warnings()
      .filter((w) => w.check === 'webhook')
      .flatMap((w) => w.problems as { id: string; title: string; fix?: string; detail?: string }[]);

  beforeEach(() => {
    target = { ...TARGET, webhook: { url: URL, topicArn: TOPIC } };
    ses.configurationSets.get(SET)!.eventDestinations = [feedbackDestination(), webhookDestination()];
    snsMock
      .on(ListSubscriptionsByTopicCommand)
      .resolves({ Subscriptions: [subscription(`${TOPIC}:0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0`)] });
  });

  test('a confirmed subscription and an enabled AppWebhook destination pass', async () => {
    await check();
    expect(passed()).toEqual(allPass());
    expect(passed().webhook).toBe(1);
    expect(snsMock.commandCalls(ListSubscriptionsByTopicCommand).map((c) => c.args[0].input)).toEqual([
      { TopicArn: TOPIC },
    ]);
    expect(warnings()).toEqual([]);
  });

  test('a subscription pending confirmation fails, with how the app confirms it (no token, no query)', async () => {
    snsMock
      .on(ListSubscriptionsByTopicCommand)
      .resolves({ Subscriptions: [subscription('PendingConfirmation')] });
    await check();
    expect(passed()).toEqual({ ...allPass(), webhook: 0 });
    const [problem] = webhookProblems();
    expect(problem.id).toBe('webhook-subscription');
    expect(problem.title).toMatch(/has not confirmed its subscription: SNS sends it no bounce or complaint/);
    expect(problem.fix).toMatch(/SubscribeURL/);
    expect(problem.fix).toContain(
      `aws sns confirm-subscription --topic-arn ${TOPIC} --token TOKEN --region eu-west-1`,
    );
    expect(problem.fix).toMatch(
      /remove feedback\.webhookUrl and deploy \(.+\), then set it back and deploy again: SNS sends the new subscription a new message$/,
    );
    // SNS deletes a subscription still pending after 48 hours (May 2023), not three days.
    expect(problem.fix).toContain('; no message kept, or older than two days (');
    expect(JSON.stringify(logLines)).not.toContain('app-secret-in-query');
  });

  test.each([
    ['no subscription at all', [], /the topic has no subscription/],
    [
      'only another endpoint',
      [subscription(`${TOPIC}:1`, 'https://other.example.com/')],
      /https https:\/\/other\.example\.com/,
    ],
    [
      // An ARN is no URL of a host: named as it is, not as "null/...".
      'only a queue',
      [{ ...subscription(`${TOPIC}:2`, 'arn:aws:sqs:eu-west-1:123456789012:app-events'), Protocol: 'sqs' }],
      /subscriptions: sqs arn:aws:sqs:eu-west-1:123456789012:app-events \(/,
    ],
  ])('a webhook not subscribed (%s) fails', async (_case, subscriptions, detail) => {
    snsMock.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: subscriptions });
    await check();
    expect(passed()).toEqual({ ...allPass(), webhook: 0 });
    const [problem] = webhookProblems();
    expect(problem.title).toMatch(/is not subscribed to its topic/);
    expect(problem.detail).toMatch(detail);
    expect(problem.fix).toMatch(/remove feedback\.webhookUrl and deploy/);
  });

  // SNS lists at most 100 subscriptions a call (ListSubscriptionsByTopic): the webhook's may be on a later page.
  // https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptionsByTopic.html
  test("a confirmed subscription on the second page of the topic's subscriptions passes", async () => {
    snsMock
      .on(ListSubscriptionsByTopicCommand, { TopicArn: TOPIC, NextToken: undefined })
      .resolves({
        Subscriptions: [subscription(`${TOPIC}:1`, 'https://other.example.com/')],
        NextToken: 'page-2',
      })
      .on(ListSubscriptionsByTopicCommand, { TopicArn: TOPIC, NextToken: 'page-2' })
      .resolves({ Subscriptions: [subscription(`${TOPIC}:2`)] });
    await check();
    expect(passed()).toEqual(allPass());
    expect(
      snsMock.commandCalls(ListSubscriptionsByTopicCommand).map((c) => c.args[0].input.NextToken),
    ).toEqual([undefined, 'page-2']);
  });

  // SNS keeps an unsubscribed subscription listed for a while with "Deleted" for its ARN: neither
  // confirmed nor pending, and it gets nothing.
  test('a subscription listed as "Deleted" is not subscribed, not healthy', async () => {
    snsMock.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [subscription('Deleted')] });
    await check();
    expect(passed()).toEqual({ ...allPass(), webhook: 0 });
    expect(webhookProblems()[0].title).toMatch(/is not subscribed to its topic/);
  });

  // SNS keeps the URL as subscribed; the setting may differ in the host's case or an empty path.
  test('the subscription is found under another spelling of the same URL', async () => {
    target = { ...TARGET, webhook: { url: 'https://APP.example.com', topicArn: TOPIC } };
    snsMock
      .on(ListSubscriptionsByTopicCommand)
      .resolves({ Subscriptions: [subscription(`${TOPIC}:3`, 'https://app.example.com/')] });
    await check();
    expect(passed()).toEqual(allPass());
  });

  test('the webhook topic deleted outside the stack fails, with how to make it anew', async () => {
    snsMock
      .on(ListSubscriptionsByTopicCommand)
      .rejects(awsError('NotFoundException', 'Topic does not exist'));
    await check();
    expect(passed()).toEqual({ ...allPass(), webhook: 0 });
    const [problem] = webhookProblems();
    expect(problem.title).toBe(
      `the webhook's topic ${TOPIC} does not exist: SES publishes the app's bounces and complaints nowhere`,
    );
    expect(problem.fix).toMatch(/remove feedback\.webhookUrl and deploy .*the stack makes the topic/);
  });

  test('SNS throttled: the check could not tell (no data point); the event destination was still read', async () => {
    snsMock.on(ListSubscriptionsByTopicCommand).rejects(throttling());
    await check();
    expect(passed()).toEqual(allPassBut('webhook'));
    const [warning] = warnings().filter((w) => w.check === 'webhook');
    expect(warning.message).toMatch(/could not tell/);
    expect(warning.problems.map((p: { id: string }) => p.id)).toEqual(['webhook-subscription']);
  });

  test('SNS refuses the call: the check fails, naming the permissions', async () => {
    snsMock.on(ListSubscriptionsByTopicCommand).rejects(awsError('AuthorizationError', 'not authorized'));
    await check();
    expect(passed()).toEqual({ ...allPass(), webhook: 0 });
    expect(webhookProblems()[0].fix).toMatch(/permissions/);
  });

  test.each<[string, (d: ReturnType<typeof webhookDestination>) => object | undefined, RegExp, RegExp]>([
    [
      'deleted',
      () => undefined,
      /has no event destination AppWebhook/,
      /create-configuration-set-event-destination/,
    ],
    [
      'disabled',
      (d) => ({ ...d, enabled: false }),
      /AppWebhook of the configuration set .* is disabled/,
      /update-configuration-set-event-destination .*"Enabled":true.*"TopicArn":"arn:aws:sns:eu-west-1:123456789012:SesSmtp-prod-SendingFeedbackWebhookTopic-EXAMPLE"/,
    ],
    [
      'without complaints',
      (d) => ({ ...d, matchingEventTypes: ['BOUNCE'] }),
      /publishes no COMPLAINT events/,
      /"MatchingEventTypes":\["BOUNCE","COMPLAINT"\]/,
    ],
    [
      // Read as disabled: only Enabled true is taken for on.
      'without Enabled',
      (d) => ({ ...d, enabled: undefined }),
      /AppWebhook of the configuration set .* is disabled/,
      /"Enabled":true/,
    ],
    [
      'to another topic',
      (d) => ({ ...d, snsTopicArn: `${TOPIC}-old` }),
      new RegExp(`AppWebhook of the configuration set .* publishes to ${TOPIC}-old, not the webhook's topic`),
      new RegExp(`update-configuration-set-event-destination .*"SnsDestination":\\{"TopicArn":"${TOPIC}"\\}`),
    ],
  ])('the AppWebhook event destination %s fails the check', async (_case, change, title, fix) => {
    const changed = change(webhookDestination());
    ses.configurationSets.get(SET)!.eventDestinations = [
      feedbackDestination(),
      ...(changed ? [changed as ReturnType<typeof webhookDestination>] : []),
    ];
    await check();
    expect(passed()).toEqual({ ...allPass(), webhook: 0 });
    const problem = webhookProblems().find((p) => p.id === 'webhook-event-destination')!;
    expect(problem.title).toMatch(title);
    expect(problem.fix).toMatch(fix);
  });

  // doctor with feedback.webhookUrl in the file before the stack was deployed with it (or with
  // this version): the deploy makes the topic and the destination, and one made by hand before it
  // would fail that deploy (the name exists).
  test('a stack without the webhook topic yet (no WebhookFeedbackTopicArn output): deploy it, no destination to create by hand', async () => {
    target = { ...TARGET, webhook: { url: URL } };
    ses.configurationSets.get(SET)!.eventDestinations = [feedbackDestination()];
    await check();
    expect(passed()).toEqual(allPassBut('webhook'));
    const problems = warnings()
      .filter((w) => w.check === 'webhook')
      .flatMap((w) => w.problems as { id: string; title: string; detail?: string; fix?: string }[]);
    expect(problems.map((p) => p.id)).toEqual(['webhook-subscription']);
    expect(problems[0].detail).toMatch(/no stack output WebhookFeedbackTopicArn: deploy the stack/);
    expect(JSON.stringify(problems)).not.toMatch(/configuration-set-event-destination|TOPIC_ARN/);
  });

  test('an environment without a webhook: no webhook check, no call to SNS', async () => {
    target = TARGET;
    await check();
    expect(passed()).not.toHaveProperty('webhook');
    expect(snsMock.commandCalls(ListSubscriptionsByTopicCommand)).toEqual([]);
  });
});
