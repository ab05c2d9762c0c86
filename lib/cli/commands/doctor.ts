import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetAccountCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { smtpLogin } from '../../../lambda/shared/smtp-login';
import { dmarcRecord } from '../../dns-records';
import { CliContext } from '../context';
import { checkRecord, expectedRecords, LiveIdentity, liveIdentity } from '../dns-check';
import { CheckFailed, UsageError } from '../errors';
import { CheckResult } from '../output';
import { currentCredentials } from '../secret';
import { diagnose } from '../smtp';

export interface DoctorOptions {
  readonly now?: () => Date;
}

type Check = () => Promise<CheckResult[]>;

/**
 * Walks the manual guide's troubleshooting list: identity, DKIM, MAIL FROM, DMARC, account state
 * and quota, SMTP reachability and login, credential rotation, reputation rates. Every check
 * prints ✓ / ✗ / ! and, when it is not ✓, the fix. Exit 1 when any check fails.
 */
export async function doctorCommand(ctx: CliContext, options: DoctorOptions = {}): Promise<number> {
  const now = options.now ?? (() => new Date());
  const results: CheckResult[] = [];
  let identity: LiveIdentity | undefined;
  const resolver = ctx.resolver();

  const checks: [string, Check][] = [
    [
      'identity',
      async () => {
        identity = await liveIdentity(ctx);
        return [
          identity.verifiedForSending
            ? { id: 'identity', status: 'ok', title: `identity ${identity.domain} verified for sending` }
            : {
                id: 'identity',
                status: 'fail',
                title: `identity ${identity.domain} not verified for sending`,
                detail: `DKIM ${identity.dkimStatus ?? 'unknown'}`,
                fix: 'SES verifies the domain through its DKIM records: check them below (ses-smtp dns --check); verification can take up to 72 hours after they appear',
              },
        ];
      },
    ],
    [
      'dkim',
      async () => {
        if (!identity) return [];
        const records = expectedRecords(ctx, identity).filter((r) => r.type === 'CNAME');
        const status: CheckResult =
          identity.dkimStatus === 'SUCCESS'
            ? { id: 'dkim', status: 'ok', title: 'DKIM signing verified (Easy DKIM)' }
            : {
                id: 'dkim',
                status: 'fail',
                title: 'DKIM not verified',
                detail: `status ${identity.dkimStatus ?? 'unknown'}`,
                fix: 'publish the three CNAMEs below exactly; SES checks them periodically',
              };
        return [status, ...(await Promise.all(records.map((r) => checkRecord(resolver, r))))];
      },
    ],
    [
      'mail-from',
      async () => {
        if (!identity) return [];
        const records = expectedRecords(ctx, identity).filter((r) => r.key.startsWith('MailFrom'));
        const status: CheckResult =
          identity.mailFromStatus === 'SUCCESS'
            ? {
                id: 'mail-from',
                status: 'ok',
                title: `MAIL FROM domain ${identity.mailFromDomain} verified (SPF aligns for DMARC)`,
              }
            : {
                id: 'mail-from',
                status: 'fail',
                title: `MAIL FROM domain ${identity.mailFromDomain ?? '(none)'} not verified`,
                detail: `status ${identity.mailFromStatus ?? 'not set'}`,
                fix: 'publish its MX and SPF TXT (below); until then SES sends with amazonses.com as envelope sender and SPF does not align',
              };
        return [status, ...(await Promise.all(records.map((r) => checkRecord(resolver, r))))];
      },
    ],
    ['dmarc', async () => (identity ? [await checkDmarc(ctx, identity.domain, resolver)] : [])],
    ['account', () => checkAccount(ctx)],
    ['smtp', () => checkSmtp(ctx)],
    ['rotation', () => checkRotation(ctx, now())],
    ['rates', () => checkRates(ctx, now())],
  ];

  for (const [id, check] of checks) {
    ctx.out.progress(`checking ${id} ...`);
    let found: CheckResult[];
    try {
      found = await check();
    } catch (e) {
      if (e instanceof UsageError) throw e;
      found = [
        e instanceof CheckFailed
          ? { id, status: 'fail', title: `${id} check failed`, detail: e.message }
          : {
              id,
              status: 'fail',
              title: `${id} check could not run`,
              detail: `${(e as Error).name}: ${(e as Error).message}`,
              fix: 'check your AWS credentials, Region and permissions',
            },
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
      environment: ctx.environmentName,
      region: ctx.region,
      ok: failed === 0,
      checks: results,
    });
  ctx.out.line(`\n${count('ok')} ok, ${count('warn')} warnings, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

async function checkDmarc(
  ctx: CliContext,
  domain: string,
  resolver: ReturnType<CliContext['resolver']>,
): Promise<CheckResult> {
  if (ctx.config.dmarc.enabled) return checkRecord(resolver, dmarcRecord(domain, ctx.config.dmarc));
  // Managed elsewhere: check that one well-formed record exists.
  const title = `DMARC record at _dmarc.${domain}`;
  let records: string[];
  try {
    records = (await resolver.resolveTxt(`_dmarc.${domain}`))
      .map((c) => c.join(''))
      .filter((v) => /^v=DMARC1\b/i.test(v));
  } catch {
    records = [];
  }
  if (records.length !== 1) {
    return {
      id: 'DmarcTxt',
      status: 'fail',
      title,
      detail: `${records.length} DMARC records`,
      fix: 'publish exactly one TXT "v=DMARC1; p=quarantine; ..." (or set dmarc.enabled to let the stack do it)',
    };
  }
  const policy = /(?:^|;)\s*p=(none|quarantine|reject)\s*(?:;|$)/i.exec(records[0])?.[1];
  return policy
    ? {
        id: 'DmarcTxt',
        status: policy === 'none' ? 'warn' : 'ok',
        title,
        detail: records[0],
        fix: 'p=none only monitors: move to quarantine once reports look clean',
      }
    : {
        id: 'DmarcTxt',
        status: 'fail',
        title,
        detail: records[0],
        fix: 'the record needs a p= tag of none, quarantine or reject right after v=DMARC1',
      };
}

async function checkAccount(ctx: CliContext): Promise<CheckResult[]> {
  const a = await ctx.client(SESv2Client).send(new GetAccountCommand({}));
  const results: CheckResult[] = [];
  const review = a.Details?.ReviewDetails;
  if (a.ProductionAccessEnabled) {
    results.push({ id: 'sandbox', status: 'ok', title: `account has production access in ${ctx.region}` });
  } else {
    results.push({
      id: 'sandbox',
      status: 'warn',
      title: `account is in the SES sandbox in ${ctx.region}`,
      detail: `only verified recipients, at most 200 messages a day and 1 a second${review?.Status ? `; production access request ${review.Status}${review.CaseId ? ` (case ${review.CaseId})` : ''}` : ''}`,
      fix:
        review?.Status === 'PENDING'
          ? 'AWS is reviewing the request; answer the support case if they ask'
          : 'run: ses-smtp request-production-access (meanwhile add test recipients to verifiedEmailAddresses)',
    });
  }
  results.push(
    a.SendingEnabled === false
      ? {
          id: 'sending',
          status: 'fail',
          title: 'sending is disabled for the account',
          fix: 'AWS paused sending or it was turned off: see the SES console account dashboard and your support cases',
        }
      : { id: 'sending', status: 'ok', title: 'sending is enabled' },
  );
  if (a.EnforcementStatus && a.EnforcementStatus !== 'HEALTHY') {
    results.push({
      id: 'enforcement',
      status: a.EnforcementStatus === 'SHUTDOWN' ? 'fail' : 'warn',
      title: `account enforcement status ${a.EnforcementStatus}`,
      fix: 'AWS is reviewing the account: bring bounce and complaint rates down and answer the review case',
    });
  }
  const q = a.SendQuota;
  if (q?.Max24HourSend !== undefined) {
    const used = q.SentLast24Hours ?? 0;
    const share = q.Max24HourSend > 0 ? used / q.Max24HourSend : 0;
    results.push({
      id: 'quota',
      status: share >= 0.9 ? 'fail' : share >= 0.75 ? 'warn' : 'ok',
      title: 'sending quota',
      detail: `${used} of ${q.Max24HourSend} in the last 24 h (${(share * 100).toFixed(0)} %), max ${q.MaxSendRate ?? '?'} per second`,
      fix: 'near the quota SES answers "Daily message quota exceeded": ask for more in Service Quotas before you hit it',
    });
  }
  return results;
}

async function checkSmtp(ctx: CliContext): Promise<CheckResult[]> {
  const endpoint = await ctx.smtp();
  const credentials = await currentCredentials(ctx);
  const title = `SMTP ${endpoint.host}:${endpoint.port}: connect, STARTTLS, AUTH with the current credentials`;
  try {
    await smtpLogin(endpoint, credentials);
    return [{ id: 'smtp', status: 'ok', title, detail: `user ${credentials.username}` }];
  } catch (e) {
    const d = diagnose(e, endpoint, credentials.region);
    return [{ id: 'smtp', status: 'fail', title, detail: `${d.stage}: ${d.detail}`, fix: d.fix }];
  }
}

async function checkRotation(ctx: CliContext, now: Date): Promise<CheckResult[]> {
  const secretId = await ctx.resource('secretId');
  const s = await ctx.client(SecretsManagerClient).send(new DescribeSecretCommand({ SecretId: secretId }));
  const days = ctx.config.credentials.rotationDays;
  if (!s.RotationEnabled) {
    return [
      {
        id: 'rotation',
        status: 'fail',
        title: 'credential rotation is off',
        fix: `redeploy the stack (npx cdk deploy ${ctx.stackName}) to restore the schedule`,
      },
    ];
  }
  const last = s.LastRotatedDate;
  const next = s.NextRotationDate;
  const age = last ? (now.getTime() - last.getTime()) / 86_400_000 : undefined;
  const detail = `last ${last ? `${last.toISOString().slice(0, 10)} (${Math.floor(age!)} days ago)` : 'never'}, next ${next ? next.toISOString().slice(0, 10) : 'not scheduled'}`;
  if (age === undefined)
    return [
      {
        id: 'rotation',
        status: 'fail',
        title: 'credentials never rotated',
        detail,
        fix: `run: ses-smtp rotate --env ${ctx.environmentName}`,
      },
    ];
  if (age > days + 7) {
    return [
      {
        id: 'rotation',
        status: 'warn',
        title: `credentials older than the ${days}-day schedule`,
        detail,
        fix: `a rotation is failing: read the rotation function's logs, then run: ses-smtp rotate --env ${ctx.environmentName}`,
      },
    ];
  }
  return [{ id: 'rotation', status: 'ok', title: `credentials rotate every ${days} days`, detail }];
}

async function checkRates(ctx: CliContext, now: Date): Promise<CheckResult[]> {
  const metrics = [
    {
      id: 'bounce-rate',
      name: 'Reputation.BounceRate',
      label: 'bounce rate',
      levels: ctx.config.alarms.bounceRatePercent,
    },
    {
      id: 'complaint-rate',
      name: 'Reputation.ComplaintRate',
      label: 'complaint rate',
      levels: ctx.config.alarms.complaintRatePercent,
    },
  ];
  const r = await ctx.client(CloudWatchClient).send(
    new GetMetricDataCommand({
      StartTime: new Date(now.getTime() - 86_400_000),
      EndTime: now,
      MetricDataQueries: metrics.map((m, i) => ({
        Id: `m${i}`,
        MetricStat: { Metric: { Namespace: 'AWS/SES', MetricName: m.name }, Period: 3600, Stat: 'Maximum' },
      })),
    }),
  );
  return metrics.map((m, i): CheckResult => {
    const values = r.MetricDataResults?.find((d) => d.Id === `m${i}`)?.Values ?? [];
    if (values.length === 0)
      return {
        id: m.id,
        status: 'info',
        title: `${m.label}: no data in the last 24 h (nothing sent, or too little to rate)`,
      };
    const percent = Math.max(...values) * 100;
    const detail = `${percent.toFixed(3)} % (warning ${m.levels.warning} %, critical ${m.levels.critical} %)`;
    if (percent >= m.levels.critical)
      return {
        id: m.id,
        status: 'fail',
        title: `${m.label} above the critical level`,
        detail,
        fix: 'stop bulk sends, find the cause in the feedback handler logs; AWS reviews accounts at 5 % bounces / 0.1 % complaints',
      };
    if (percent >= m.levels.warning)
      return {
        id: m.id,
        status: 'warn',
        title: `${m.label} above the warning level`,
        detail,
        fix: 'look at recent bounces/complaints in the feedback handler logs before it grows',
      };
    return { id: m.id, status: 'ok', title: m.label, detail };
  });
}
