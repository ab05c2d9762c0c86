import type { promises as dns } from 'node:dns';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import {
  AccessKeyMetadata,
  IAMClient,
  ListAttachedUserPoliciesCommand,
  ListGroupsForUserCommand,
  ListUserPoliciesCommand,
} from '@aws-sdk/client-iam';
import {
  DescribeSecretCommand,
  DescribeSecretCommandOutput,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  GetAccountCommand,
  GetAccountCommandOutput,
  EventDestination,
  EventType,
  GetConfigurationSetCommand,
  GetConfigurationSetCommandOutput,
  GetConfigurationSetEventDestinationsCommand,
  GetEmailIdentityCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import { ListSubscriptionsByTopicCommand, SNSClient, Subscription } from '@aws-sdk/client-sns';
import {
  apexTxtRecord,
  ApexSpfOptions,
  dkimRecords,
  DmarcRecordOptions,
  DnsRecord,
  bareName,
  dmarcRecord,
  dmarcReportUris,
  mailFromDomain,
  mailFromRecords,
  reportAuthorizationRecord,
} from '../../lib/dns-records';
import { easyDkimDomain } from '../../lib/config/smtp-regions';
import { parseServiceArn } from '../restart-ecs-services/services';
import {
  cdkCommand,
  cliOptions,
  ENVIRONMENT_TAG,
  REVERT_DRIFT_CLI,
  sesSmtpCommand,
} from '../../lib/stack-name';
import { isTransientAwsError } from './aws-errors';
import { isAccessDenied } from '../../lib/cli/errors';
import * as catalog from './check-catalog';
import {
  consentRedirect,
  DmarcPolicy,
  dmarcPolicy,
  externalReportDestinations,
  isDmarcRecord,
  isMisspeltDmarcRecord,
  organizationalDomain,
  ReportDestination,
} from './auth-records';
import { checkRecord, lookupFailure, readTxt, TxtRead } from './dns-check';
import {
  accessKeyState,
  describeUse,
  KeyLastUse,
  keyLastUse,
  replacementTime,
  userAccessKeys,
  stillSendsWith,
  usedBySesWithin,
  withinGrace,
} from './key-last-use';
import { pendingVersionId, readSecretVersion, SecretVersion } from './secret-version';
import {
  FEEDBACK_EVENT_DESTINATION_PATH,
  SES_NAMESPACE,
  WEBHOOK_EVENT_DESTINATION,
} from './ses-metric-names';
import { parseSecret, SmtpSecret } from './smtp-secret';
import { diagnose, isTemporaryReply } from './smtp-diagnosis';
import { SmtpCredentials, SmtpEndpoint, smtpLoginTitle } from './smtp-login';

/*
 * The health checks of an environment, as one module: `ses-smtp doctor` prints them, the scheduled
 * health-check function turns each into a metric with an alarm. A check returns results (one per
 * thing it looked at) with what to do when one is not ok; it never returns or logs a secret.
 */

export type CheckStatus = 'ok' | 'fail' | 'warn' | 'info';

export interface CheckResult {
  readonly id: string;
  readonly status: CheckStatus;
  readonly title: string;
  /** What was found. */
  readonly detail?: string;
  /** What to do about it, for fail and warn. */
  readonly fix?: string;
  /**
   * The check could not look (AWS throttled or failed after the SDK's retries, the resolver did
   * not answer, SES answered "try later"): the result says nothing of the environment. doctor
   * prints it as it is; the health-check function publishes no data point for a check whose only
   * problems are these, so its alarm keeps its state until a run can tell.
   */
  readonly undetermined?: true;
}

/** What the checks look at: the deployed environment and the levels it is held to. */
export interface HealthTarget {
  readonly environmentName: string;
  /**
   * The CLI options that name this environment in the commands a fix gives: "--env prod" for a
   * stack of the environments file, "--stack Mail --region eu-west-1" for one of your own app.
   * @default - "--env <environmentName>"
   */
  readonly cliOptions?: string;
  readonly stackName: string;
  /**
   * The stack's construct path in its CDK app, what `cdk deploy` selects it by, where it is not the
   * stack's name (a stack of your own app named otherwise, or in a Stage).
   * @default - stackName
   */
  readonly stackPath?: string;
  /**
   * The command a fix gives to deploy the stack, where it needs more than the stack (the CLI's
   * `-c config=` for an environments file given with --config).
   * @default - `npx cdk deploy <stackPath or stackName>`
   */
  readonly deployCommand?: string;
  readonly region: string;
  /** The SES domain identity. */
  readonly identity: string;
  /** @default - the configuration-set check is skipped */
  readonly configurationSetName?: string;
  readonly secretId: string;
  readonly rotationDays: number;
  /** A previous key SES used within this many days is reported (the rotation would stop on it). */
  readonly previousKeyQuietDays: number;
  /** Fail (not only report) an account still in the SES sandbox. */
  readonly expectProductionAccess: boolean;
  readonly quotaPercent: { readonly warning: number; readonly critical: number };
  /** Share of the maximum send rate that the peak minute may reach before the check warns. */
  readonly sendRatePercent: number;
  /**
   * The app's webhook (feedback.webhookUrl): its URL and the topic it alone is subscribed to (the
   * stack's WebhookFeedbackTopicArn; undefined where doctor could not read it).
   * @default - no webhook: the webhook check does not run
   */
  readonly webhook?: { readonly url: string; readonly topicArn?: string };
  /**
   * The long ARNs of the ECS services the restart function restarts after each rotation
   * (credentials.restartEcsServices, SesSmtp.restartOnRotation).
   * @default - none: the ecs-services check does not run
   */
  readonly ecsServices?: readonly string[];
  readonly dns: {
    readonly mailFromSubdomain: string;
    /** The DMARC record the stack manages; undefined: one well-formed record is expected. */
    readonly dmarc?: DmarcRecordOptions;
    readonly apexSpf?: ApexSpfOptions;
  };
}

const deployCommandOf = (target: HealthTarget) => target.deployCommand ?? cdkCommand('deploy', target);
/** A drift-aware deploy, with the CDK CLI it needs: "CDK CLI ... or later (npx cdk deploy X --revert-drift)". */
const revertDriftOf = (target: HealthTarget) =>
  `${REVERT_DRIFT_CLI} (${deployCommandOf(target)} --revert-drift)`;

/** The scheduled SMTP login: where to, and how (the health-check function's; doctor logs in itself). */
export interface SmtpLoginClient {
  /** Where to log in; throws when the function's settings lack it (the check then fails, saying so). */
  readonly endpoint: () => SmtpEndpoint;
  readonly login: (endpoint: SmtpEndpoint, credentials: SmtpCredentials) => Promise<void>;
  /**
   * Waits before the second attempt, so that a network blip of a few seconds does not fail the
   * check (hourly, it would page 24 times as often as daily). @default - no wait
   */
  readonly pauseBeforeRetry?: () => Promise<void>;
}

export interface HealthClients {
  readonly ses: SESv2Client;
  readonly secrets: SecretsManagerClient;
  readonly iam: IAMClient;
  readonly cloudwatch: CloudWatchClient;
  /** @default - the webhook check cannot look at the webhook's subscription (it says so) */
  readonly sns?: SNSClient;
  /** @default - the ecs-services check cannot describe the services (it says so) */
  readonly ecs?: ECSClient;
  readonly resolver: dns.Resolver;
  readonly now: () => Date;
  /** @default - no SMTP login check */
  readonly smtp?: SmtpLoginClient;
}

/** SES's view of the identity, read once per run. */
export interface LiveIdentity {
  readonly found: boolean;
  readonly verifiedForSending: boolean;
  /** Easy DKIM's tokens; for BYODKIM (dkimOrigin EXTERNAL), SES lists the selector here. */
  readonly tokens: string[];
  readonly dkimStatus?: string;
  /** How DKIM was set up (SigningAttributesOrigin): AWS_SES (Easy DKIM) or EXTERNAL (BYODKIM). */
  readonly dkimOrigin?: string;
  /** Whether SES signs the identity's mail with DKIM (false: turned off outside the stack). */
  readonly dkimSigning?: boolean;
  /** The zone the Easy DKIM CNAMEs point to, as SES reports it for the identity. */
  readonly signingHostedZone?: string;
  readonly mailFromDomain?: string;
  readonly mailFromStatus?: string;
  /** What SES does with a send while the MAIL FROM domain is not SUCCESS (BehaviorOnMxFailure). */
  readonly mailFromBehavior?: string;
  /** The configuration set SES applies to the identity's mail that names none (SMTP mail). */
  readonly defaultConfigurationSet?: string;
  /** The identity's "ses-smtp:environment" tag: the environment whose stack made it. */
  readonly environmentTag?: string;
}

/** The quota figures a run publishes as metrics. */
export interface QuotaFigures {
  readonly max24HourSend: number;
  readonly sentLast24Hours: number;
  readonly maxSendRate: number;
  readonly quotaUsedPercent: number;
  /** The busiest minute of the last hour, as a share of the maximum send rate; undefined: no data. */
  readonly peakSendRatePercent?: number;
}

/** One run: clients, target, and what several checks read once. */
export class CheckRun {
  private identityRead?: Promise<LiveIdentity>;
  private accountRead?: Promise<GetAccountCommandOutput>;
  private dmarcRead?: Promise<DmarcRead>;
  private readonly secretReads = new Map<string, Promise<SecretVersion | undefined>>();
  private secretDescribed?: Promise<DescribeSecretCommandOutput>;
  private readonly lastUses = new Map<string, Promise<KeyLastUse | undefined>>();
  private readonly userKeys = new Map<string, Promise<AccessKeyMetadata[]>>();
  /** Set by the quota check, for the caller to publish. */
  quota?: QuotaFigures;

  constructor(
    readonly target: HealthTarget,
    readonly clients: HealthClients,
  ) {}

  identity(): Promise<LiveIdentity> {
    this.identityRead ??= readIdentity(this.clients.ses, this.target.identity);
    return this.identityRead;
  }

  /** The DMARC record receivers apply to the identity (readDmarcTxt), read once per run. */
  dmarcTxt(): Promise<DmarcRead> {
    this.dmarcRead ??= readDmarcTxt(this.clients.resolver, this.target.identity);
    return this.dmarcRead;
  }

  account(): Promise<GetAccountCommandOutput> {
    this.accountRead ??= this.readAccount();
    return this.accountRead;
  }

  private async readAccount(): Promise<GetAccountCommandOutput> {
    return this.clients.ses.send(new GetAccountCommand({}));
  }

  /** The secret's DescribeSecret (rotation settings, LastRotatedDate), read once per run. */
  secretDescription(): Promise<DescribeSecretCommandOutput> {
    this.secretDescribed ??= this.clients.secrets.send(
      new DescribeSecretCommand({ SecretId: this.target.secretId }),
    );
    return this.secretDescribed;
  }

  /**
   * The secret's version at `stage` (its value and CreatedDate), read once per run: the
   * credentials and previous-key checks both read AWSCURRENT. Undefined when no version holds it.
   */
  secretVersion(stage: string): Promise<SecretVersion | undefined> {
    return once(this.secretReads, stage, () =>
      readSecretVersion(this.clients.secrets, this.target.secretId, { VersionStage: stage }),
    );
  }

  /**
   * IAM's last-use record of a key (keyLastUse), read once per run: the credentials and
   * previous-key checks both ask about the current key.
   */
  keyLastUse(accessKeyId: string): Promise<KeyLastUse | undefined> {
    return once(this.lastUses, accessKeyId, () => keyLastUse(this.clients.iam, accessKeyId));
  }

  /** The access keys of IAM user `userName` (userAccessKeys), listed once per run. */
  accessKeys(userName: string): Promise<AccessKeyMetadata[]> {
    return once(this.userKeys, userName, () => userAccessKeys(this.clients.iam, userName));
  }
}

/**
 * `cache`'s promise for `key`, made by `read` the first time. A read that failed is not kept: the
 * next check that asks reads again, so one refused call fails one check, as without the cache.
 */
function once<T>(cache: Map<string, Promise<T>>, key: string, read: () => Promise<T>): Promise<T> {
  let promise = cache.get(key);
  if (!promise) {
    const made = read();
    made.catch(() => {
      if (cache.get(key) === made) cache.delete(key);
    });
    cache.set(key, (promise = made));
  }
  return promise;
}

/** What a DMARC lookup found, and the domain whose `_dmarc` name held it (`at`). */
export type DmarcRead = TxtRead & { readonly at: string };

/**
 * The DMARC record receivers apply to `domain`: `_dmarc.<domain>`'s TXT values, or, when that name
 * holds no DMARC record, its Organizational Domain's (RFC 7489 §6.6.3: a subdomain identity such as
 * notify.example.com gets example.com's record, with its "sp=" policy). Or why a lookup failed.
 */
export async function readDmarcTxt(resolver: dns.Resolver, domain: string): Promise<DmarcRead> {
  const own = await readTxt(resolver, `_dmarc.${domain}`);
  const organization = organizationalDomain(domain);
  if ('error' in own || own.values.some(isDmarcRecord) || organization === bareName(domain))
    return { ...own, at: domain };
  const parent = await readTxt(resolver, `_dmarc.${organization}`);
  if ('error' in parent || parent.values.some(isDmarcRecord)) return { ...parent, at: organization };
  return { ...own, at: domain };
}

const environmentTagOf = (tags: { Key?: string; Value?: string }[] | undefined) => {
  const value = tags?.find((tag) => tag.Key === ENVIRONMENT_TAG)?.Value;
  return value === undefined ? {} : { environmentTag: value };
};

/** The identity as SES sees it now: DKIM tokens and zone, MAIL FROM, statuses. */
export async function readIdentity(ses: SESv2Client, identity: string): Promise<LiveIdentity> {
  try {
    const r = await ses.send(new GetEmailIdentityCommand({ EmailIdentity: identity }));
    return {
      found: true,
      verifiedForSending: r.VerifiedForSendingStatus === true,
      tokens: r.DkimAttributes?.Tokens ?? [],
      dkimStatus: r.DkimAttributes?.Status,
      dkimOrigin: r.DkimAttributes?.SigningAttributesOrigin,
      dkimSigning: r.DkimAttributes?.SigningEnabled,
      signingHostedZone: r.DkimAttributes?.SigningHostedZone,
      mailFromDomain: r.MailFromAttributes?.MailFromDomain,
      mailFromStatus: r.MailFromAttributes?.MailFromDomainStatus,
      mailFromBehavior: r.MailFromAttributes?.BehaviorOnMxFailure,
      ...(r.ConfigurationSetName && { defaultConfigurationSet: r.ConfigurationSetName }),
      ...environmentTagOf(r.Tags),
    };
  } catch (e) {
    if ((e as Error).name === 'NotFoundException')
      return { found: false, verifiedForSending: false, tokens: [] };
    throw e;
  }
}

export interface Check extends catalog.CheckInfo {
  readonly run: (run: CheckRun) => Promise<CheckResult[]>;
  /**
   * Whether the environment has what the check looks at: runChecks skips it otherwise (no result,
   * no metric, as it has no alarm). @default - always
   */
  readonly appliesTo?: (target: HealthTarget) => boolean;
}

const DAY_MS = 86_400_000;

/** Every record the environment needs, DKIM from the live tokens (one source with the stack's records). */
export function expectedRecords(
  target: Pick<HealthTarget, 'identity' | 'region' | 'dns'>,
  identity: LiveIdentity,
): DnsRecord[] {
  const domain = target.identity;
  const subdomain = mailFromLabel(domain, identity.mailFromDomain) ?? target.dns.mailFromSubdomain;
  return [
    // Not dkim.amazonses.com in every Region: SES names the zone; the Region table is the fallback.
    ...dkimRecords(domain, identity.tokens, identity.signingHostedZone ?? easyDkimDomain(target.region)),
    ...mailFromRecords(domain, subdomain, target.region),
    ...(target.dns.dmarc ? [dmarcRecord(domain, target.dns.dmarc)] : []),
    ...(target.dns.apexSpf ? [apexTxtRecord(domain, target.dns.apexSpf)] : []),
  ];
}

/** The label of the identity's MAIL FROM domain under `domain` ("mail"), or undefined when none. */
function mailFromLabel(domain: string, liveMailFromDomain: string | undefined): string | undefined {
  return liveMailFromDomain?.endsWith(`.${domain}`)
    ? liveMailFromDomain.slice(0, -domain.length - 1)
    : undefined;
}

const noIdentity = (run: CheckRun): CheckResult => ({
  id: 'identity',
  status: 'fail',
  title: `SES has no identity ${run.target.identity} in ${run.target.region}`,
  fix: `deploy the stack (${deployCommandOf(run.target)})`,
});

const identityCheck: Check = {
  ...catalog.IDENTITY,
  run: async (run) => {
    const identity = await run.identity();
    if (!identity.found) return [noIdentity(run)];
    const domain = run.target.identity;
    const defaultSet = defaultConfigurationSetResult(run.target, identity);
    return [
      identity.verifiedForSending
        ? { id: 'identity', status: 'ok', title: `identity ${domain} verified for sending` }
        : {
            id: 'identity',
            status: 'fail',
            title: `identity ${domain} not verified for sending`,
            detail: `DKIM ${identity.dkimStatus ?? 'unknown'}`,
            fix: `SES verifies the domain through its DKIM records: check them below (${cliCommand(run.target, 'dns --check')}); verification can take up to 72 hours after they appear`,
          },
      ...(defaultSet ? [defaultSet] : []),
      ...mailFromRefusal(run.target, identity),
    ];
  },
};

/**
 * SES refuses every send from the identity while its MAIL FROM domain is not SUCCESS (PENDING,
 * FAILED, TEMPORARY_FAILURE) and BehaviorOnMxFailure is REJECT_MESSAGE (MailFromAttributes, SES API
 * v2): an MX record deleted stops every app at once. Said by this check, which the hourly run has,
 * from SES's answer alone; the daily mail-from check looks at the records.
 */
function mailFromRefusal(target: HealthTarget, identity: LiveIdentity): CheckResult[] {
  const { mailFromDomain: domain, mailFromStatus: status, mailFromBehavior } = identity;
  if (!domain || status === 'SUCCESS' || mailFromBehavior !== 'REJECT_MESSAGE') return [];
  return [
    {
      id: 'mail-from-refused',
      status: 'fail',
      title: `SES refuses every send from ${target.identity}: its MAIL FROM domain ${domain} is ${status ?? 'not verified'} and behaviorOnMxFailure is REJECT_MESSAGE`,
      fix: `publish the MX record of ${domain} (${cliCommand(target, 'dns --check')} names it); to send meanwhile (SPF then does not align), set mailFrom.behaviorOnMxFailure to USE_DEFAULT_VALUE and deploy`,
    },
  ];
}

/**
 * SMTP mail names no configuration set: the identity's default is what publishes its bounces and
 * complaints to the handler. Removed outside the stack, mail still flows (a warning: the account's
 * own suppression settings still apply) but no feedback reaches the handler, its metrics or the
 * app; another set: the SMTP user may send through the stack's set only. A deploy of the unchanged
 * template would not set it back. Undefined when it is the stack's (or the stack's is not known).
 */
function defaultConfigurationSetResult(
  target: HealthTarget,
  identity: LiveIdentity,
): CheckResult | undefined {
  const { identity: domain, configurationSetName: setName, region } = target;
  const actual = identity.defaultConfigurationSet;
  if (setName === undefined || actual === setName) return undefined;
  return {
    id: 'default-configuration-set',
    status: actual === undefined ? 'warn' : 'fail',
    title:
      actual === undefined
        ? `identity ${domain} has no default configuration set: its bounces and complaints reach no handler`
        : `identity ${domain} sends through configuration set ${actual}, not the stack's ${setName}: its bounces and complaints reach no handler, and the SMTP user may be refused`,
    fix: `aws sesv2 put-email-identity-configuration-set-attributes --email-identity ${domain} --configuration-set-name ${setName} --region ${region}`,
  };
}

const dkimCheck: Check = {
  ...catalog.DKIM,
  run: async (run) => {
    const identity = await run.identity();
    if (!identity.found) return [noIdentity(run)];
    const status = dkimStatusResult(identity, run.target);
    const records = expectedRecords(run.target, identity).filter((r) => r.type === 'CNAME');
    return [status, ...(await Promise.all(records.map((r) => checkRecord(run.clients.resolver, r))))];
  },
};

/** What SES says of the identity's DKIM: verified and signing, or what to do. */
function dkimStatusResult(identity: LiveIdentity, target: HealthTarget): CheckResult {
  const { identity: domain, region } = target;
  const status = identity.dkimStatus ?? 'unknown';
  if (status !== 'SUCCESS' && status !== 'TEMPORARY_FAILURE') {
    return {
      id: 'dkim',
      status: 'fail',
      title: 'DKIM not verified',
      detail: `status ${status}`,
      fix: 'publish the three CNAMEs below exactly; SES checks them periodically',
    };
  }
  // Verified, but SES sends unsigned (turned off in the console or the API); the stack's template
  // is unchanged by it, so a deploy does not turn it back on.
  if (identity.dkimSigning === false) {
    return {
      id: 'dkim',
      status: 'fail',
      title: `DKIM signing turned off for ${domain}: SES sends its mail unsigned`,
      detail: `status ${status}, signing disabled`,
      fix: `aws sesv2 put-email-identity-dkim-attributes --email-identity ${domain} --signing-enabled --region ${region}`,
    };
  }
  // SES's own trouble, not a verdict on the records ("A temporary issue is preventing Amazon SES
  // from determining the DKIM authentication status of the domain", DkimAttributes.Status): the
  // CNAME lookups beside it judge the records; 3 days of it, the undetermined alarm says so.
  if (status === 'TEMPORARY_FAILURE') {
    return {
      id: 'dkim',
      status: 'info',
      title: 'DKIM status: SES could not tell for now',
      detail: 'status TEMPORARY_FAILURE: SES checks the CNAMEs again by itself',
      undetermined: true,
    };
  }
  return { id: 'dkim', status: 'ok', title: 'DKIM signing verified (Easy DKIM)' };
}

const mailFromCheck: Check = {
  ...catalog.MAIL_FROM,
  run: async (run) => {
    const identity = await run.identity();
    if (!identity.found) return [noIdentity(run)];
    const records = expectedRecords(run.target, identity).filter((r) => r.key.startsWith('MailFrom'));
    const checked = await Promise.all(records.map((r) => checkRecord(run.clients.resolver, r)));
    // The stack always sets one: none is a change made outside it, which no record brings back.
    if (identity.mailFromDomain === undefined) {
      const domain = run.target.identity;
      return [
        {
          id: 'mail-from',
          status: 'fail',
          title: `identity ${domain} has no custom MAIL FROM domain: SES sends with amazonses.com as envelope sender and SPF does not align`,
          detail: CHANGED_OUTSIDE,
          fix: setMailFromCommand(run.target),
        },
        ...checked,
      ];
    }
    // Another name than the settings' (set by hand; or a deploy that changes it is under way): the
    // records above are checked at the identity's name, which SES sends with, so they can pass.
    const { identity: domain, dns } = run.target;
    const live = mailFromLabel(domain, identity.mailFromDomain);
    const renamed: CheckResult[] =
      live?.toLowerCase() === dns.mailFromSubdomain.toLowerCase()
        ? []
        : [
            {
              id: 'mail-from',
              status: 'warn',
              title: `MAIL FROM domain ${identity.mailFromDomain} is not the settings' ${mailFromDomain(domain, dns.mailFromSubdomain)}`,
              detail: `${CHANGED_OUTSIDE} (or a deploy that changes it is under way)`,
              fix: `to use the settings' again: ${setMailFromCommand(run.target)}; to keep ${identity.mailFromDomain}: set mailFrom.subdomain to "${live}" and deploy`,
            },
          ];
    // BehaviorOnMxFailure applies while the status is not SUCCESS (PENDING, FAILED and
    // TEMPORARY_FAILURE: MailFromAttributes, SES API v2): REJECT_MESSAGE refuses every send.
    const rejects = identity.mailFromBehavior === 'REJECT_MESSAGE';
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
            title: `MAIL FROM domain ${identity.mailFromDomain} not verified${rejects ? `: SES refuses every send from ${run.target.identity} (behaviorOnMxFailure REJECT_MESSAGE)` : ''}`,
            detail: `status ${identity.mailFromStatus ?? 'not set'}`,
            fix: rejects
              ? 'publish its MX and SPF TXT (below); until SES finds the MX record it refuses every send (MailFromDomainNotVerified); to send meanwhile (SPF then does not align), set mailFrom.behaviorOnMxFailure to USE_DEFAULT_VALUE and deploy'
              : 'publish its MX and SPF TXT (below); until then SES sends with amazonses.com as envelope sender and SPF does not align',
          };
    return [status, ...renamed, ...checked];
  },
};

/** The AWS CLI call that gives the identity the settings' MAIL FROM domain. */
function setMailFromCommand({ identity, region, dns }: HealthTarget): string {
  return `aws sesv2 put-email-identity-mail-from-attributes --email-identity ${identity} --mail-from-domain ${mailFromDomain(identity, dns.mailFromSubdomain)} --region ${region} (with --behavior-on-mx-failure REJECT_MESSAGE where mailFrom.behaviorOnMxFailure says so)`;
}

const dmarcCheck: Check = {
  ...catalog.DMARC,
  run: async (run) => {
    const { target, clients } = run;
    const results: CheckResult[] = [];
    if (target.dns.dmarc) {
      results.push(await checkRecord(clients.resolver, dmarcRecord(target.identity, target.dns.dmarc)));
    } else {
      results.push(dmarcManagedElsewhere(target.identity, await run.dmarcTxt()));
    }
    if (target.dns.apexSpf)
      results.push(await checkRecord(clients.resolver, apexTxtRecord(target.identity, target.dns.apexSpf)));
    return results;
  },
};

/** The one DMARC record receivers apply among `found`, with its tags; or why there is none. */
function liveDmarcPolicy(found: string[]): { record: string; policy: DmarcPolicy } | { count: number } {
  const records = found.filter(isDmarcRecord);
  return records.length === 1
    ? { record: records[0], policy: dmarcPolicy(records[0]) }
    : { count: records.length };
}

/**
 * DMARC managed outside the stack: exactly one record that receivers apply must exist, at the
 * identity's name or its Organizational Domain's (whose "sp=" policy, "p=" by default, applies).
 */
function dmarcManagedElsewhere(domain: string, read: DmarcRead): CheckResult {
  const inherited = bareName(read.at) !== bareName(domain);
  const title = `DMARC record at _dmarc.${read.at}${inherited ? ` (the Organizational Domain's, which receivers apply to ${domain})` : ''}`;
  // A lookup that failed says nothing of the record: not "0 records, publish one".
  if ('error' in read)
    return {
      id: 'DmarcTxt',
      status: 'fail',
      title,
      ...lookupFailure(read.error, 'TXT', `_dmarc.${read.at}`),
    };
  const found = read.values;
  const live = liveDmarcPolicy(found);
  if ('count' in live) {
    const misspelt = live.count === 0 ? found.find(isMisspeltDmarcRecord) : undefined;
    return {
      id: 'DmarcTxt',
      status: 'fail',
      title,
      detail: misspelt ? `"${misspelt}" is not DMARC to receivers` : `${live.count} DMARC records`,
      fix: misspelt
        ? 'write the version as "v=DMARC1", in upper case (RFC 7489 §6.3: receivers ignore the record otherwise)'
        : 'publish exactly one TXT "v=DMARC1; p=quarantine; ..." (or set dmarc.enabled to let the stack do it)',
    };
  }
  const { record, policy } = live;
  // A subdomain gets the Organizational Domain's "sp=" ("p=" when it has none).
  const applied = 'tags' in policy ? (inherited ? policy.tags.sp : policy.tags.p) : undefined;
  const tag = inherited ? 'sp' : 'p';
  return 'tags' in policy
    ? {
        id: 'DmarcTxt',
        // p=none is a policy a team chooses while it reads the reports (as dmarc.policy can be
        // for the stack's own record): noted, not an alarm that stays on until it changes.
        status: applied === 'none' ? 'info' : 'ok',
        title,
        detail:
          applied === 'none'
            ? `${record} (${tag}=none only monitors: move to quarantine once reports look clean)`
            : record,
      }
    : {
        id: 'DmarcTxt',
        status: 'fail',
        title,
        detail: record,
        fix: `${policy.problem}: receivers apply no DMARC policy; ${policy.fix}`,
      };
}

/** The report URIs (rua=, ruf=) of the one DMARC record receivers apply among `found`; none without one. */
function liveReportUris(found: string[]): string[] {
  const live = liveDmarcPolicy(found);
  if ('count' in live || !('tags' in live.policy)) return [];
  const { rua, ruf } = live.policy.tags;
  return [rua, ruf].flatMap((list) => list.split(',')).filter(Boolean);
}

const dmarcReportsCheck: Check = {
  ...catalog.DMARC_REPORTS,
  run: (run) => reportChecks(run.clients.resolver, run.target, () => run.dmarcTxt()),
};

/**
 * The report consent checks of the environment's DMARC record: the stack's, or the live record's
 * when it is managed elsewhere (`readLive` reads it: only then). When that lookup fails, "could not
 * tell" (the dmarc check fails for the lookup itself).
 */
export async function reportChecks(
  resolver: dns.Resolver,
  target: Pick<HealthTarget, 'identity' | 'dns'>,
  readLive: () => Promise<DmarcRead>,
): Promise<CheckResult[]> {
  let uris: string[];
  let owner = target.identity;
  if (target.dns.dmarc) {
    uris = dmarcReportUris(target.dns.dmarc);
  } else {
    const read = await readLive();
    if ('error' in read) {
      return [
        {
          id: 'DmarcReportAuthorization',
          status: 'info',
          title: `DMARC report addresses of _dmarc.${target.identity}: could not tell`,
          detail: 'the lookup of the DMARC record failed (the dmarc check says how)',
          undetermined: true,
        },
      ];
    }
    uris = liveReportUris(read.values);
    // The Organizational Domain's record: its report addresses consent to that domain's reports.
    owner = read.at;
  }
  return reportAuthorizations(resolver, owner, uris);
}

/**
 * The report addresses of `domain`'s DMARC record at another organization's domain: each must
 * consent in its own DNS, or receivers send it no report (RFC 7489 §7.1), and nothing tells the
 * domain's owner. A missing consent is a warning (mail flows either way); a lookup that fails is
 * "could not tell" (info): a report service's name servers failing once should not raise an alarm.
 */
async function reportAuthorizations(
  resolver: dns.Resolver,
  domain: string,
  uris: readonly string[],
): Promise<CheckResult[]> {
  const external = externalReportDestinations(domain, uris);
  return Promise.all(external.map((d) => reportAuthorization(resolver, domain, d)));
}

async function reportAuthorization(
  resolver: dns.Resolver,
  domain: string,
  { host, uris }: ReportDestination,
): Promise<CheckResult> {
  const record = reportAuthorizationRecord(domain, host);
  const name = bareName(record.name);
  const result = (status: CheckStatus, detail: string, fix?: string): CheckResult => ({
    id: record.key,
    status,
    title: `${record.purpose} (TXT ${name})`,
    detail,
    ...(fix !== undefined && { fix }),
  });
  const instead = `or send the reports to an address at ${domain}`;
  // RFC 1035 §3.1: 255 octets on the wire, 253 characters as text.
  if (name.length > 253) {
    return result(
      'warn',
      `the name is ${name.length} characters long, more than DNS allows (253): receivers cannot ask for it`,
      `receivers send no report to ${uris.join(', ')}; ${instead}`,
    );
  }
  const read = await readTxt(resolver, name);
  if ('error' in read) {
    const failure = lookupFailure(read.error, 'TXT', name);
    return { ...result('info', `could not tell: ${failure.detail}`, failure.fix), undetermined: true };
  }
  const found = read.values;
  const consent = found.find(isDmarcRecord);
  const redirect = consent === undefined ? undefined : consentRedirect(consent, host);
  if (consent !== undefined && redirect === undefined) return result('ok', `"${consent}"`);
  if (consent !== undefined) {
    return result(
      'warn',
      `"${consent}" sends the reports on to ${redirect}, at another domain`,
      `receivers send no report to ${uris.join(', ')} nor to ${redirect} (RFC 7489 §7.1: a consent may name other addresses only at ${host}); ${host} must change that record, ${instead}`,
    );
  }
  return result(
    'warn',
    found.length ? `found ${found.map((v) => `"${v}"`).join(' ')}` : 'not found in DNS',
    `receivers send no report to ${uris.join(', ')} until ${host} publishes TXT "v=DMARC1;" at ${name} (RFC 7489 §7.1; a report service does this when the domain is added to its account), ${instead}`,
  );
}

const sendingCheck: Check = {
  ...catalog.SENDING,
  run: async (run) => {
    const a = await run.account();
    const results: CheckResult[] = [
      a.SendingEnabled === false
        ? {
            id: 'sending',
            status: 'fail',
            title: 'sending is disabled for the account',
            fix: `if you paused it: ${cliCommand(run.target, 'resume --scope account')}; otherwise AWS paused it: see the SES console account dashboard and your support cases`,
          }
        : { id: 'sending', status: 'ok', title: 'sending is enabled' },
    ];
    if (a.EnforcementStatus && a.EnforcementStatus !== 'HEALTHY') {
      results.push({
        id: 'enforcement',
        status: a.EnforcementStatus === 'SHUTDOWN' ? 'fail' : 'warn',
        title: `account enforcement status ${a.EnforcementStatus}`,
        // GetAccount: PROBATION, "placing your account under review"; SHUTDOWN, sending "paused
        // because of an issue with the email sent": resumed only when AWS is asked, once fixed.
        fix:
          a.EnforcementStatus === 'SHUTDOWN'
            ? 'AWS paused sending for the account: fix the cause (bounce and complaint rates: the SES console account dashboard and your support cases say which), then ask AWS in the case to resume sending'
            : 'AWS is reviewing the account: bring bounce and complaint rates down and answer the review case',
      });
    }
    const setName = run.target.configurationSetName;
    if (setName)
      results.push(...(await partly('configuration-set', () => configurationSetResults(run, setName))));
    return results;
  },
};

/** Why a deploy does not help (a result's detail): CloudFormation updates only what the template changes. */
const CHANGED_OUTSIDE =
  'changed outside the stack: a deploy of the unchanged template does not change it back';

/**
 * The sending check's configuration-set parts, each its own result: the set exists and sends; SES
 * collects its reputation metrics; an SNS destination publishes its bounces and complaints.
 */
async function configurationSetResults(run: CheckRun, setName: string): Promise<CheckResult[]> {
  let set: GetConfigurationSetCommandOutput | undefined;
  try {
    set = await run.clients.ses.send(new GetConfigurationSetCommand({ ConfigurationSetName: setName }));
  } catch (e) {
    if ((e as Error).name !== 'NotFoundException') throw e;
  }
  if (!set) {
    return [
      {
        id: 'configuration-set',
        status: 'fail',
        title: `configuration set ${setName} not found`,
        fix: `redeploy the stack (${deployCommandOf(run.target)})`,
      },
    ];
  }
  return [
    set.SendingOptions?.SendingEnabled === false
      ? {
          id: 'configuration-set',
          status: 'fail',
          title: `sending is disabled for the configuration set ${setName}`,
          fix: `if you paused it: ${cliCommand(run.target, 'resume --scope configuration-set')}; otherwise find who disabled it in CloudTrail (PutConfigurationSetSendingOptions, or UpdateConfigurationSetSendingEnabled of the SES v1 API)`,
        }
      : {
          id: 'configuration-set',
          status: 'ok',
          title: `sending is enabled for the configuration set ${setName}`,
        },
    reputationMetricsResult(run.target, setName, set),
    // Its own read: throttled, it could not tell, and what the set's read found stands.
    ...(await partly('event-destination', () =>
      eventDestinationResult(run.target, run.clients.ses, setName),
    )),
  ];
}

/**
 * The configuration set's rate alarms read its reputation metrics, and treat missing data as
 * ignored: with the metrics off they stay OK whatever the rates (the only rate alarms of an
 * environment without the account's).
 */
function reputationMetricsResult(
  target: HealthTarget,
  setName: string,
  set: GetConfigurationSetCommandOutput,
): CheckResult {
  // SES collects them only when asked to (ReputationMetricsEnabled true); the stack asks.
  return set.ReputationOptions?.ReputationMetricsEnabled === true
    ? {
        id: 'reputation-metrics',
        status: 'ok',
        title: `SES collects reputation metrics for the configuration set ${setName}`,
      }
    : {
        id: 'reputation-metrics',
        status: 'fail',
        title: `SES collects no reputation metrics for the configuration set ${setName}: its bounce and complaint rate alarms stay OK whatever the rates`,
        detail: CHANGED_OUTSIDE,
        fix: `aws sesv2 put-configuration-set-reputation-options --configuration-set-name ${setName} --reputation-metrics-enabled --region ${target.region}`,
      };
}

/** The event types the feedback handler and the app need (the stack's destination publishes them). */
const FEEDBACK_EVENTS: readonly EventType[] = ['BOUNCE', 'COMPLAINT'];

/**
 * SES publishes the set's bounces and complaints to the feedback topic through an SNS event
 * destination: disabled, deleted or without those types, no feedback reaches the handler
 * (suppression) or the app, and no alarm sees it (the queues only stay empty). Any enabled SNS
 * destination with both passes: the check does not know the topic (doctor may not have it). But
 * not the app webhook's (its own topic, by its fixed name): it feeds neither queue.
 */
async function eventDestinationResult(
  target: HealthTarget,
  ses: SESv2Client,
  setName: string,
): Promise<CheckResult> {
  const r = await ses.send(
    new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: setName }),
  );
  const all = r.EventDestinations ?? [];
  const sns = all.filter((d) => d.SnsDestination?.TopicArn && d.Name !== WEBHOOK_EVENT_DESTINATION);
  const missing = (d: EventDestination) => FEEDBACK_EVENTS.filter((t) => !d.MatchingEventTypes?.includes(t));
  const publishing = sns.find((d) => d.Enabled === true && missing(d).length === 0);
  if (publishing) {
    return {
      id: 'event-destination',
      status: 'ok',
      title: `the configuration set ${setName} publishes bounces and complaints to SNS (event destination ${publishing.Name})`,
    };
  }
  const region = `--region ${target.region}`;
  const destination = sns[0];
  if (!destination) {
    const isWebhook = (d: EventDestination) => d.Name === WEBHOOK_EVENT_DESTINATION && !!d.SnsDestination;
    const others = all.filter((d) => !isWebhook(d)).map((d) => d.Name);
    const listed = others.length
      ? `event destination${others.length > 1 ? 's' : ''} ${others.join(', ')}, not to SNS`
      : 'no event destination';
    const webhook = all.some(isWebhook)
      ? ` but ${WEBHOOK_EVENT_DESTINATION}, to the app webhook's topic only`
      : '';
    const definition = {
      Enabled: true,
      MatchingEventTypes: FEEDBACK_EVENTS,
      SnsDestination: { TopicArn: 'TOPIC_ARN' },
    };
    return {
      id: 'event-destination',
      status: 'fail',
      title: `the configuration set ${setName} has no SNS event destination: no bounce or complaint reaches the feedback handler or the app`,
      detail: `${listed}${webhook}; ${CHANGED_OUTSIDE}`,
      // Under the name CloudFormation gave the stack's own (its physical id, as aws-cdk-lib's
      // configurationSetEventDestinationName is its Ref): the stack finds it again, and a later
      // deploy that changes it updates it rather than failing on a destination it cannot find.
      fix: `recreate it under the name CloudFormation gave it (NAME: aws cloudformation list-stack-resources --stack-name ${target.stackName} ${region} --query "StackResourceSummaries[?ResourceType=='AWS::SES::ConfigurationSetEventDestination' && contains(LogicalResourceId, '${FEEDBACK_EVENT_DESTINATION_PATH}')].PhysicalResourceId" --output text), with TOPIC_ARN the stack's FeedbackTopicArn output (and feedback.additionalEvents' types added to MatchingEventTypes): aws sesv2 create-configuration-set-event-destination --configuration-set-name ${setName} --event-destination-name NAME --event-destination '${JSON.stringify(definition)}' ${region}`,
    };
  }
  const lacking = missing(destination);
  const problems = [
    ...(destination.Enabled === true ? [] : ['is disabled']),
    ...(lacking.length ? [`publishes no ${lacking.join(' or ')} events`] : []),
  ];
  const lost =
    destination.Enabled === true ? lacking.map((t) => t.toLowerCase()).join(' or ') : 'bounce or complaint';
  // The update replaces the destination's definition: its own settings, enabled, with both types.
  const definition = {
    Enabled: true,
    MatchingEventTypes: [...(destination.MatchingEventTypes ?? []), ...lacking],
    SnsDestination: { TopicArn: destination.SnsDestination!.TopicArn },
  };
  return {
    id: 'event-destination',
    status: 'fail',
    title: `event destination ${destination.Name} of the configuration set ${setName} ${problems.join(' and ')}: no ${lost} reaches the feedback handler or the app`,
    detail: CHANGED_OUTSIDE,
    fix: `aws sesv2 update-configuration-set-event-destination --configuration-set-name ${setName} --event-destination-name ${destination.Name} --event-destination '${JSON.stringify(definition)}' ${region}`,
  };
}

const sandboxCheck: Check = {
  ...catalog.SANDBOX,
  run: async (run) => {
    const a = await run.account();
    const review = a.Details?.ReviewDetails;
    if (a.ProductionAccessEnabled)
      return [
        { id: 'sandbox', status: 'ok', title: `account has production access in ${run.target.region}` },
      ];
    return [
      {
        id: 'sandbox',
        status: run.target.expectProductionAccess ? 'warn' : 'info',
        title: `account is in the SES sandbox in ${run.target.region}`,
        detail: `only verified recipients, at most 200 messages a day and 1 a second${review?.Status ? `; production access request ${review.Status}${review.CaseId ? ` (case ${review.CaseId})` : ''}` : ''}`,
        fix:
          review?.Status === 'PENDING'
            ? 'AWS is reviewing the request; answer the support case if they ask'
            : `run: ${cliCommand(run.target, 'request-production-access')} (meanwhile add test recipients to verifiedEmailAddresses)`,
      },
    ];
  },
};

const quotaCheck: Check = {
  ...catalog.QUOTA,
  run: async (run) => {
    const { target, clients } = run;
    const q = (await run.account()).SendQuota;
    // The figures' alarms keep their state without points: an answer without them could not tell.
    if (q?.Max24HourSend === undefined)
      return [
        {
          id: 'quota',
          status: 'info',
          title: 'sending quota: could not tell',
          detail: "SES's GetAccount answer holds no SendQuota",
          undetermined: true,
        },
      ];
    const used = q.SentLast24Hours ?? 0;
    // SES reports -1 for an unlimited quota.
    const unlimited = q.Max24HourSend < 0;
    const share = q.Max24HourSend > 0 ? (used / q.Max24HourSend) * 100 : 0;
    const maxRate = q.MaxSendRate ?? 0;
    // A peak that could not be read fails alone (undetermined when for now): the quota figures
    // and the quota's verdict stand.
    const peak: { value?: number; error?: unknown } =
      maxRate > 0
        ? await peakSendsPerSecond(clients.cloudwatch, clients.now()).then(
            (value) => ({ value }),
            (error: unknown) => ({ error }),
          )
        : {};
    const peakPercent = peak.value !== undefined ? (peak.value / maxRate) * 100 : undefined;
    run.quota = {
      max24HourSend: q.Max24HourSend,
      sentLast24Hours: used,
      maxSendRate: maxRate,
      quotaUsedPercent: share,
      ...(peakPercent !== undefined && { peakSendRatePercent: peakPercent }),
    };
    const { warning, critical } = target.quotaPercent;
    const quotaFix =
      'near the quota SES answers "Daily message quota exceeded": ask for more in Service Quotas before you hit it';
    const results: CheckResult[] = [
      {
        id: 'quota',
        status: share >= critical ? 'fail' : share >= warning ? 'warn' : 'ok',
        title: 'sending quota',
        detail: unlimited
          ? `${used} in the last 24 h (no 24-hour quota), max ${q.MaxSendRate ?? '?'} per second`
          : `${used} of ${q.Max24HourSend} in the last 24 h (${share.toFixed(0)} %), max ${q.MaxSendRate ?? '?'} per second`,
        fix: quotaFix,
      },
    ];
    if (peakPercent !== undefined) {
      results.push({
        id: 'send-rate',
        status: peakPercent >= target.sendRatePercent ? 'warn' : 'ok',
        title: 'peak send rate in the last hour',
        detail: `${peak.value!.toFixed(2)} per second at the busiest minute (${peakPercent.toFixed(0)} % of ${maxRate} per second)`,
        fix: 'past the maximum rate SES answers "Maximum sending rate exceeded": spread bulk sends out, or ask for a higher rate in Service Quotas',
      });
    }
    // Could not tell, even when refused: no alarm watches the quota check's own point (its figures
    // have theirs), and the send-rate alarm keeps its state without a figure. As undetermined it
    // counts in ChecksUndetermined, whose alarm names failing AWS calls (the role) among the causes.
    if ('error' in peak) results.push({ ...couldNotRun('send-rate', peak.error), undetermined: true });
    return results;
  },
};

/** The busiest minute of the last hour (AWS/SES Send, account-wide), in messages per second. */
async function peakSendsPerSecond(cloudwatch: CloudWatchClient, now: Date): Promise<number | undefined> {
  const r = await cloudwatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(now.getTime() - 3_600_000),
      EndTime: now,
      MetricDataQueries: [
        {
          Id: 'sends',
          MetricStat: { Metric: { Namespace: SES_NAMESPACE, MetricName: 'Send' }, Period: 60, Stat: 'Sum' },
        },
      ],
    }),
  );
  const values = r.MetricDataResults?.find((d) => d.Id === 'sends')?.Values ?? [];
  return values.length ? Math.max(...values) / 60 : 0;
}

/**
 * The credentials at `stage`: undefined when no version holds it or it is not the credentials
 * JSON (the placeholder). A read that AWS refuses throws: the check then fails as "could not run",
 * never passes on credentials it could not see.
 */
async function credentialsAt(run: CheckRun, stage: string): Promise<SmtpSecret | undefined> {
  return credentialsIn(await run.secretVersion(stage));
}

/** The credentials a version holds; undefined for none or the placeholder. */
function credentialsIn(version: SecretVersion | undefined): SmtpSecret | undefined {
  try {
    return parseSecret(version?.SecretString);
  } catch {
    return undefined;
  }
}

/** `ses-smtp <command>` with the options that name the target's environment. */
export function cliCommand(target: HealthTarget, command: string): string {
  return sesSmtpCommand(command, target.cliOptions ?? cliOptions(target));
}

const credentialsCheck: Check = {
  ...catalog.CREDENTIALS,
  run: async (run) => {
    // A read that fails here fails again in the parts below, which say so.
    const first = await firstRotationRunning(run).catch(() => undefined);
    if (first) return [first];
    return [
      ...(await partly('secret', () => secretResult(run))),
      ...(await partly('rotation', () => rotationResult(run))),
      ...(await partly('user-policy', () => userPolicyResult(run))),
    ];
  },
};

/**
 * The credentials check's policy part: the SMTP user still has a policy. SES accepts an SMTP login
 * by the key alone and authorizes each send by the user's policies: a user whose send policy was
 * deleted or detached logs in (the smtp-login check passes) and every send is refused with "554
 * Access denied ... not authorized to perform ses:SendRawEmail". Any policy or group passes (it
 * may grant sending); none cannot. No result without a live current key: the secret part says why.
 */
async function userPolicyResult(run: CheckRun): Promise<CheckResult[]> {
  const { target, clients } = run;
  const current = await credentialsAt(run, 'AWSCURRENT');
  const userName = current && (await run.keyLastUse(current.username))?.userName;
  if (!userName) return [];
  const input = { UserName: userName, MaxItems: 1 };
  let found: number[];
  try {
    const { iam } = clients;
    found = await Promise.all([
      (async () => (await iam.send(new ListUserPoliciesCommand(input))).PolicyNames?.length ?? 0)(),
      (async () =>
        (await iam.send(new ListAttachedUserPoliciesCommand(input))).AttachedPolicies?.length ?? 0)(),
      (async () => (await iam.send(new ListGroupsForUserCommand(input))).Groups?.length ?? 0)(),
    ]);
  } catch (e) {
    // doctor run by someone whose policy predates these reads: not a verdict on the user.
    if (!isAccessDenied(e)) throw e;
    return [
      {
        id: 'user-policy',
        status: 'info',
        title: `the SMTP user ${userName}'s IAM policies: could not tell`,
        detail: `${(e as Error).name}: it reads iam:ListUserPolicies, iam:ListAttachedUserPolicies and iam:ListGroupsForUser on the user`,
        undetermined: true,
      },
    ];
  }
  if (found.some((n) => n > 0))
    return [{ id: 'user-policy', status: 'ok', title: `the SMTP user ${userName} has an IAM policy` }];
  return [
    {
      id: 'user-policy',
      status: 'fail',
      title: `the SMTP user ${userName} has no IAM policy: SES accepts its login but refuses every send (554 Access denied)`,
      detail: CHANGED_OUTSIDE,
      fix: `recreate the stack's send policy with ${revertDriftOf(target)}`,
    },
  ];
}

/** The credentials check's secret part: AWSCURRENT holds credentials whose key IAM has, active. */
async function secretResult(run: CheckRun): Promise<CheckResult> {
  const { target, clients } = run;
  const current = await credentialsAt(run, 'AWSCURRENT');
  const rotate = cliCommand(target, 'rotate');
  if (!current) {
    return {
      id: 'secret',
      status: 'fail',
      title: 'the secret holds no SMTP credentials (the placeholder, or not the credentials JSON)',
      fix: `the first rotation has not finished: read the rotation function's logs, then run: ${rotate}`,
    };
  }
  // A key deleted or deactivated by hand (or by a revoke whose rotation never finished) strands
  // every app that reads the secret, while the secret itself looks fine.
  const key = current.username;
  const state = await accessKeyState(clients.iam, key, undefined, run);
  const refused = 'SES refuses every app that reads the secret';
  if (state.status === 'Active')
    return {
      id: 'secret',
      status: 'ok',
      title: 'the secret holds SMTP credentials',
      detail: `access key ${key}, active in IAM`,
    };
  if (state.status === 'Expired') {
    return {
      id: 'secret',
      status: 'fail',
      title: `the secret's access key ${key} has expired in IAM: ${refused}`,
      fix: `make new credentials now: ${rotate}`,
    };
  }
  if (state.status === 'deleted') {
    return {
      id: 'secret',
      status: 'fail',
      title: `the secret's access key ${key} no longer exists in IAM: ${refused}`,
      // A deleted SMTP user takes its keys along, and deploys leave it deleted (drift): rotating
      // into it fails until a drift-aware deploy recreates it.
      fix: `make new credentials now: ${rotate}; if the rotation fails with NoSuchEntity, the SMTP user was deleted too: recreate it first, with ${revertDriftOf(target)}`,
    };
  }
  return {
    id: 'secret',
    status: 'fail',
    title: `the secret's access key ${key} is deactivated in IAM: ${refused}`,
    fix: `if a revoke stopped half-way, run it again (${cliCommand(target, 'revoke')}); otherwise reactivate the key (aws iam update-access-key --user-name ${state.userName} --access-key-id ${key} --status Active) or make new credentials: ${rotate}`,
  };
}

/**
 * How long after the secret's creation its first rotation is given before the placeholder and
 * "never rotated" fail: the first deploy waits up to 14.5 minutes for it (Custom::SmtpCredentialsReady)
 * while the schedules already run, and testSecret gives a key up to an hour to reach SES.
 */
export const FIRST_ROTATION_GRACE_MS = 3_600_000;

/**
 * The credentials check's one result, "could not tell yet", while the first rotation of a new
 * secret runs (AWSCURRENT holds no credentials, a version holds AWSPENDING, never rotated, the
 * secret younger than FIRST_ROTATION_GRACE_MS): no credentials is then the deploy's state, not a
 * fault, and a 0 would page on every first deploy a run meets. Undefined otherwise: the check's
 * parts judge the secret as always (credentials put by hand then are "never rotated").
 */
async function firstRotationRunning(run: CheckRun): Promise<CheckResult | undefined> {
  if (await credentialsAt(run, 'AWSCURRENT')) return undefined;
  const s = await run.secretDescription();
  const pending = pendingVersionId(s.VersionIdsToStages);
  const created = s.CreatedDate;
  if (s.LastRotatedDate || !pending || !created) return undefined;
  if (run.clients.now().getTime() - created.getTime() >= FIRST_ROTATION_GRACE_MS) return undefined;
  return {
    id: 'secret',
    status: 'info',
    title: 'the first rotation is running: no SMTP credentials yet',
    detail: `secret created at ${created.toISOString()}, version ${pending} is AWSPENDING; past an hour without credentials this check fails`,
    undetermined: true,
  };
}

/** The credentials check's rotation part: on, and not behind its schedule. */
async function rotationResult(run: CheckRun): Promise<CheckResult> {
  const { target, clients } = run;
  const rotate = cliCommand(target, 'rotate');
  const s = await run.secretDescription();
  const days = target.rotationDays;
  if (!s.RotationEnabled) {
    return {
      id: 'rotation',
      status: 'fail',
      title: 'credential rotation is off',
      // A deploy of the unchanged template would not: CloudFormation leaves a change made outside it.
      fix: `turn it back on (it rotates now, then every ${days} days, as the stack set it): aws secretsmanager rotate-secret --secret-id ${target.secretId}${s.RotationLambdaARN ? ` --rotation-lambda-arn ${s.RotationLambdaARN}` : " --rotation-lambda-arn <the ARN of the stack's rotation function>"} --rotation-rules AutomaticallyAfterDays=${days} --region ${target.region}`,
    };
  }
  const last = s.LastRotatedDate;
  const next = s.NextRotationDate;
  const age = last ? (clients.now().getTime() - last.getTime()) / DAY_MS : undefined;
  const detail = `last ${last ? `${last.toISOString().slice(0, 10)} (${Math.floor(age!)} days ago)` : 'never'}, next ${next ? next.toISOString().slice(0, 10) : 'not scheduled'}`;
  if (age === undefined)
    return {
      id: 'rotation',
      status: 'fail',
      title: 'credentials never rotated',
      detail,
      fix: `run: ${rotate}`,
    };
  if (age > days + 7) {
    return {
      id: 'rotation',
      status: 'warn',
      title: `credentials older than the ${days}-day schedule`,
      detail,
      fix: `a rotation is failing: read the rotation function's logs, then run: ${rotate}`,
    };
  }
  // A rotation in progress is no fault (its own alarms say when it fails), but Secrets Manager
  // refuses another while it runs, and so a deploy that changes the schedule: said here.
  const pending = pendingVersionId(s.VersionIdsToStages);
  if (pending)
    return {
      id: 'rotation',
      status: 'ok',
      title: `credentials rotate every ${days} days; a rotation is in progress`,
      detail: `${detail}; version ${pending} is AWSPENDING: another rotation, or a deploy that changes credentials.rotationDays, waits until it ends`,
    };
  return { id: 'rotation', status: 'ok', title: `credentials rotate every ${days} days`, detail };
}

const previousKeyCheck: Check = {
  ...catalog.PREVIOUS_KEY,
  run: async (run) => [...(await awsPreviousResults(run)), ...(await unnamedKeysInUse(run))],
};

/** When the current credentials replaced the previous ones (see replacementTime). */
async function currentReplacedAt(run: CheckRun): Promise<Date | undefined> {
  return replacementTime(
    (await run.secretVersion('AWSCURRENT'))?.CreatedDate,
    (await run.secretDescription()).LastRotatedDate,
  );
}

/** Whether an app still sends with the key AWSPREVIOUS holds. */
async function awsPreviousResults(run: CheckRun): Promise<CheckResult[]> {
  const { target, clients } = run;
  const previous = await credentialsAt(run, 'AWSPREVIOUS');
  if (!previous) {
    return [
      { id: 'previous-key', status: 'ok', title: 'no previous credentials (fewer than two rotations)' },
    ];
  }
  const now = clients.now();
  // Undefined: the key is already gone (deleted by a rotation or by hand), nobody can use it.
  const use = await run.keyLastUse(previous.username);
  if (!use) {
    return [
      {
        id: 'previous-key',
        status: 'ok',
        title: `previous key ${previous.username} no longer exists`,
      },
    ];
  }
  const quiet = target.previousKeyQuietDays;
  // The key was the current one until the replacement: uses before then (and a grace after)
  // were every app's, and say nothing about an app left behind.
  const replacedAt = await currentReplacedAt(run);
  const at = replacedAt?.toISOString();
  const graceRuns = replacedAt !== undefined && withinGrace(now, replacedAt);
  if (quiet > 0 && stillSendsWith(use, now, quiet, replacedAt)) {
    // A check run right after a rotation: the apps have until the grace ends to switch.
    if (graceRuns) {
      return [
        {
          id: 'previous-key',
          status: 'info',
          title: `previous key ${previous.username} used since the current credentials replaced it at ${at}, less than 2 hours ago: apps may still be switching`,
          detail: describeUse(use, now),
        },
      ];
    }
    return [
      {
        id: 'previous-key',
        status: 'warn',
        title: `an app still sends with the previous key ${previous.username}`,
        detail: `${describeUse(use, now)}${at ? `, over 2 hours after the current credentials replaced it at ${at}` : ''}`,
        fix: `find the app whose SMTP username is ${previous.username} and give it the current credentials (${cliCommand(run.target, 'env')}); the next rotation stops until the key is unused for ${quiet} days`,
      },
    ];
  }
  return [
    {
      id: 'previous-key',
      status: 'ok',
      title:
        at && usedBySesWithin(use, now, quiet)
          ? `previous key ${previous.username} not used by SES ${graceRuns ? 'since' : 'later than 2 hours after'} the current credentials replaced it at ${at}`
          : `previous key ${previous.username} not used by SES in the last ${quiet} days`,
      detail: describeUse(use, now),
    },
  ];
}

/**
 * Active keys of the SMTP user that neither AWSCURRENT nor AWSPREVIOUS holds, made before the
 * current credentials, that SES used within the quiet period. A rotation that replaces a dead
 * AWSCURRENT key keeps AWSPREVIOUS's live one, and AWSPREVIOUS then moves to the dead key's
 * version: the kept key has no label, and an app given it goes on sending. The next rotation holds
 * such a key while it is in use, and deletes it once it has been quiet for the quiet period: said
 * here before then. A key made since the current credentials (a rotation's AWSPENDING, or the
 * orphan of a failed attempt, whose only use is the rotation's test login) is in no app.
 */
async function unnamedKeysInUse(run: CheckRun): Promise<CheckResult[]> {
  const { target, clients } = run;
  const quiet = target.previousKeyQuietDays;
  const current = await credentialsAt(run, 'AWSCURRENT');
  if (quiet <= 0 || !current) return [];
  // The SMTP user, named by IAM for the current key. A dead current key is the credentials
  // check's to report; the rotation that repairs it keeps the live key, found here from then on.
  const userName = (await run.keyLastUse(current.username))?.userName;
  if (!userName) return [];
  const previousVersion = await run.secretVersion('AWSPREVIOUS');
  const previous = credentialsIn(previousVersion)?.username;
  const replacedAt = await currentReplacedAt(run);
  // The kept key was AWSCURRENT until the version AWSPREVIOUS now holds (the dead key's) replaced
  // it: its uses before then, and within the grace after, were every app's.
  const keptReplacedAt = previousVersion?.CreatedDate;
  const keys = await run.accessKeys(userName);
  const now = clients.now();
  const results: CheckResult[] = [];
  for (const key of keys) {
    const id = key.AccessKeyId;
    if (!id || id === current.username || id === previous || key.Status !== 'Active') continue;
    if (!key.CreateDate || !replacedAt || key.CreateDate >= replacedAt) continue;
    const use = await run.keyLastUse(id);
    if (!use || !stillSendsWith(use, now, quiet, keptReplacedAt)) continue;
    results.push({
      id: 'previous-key',
      status: 'warn',
      title: `an app still sends with key ${id}, which neither AWSCURRENT nor AWSPREVIOUS holds`,
      detail: `${describeUse(use, now)}; a rotation that replaced a dead current key kept it`,
      fix: `find the app whose SMTP username is ${id} and give it the current credentials (${cliCommand(target, 'env')}); the next rotation stops until the key is unused for ${quiet} days`,
    });
  }
  return results;
}

/**
 * AWSCURRENT's credentials as they are now, or why the login should not happen: none stored, or a
 * rotation not finished. Read right before each login, not taken from the run's earlier read: a
 * key that a rotation replaced in between and then logged in with would look to the stale-use
 * guard and the previous-key check like an app still using it. Stages move only in finishSecret,
 * which then clears AWSPENDING; while another version holds AWSPENDING (a rotation running, or
 * one that stopped half-way and may be resumed days later: the replacement time those checks read
 * is then that version's old CreatedDate), a login with AWSCURRENT's key could be that. A rotation
 * that does not finish is the rotation alarms' and the credentials check's to report.
 */
async function loginCredentials(run: CheckRun): Promise<{ credentials: SmtpSecret } | { skip: string }> {
  const { secrets } = run.clients;
  const { secretId } = run.target;
  const pending = await readSecretVersion(secrets, secretId, { VersionStage: 'AWSPENDING' });
  if (pending && !pending.VersionStages?.includes('AWSCURRENT')) {
    const since = pending.CreatedDate ? ` since ${pending.CreatedDate.toISOString()}` : '';
    return {
      skip: `a rotation has not finished (AWSPENDING${since}): no login with a key it may replace; the credentials check reports a rotation that stays unfinished`,
    };
  }
  const credentials = credentialsIn(
    await readSecretVersion(secrets, secretId, { VersionStage: 'AWSCURRENT' }),
  );
  return credentials
    ? { credentials }
    : { skip: 'the secret holds no SMTP credentials (the credentials check says why)' };
}

/**
 * The 535 of the guide, watched: a login with AWSCURRENT's credentials, as an app does, at the
 * Region's endpoint. The credentials check sees a key deleted or deactivated in IAM; only a login
 * sees a password that does not match its key (a secret edited by hand) or SES refusing the key.
 * A connection that fails, or a temporary answer (4xx), is tried once more, after the client's
 * pause (5 s in the function); an AUTH refusal is not. A temporary answer twice is "could not
 * tell", not an alarm.
 */
const smtpLoginCheck: Check = {
  ...catalog.SMTP_LOGIN,
  run: async (run) => {
    const { smtp } = run.clients;
    if (!smtp) return [];
    let endpoint: SmtpEndpoint;
    try {
      endpoint = smtp.endpoint();
    } catch (e) {
      return [
        {
          id: 'smtp-login',
          status: 'fail',
          title: 'SMTP login: no endpoint',
          detail: (e as Error).message,
          fix: `deploy the stack again (${deployCommandOf(run.target)}): the HealthChecks construct sets SMTP_HOST and SMTP_PORT`,
        },
      ];
    }
    const title = smtpLoginTitle(endpoint);
    const rotate = cliCommand(run.target, 'rotate');
    // What the last of two attempts that may be retried found.
    let failed: CheckResult | undefined;
    for (let attempt = 1; attempt <= 2; attempt++) {
      if (attempt > 1) await smtp.pauseBeforeRetry?.();
      const current = await loginCredentials(run);
      if ('skip' in current) {
        return [
          {
            id: 'smtp-login',
            status: 'info',
            title: `${title}: not logged in`,
            detail: current.skip,
            undetermined: true,
          },
        ];
      }
      const { credentials } = current;
      try {
        await smtp.login(endpoint, credentials);
        return [{ id: 'smtp-login', status: 'ok', title, detail: `user ${credentials.username}` }];
      } catch (e) {
        const d = diagnose(e, endpoint, credentials.region);
        const detail = `${d.stage}: ${d.detail}`;
        if (isTemporaryReply(e)) {
          failed = {
            id: 'smtp-login',
            status: 'info',
            title: `${title}: could not tell`,
            detail: `${detail} (a temporary answer, twice)`,
            undetermined: true,
          };
          continue;
        }
        if (d.stage === 'connect' || d.stage === 'tls') {
          failed = {
            id: 'smtp-login',
            status: 'fail',
            title,
            detail,
            fix: `the health-check function (on Lambda's network, outside any VPC) could not reach ${endpoint.host}:${endpoint.port} twice: look for an SES event in AWS Health for this Region; ${cliCommand(run.target, 'doctor')} logs in from where you run it`,
          };
          continue;
        }
        const fix =
          d.stage === 'auth'
            ? `the secret's password is not the SMTP password of its key (a secret edited by hand?), or SES refuses the key: ${rotate} writes a new key with its password (apps then read it: ${cliCommand(run.target, 'env')})`
            : d.fix;
        return [{ id: 'smtp-login', status: 'fail', title, detail, fix }];
      }
    }
    return failed ? [failed] : [];
  },
};

/**
 * An endpoint as the checks and doctor show it: an HTTP(S) one as its origin only. A webhook's or
 * pager's URL may carry a token in its path or query (PagerDuty's /integration/KEY/enqueue,
 * Opsgenie's ?apiKey=), which SNS returns as it was subscribed; an ARN (a queue's, a function's)
 * holds none and is shown as it is.
 */
export function shownEndpoint(endpoint: string): string {
  if (!/^https?:\/\//i.test(endpoint)) return endpoint;
  try {
    const url = new URL(endpoint);
    return url.pathname === '/' && !url.search && !url.hash ? url.origin : `${url.origin}/...`;
  } catch {
    return endpoint.replace(/^(https?:\/\/[^/?#]*).+$/i, '$1/...');
  }
}

/** One form of a URL (host in lower case, "/" for an empty path), to compare SNS's with the setting. */
function sameUrl(a: string, b: string): boolean {
  const normal = (url: string) => {
    try {
      return new URL(url).href;
    } catch {
      return url;
    }
  };
  return normal(a) === normal(b);
}

/**
 * SNS sends an HTTPS endpoint nothing until it confirms its subscription (the subscription's ARN
 * is "PendingConfirmation" until then), and a subscription deleted outside the stack (the
 * UnsubscribeURL of any message) gets nothing either: in both cases no delivery fails, nothing
 * reaches the webhook's dead-letter queue and no other alarm fires.
 * https://docs.aws.amazon.com/sns/latest/dg/http-subscription-confirmation-json.html
 */
async function webhookSubscriptionResult(
  run: CheckRun,
  webhook: NonNullable<HealthTarget['webhook']>,
): Promise<CheckResult> {
  const id = 'webhook-subscription';
  const shown = shownEndpoint(webhook.url);
  const title = `the app's webhook ${shown} gets the bounces and complaints (a confirmed subscription to its topic)`;
  const { topicArn } = webhook;
  const sns = run.clients.sns;
  if (!topicArn || !sns) {
    return {
      id,
      status: 'info',
      title: `${title}: could not tell`,
      detail: topicArn
        ? 'no SNS client'
        : `no stack output WebhookFeedbackTopicArn: deploy the stack (${deployCommandOf(run.target)})`,
      undetermined: true,
    };
  }
  const region = `--region ${run.target.region}`;
  const subscriptions: Subscription[] = [];
  try {
    let NextToken: string | undefined;
    do {
      const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken }));
      subscriptions.push(...(page.Subscriptions ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
  } catch (e) {
    if ((e as Error).name !== 'NotFoundException') throw e;
    return {
      id,
      status: 'fail',
      title: `the webhook's topic ${topicArn} does not exist: SES publishes the app's bounces and complaints nowhere`,
      detail: CHANGED_OUTSIDE,
      fix: `remove feedback.webhookUrl and deploy (${deployCommandOf(run.target)}), then set it back and deploy again: the stack makes the topic, its event destination and the subscription anew`,
    };
  }
  const own = subscriptions.filter((s) => s.Protocol === 'https' && sameUrl(s.Endpoint ?? '', webhook.url));
  if (own.some((s) => s.SubscriptionArn?.startsWith('arn:'))) return { id, status: 'ok', title };
  // Never the token: SNS sent it to the app only, and it confirms the subscription.
  const confirm = `the app confirms by visiting the SubscribeURL of the SubscriptionConfirmation message SNS POSTed to it (header x-amz-sns-message-type: SubscriptionConfirmation), or: aws sns confirm-subscription --topic-arn ${topicArn} --token TOKEN ${region}, with that message's Token`;
  if (own.some((s) => s.SubscriptionArn === 'PendingConfirmation')) {
    return {
      id,
      status: 'fail',
      title: `the app's webhook ${shown} has not confirmed its subscription: SNS sends it no bounce or complaint, and none reaches its dead-letter queue`,
      // SNS deletes a subscription still pending after 48 hours (since May 2023; its token was valid
      // for three days), and documents no resend of a pending one: a new subscription (the
      // stack's, made anew) gets a new message. Once deleted, the check below reports it.
      // https://aws.amazon.com/about-aws/whats-new/2023/05/amazon-sns-automatic-deletion-unconfirmed-subscriptions/
      fix: `${confirm}; no message kept, or older than two days (the app was not deployed yet, or ignored it)? with the app answering, remove feedback.webhookUrl and deploy (${deployCommandOf(run.target)}), then set it back and deploy again: SNS sends the new subscription a new message`,
    };
  }
  const others = subscriptions.map((s) => `${s.Protocol} ${shownEndpoint(s.Endpoint ?? '')}`);
  return {
    id,
    status: 'fail',
    title: `the app's webhook ${shown} is not subscribed to its topic: SNS sends it no bounce or complaint`,
    detail: `${others.length ? `the topic's subscriptions: ${others.join(', ')}` : 'the topic has no subscription'} (unsubscribed outside the stack: ${CHANGED_OUTSIDE})`,
    fix: `remove feedback.webhookUrl and deploy (${deployCommandOf(run.target)}), then set it back and deploy again (the subscription is made anew, with its filter, retries and dead-letter queue); then ${confirm}`,
  };
}

/**
 * SES publishes the webhook's events to its topic through the event destination of the fixed
 * name WEBHOOK_EVENT_DESTINATION: deleted, disabled, without bounces or complaints, or to another
 * topic, the webhook gets nothing, and the sending check (which tells the queues' destination
 * apart from this one) does not see it.
 */
async function webhookDestinationResult(
  run: CheckRun,
  setName: string,
  topicArn: string,
): Promise<CheckResult> {
  const id = 'webhook-event-destination';
  const r = await run.clients.ses.send(
    new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: setName }),
  );
  const destination = (r.EventDestinations ?? []).find((d) => d.Name === WEBHOOK_EVENT_DESTINATION);
  const region = `--region ${run.target.region}`;
  const lacking = FEEDBACK_EVENTS.filter((t) => !destination?.MatchingEventTypes?.includes(t));
  const wrongTopic = destination !== undefined && destination.SnsDestination?.TopicArn !== topicArn;
  if (destination?.Enabled === true && lacking.length === 0 && !wrongTopic) {
    return {
      id,
      status: 'ok',
      title: `the configuration set ${setName} publishes bounces and complaints to the webhook's topic (event destination ${WEBHOOK_EVENT_DESTINATION})`,
    };
  }
  const definition = {
    Enabled: true,
    MatchingEventTypes: [...(destination?.MatchingEventTypes ?? []), ...lacking],
    SnsDestination: { TopicArn: topicArn },
  };
  const fixCall = (verb: 'create' | 'update') =>
    `aws sesv2 ${verb}-configuration-set-event-destination --configuration-set-name ${setName} --event-destination-name ${WEBHOOK_EVENT_DESTINATION} --event-destination '${JSON.stringify(definition)}' ${region}`;
  if (!destination) {
    return {
      id,
      status: 'fail',
      title: `the configuration set ${setName} has no event destination ${WEBHOOK_EVENT_DESTINATION}: no bounce or complaint reaches the app's webhook`,
      detail: CHANGED_OUTSIDE,
      fix: `recreate it (with feedback.additionalEvents' types added to MatchingEventTypes): ${fixCall('create')}`,
    };
  }
  const problems = [
    ...(destination.Enabled === true ? [] : ['is disabled']),
    ...(lacking.length ? [`publishes no ${lacking.join(' or ')} events`] : []),
    ...(wrongTopic
      ? [`publishes to ${destination.SnsDestination?.TopicArn ?? 'no SNS topic'}, not the webhook's topic`]
      : []),
  ];
  return {
    id,
    status: 'fail',
    title: `event destination ${WEBHOOK_EVENT_DESTINATION} of the configuration set ${setName} ${problems.join(' and ')}: the app's webhook misses bounces or complaints`,
    detail: CHANGED_OUTSIDE,
    fix: fixCall('update'),
  };
}

const webhookCheck: Check = {
  ...catalog.WEBHOOK,
  appliesTo: (target) => target.webhook !== undefined,
  async run(run) {
    const webhook = run.target.webhook!;
    const { topicArn } = webhook;
    const setName = run.target.configurationSetName;
    // Each part its own read: one throttled could not tell, what the other found stands.
    return [
      ...(await partly('webhook-subscription', () => webhookSubscriptionResult(run, webhook))),
      // No topic (doctor: the stack has no WebhookFeedbackTopicArn output): the stack was not
      // deployed with the webhook yet, as the subscription's result says. Its deploy makes the
      // destination, and one made by hand before it would fail that deploy (the name exists).
      ...(setName && topicArn
        ? await partly('webhook-event-destination', () => webhookDestinationResult(run, setName, topicArn))
        : []),
    ];
  },
};

/**
 * ECS's longest list of services in one DescribeServices call.
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServices.html
 */
export const DESCRIBE_SERVICES_MAX = 10;

/**
 * The restart function logs a service (or cluster) that does not exist, or is not ACTIVE, as a
 * warning only (the first credentials come before the app's services): an ARN with a typo, or a
 * service recreated elsewhere, is never restarted, and its tasks keep the previous key until the
 * next rotation deletes it. One result per service.
 */
async function ecsServiceResults(
  run: CheckRun,
  ecs: ECSClient,
  cluster: string,
  services: readonly { arn: string; service: string }[],
): Promise<CheckResult[]> {
  const id = 'ecs-service';
  const keeps = "the app's tasks keep the previous SMTP key, which the next rotation deletes";
  const fix = (what: string) =>
    `${what}: correct its ARN in credentials.restartEcsServices (or the service given to restartOnRotation) and deploy (${deployCommandOf(run.target)}), or deploy the service`;
  let described;
  try {
    described = await ecs.send(
      new DescribeServicesCommand({ cluster, services: services.map((s) => s.service) }),
    );
  } catch (e) {
    if ((e as Error).name !== 'ClusterNotFoundException') throw e;
    return services.map(({ arn }) => ({
      id,
      status: 'fail',
      title: `ECS service ${arn}: its cluster ${cluster} does not exist: nothing is restarted for it after a rotation, and ${keeps}`,
      fix: fix(`no cluster ${cluster} in ${run.target.region}`),
    }));
  }
  return services.map(({ arn, service }): CheckResult => {
    const found = described.services?.find((s) => s.serviceName === service || s.serviceArn === arn);
    if (!found) {
      const failure = described.failures?.find((f) => f.arn === arn || f.arn?.endsWith(`/${service}`));
      return {
        id,
        status: 'fail',
        title: `ECS service ${arn} does not exist: nothing is restarted for it after a rotation, and ${keeps}`,
        detail: `DescribeServices: ${failure?.reason ?? 'MISSING'}${failure?.detail ? ` (${failure.detail})` : ''}`,
        fix: fix(`no service ${service} in cluster ${cluster}`),
      };
    }
    if (found.status !== 'ACTIVE') {
      return {
        id,
        status: 'fail',
        title: `ECS service ${arn} is ${found.status ?? 'of no status'}, not ACTIVE: it is not restarted after a rotation, and ${keeps}`,
        fix: fix('a deleted service (DRAINING, then INACTIVE) is not restarted'),
      };
    }
    return { id, status: 'ok', title: `ECS service ${arn} is ACTIVE (restarted after each rotation)` };
  });
}

const ecsServicesCheck: Check = {
  ...catalog.ECS_SERVICES,
  appliesTo: (target) => (target.ecsServices?.length ?? 0) > 0,
  async run(run) {
    const { ecs } = run.clients;
    const arns = run.target.ecsServices!;
    if (!ecs) {
      return [
        {
          id: 'ecs-service',
          status: 'info',
          title: `the ${arns.length} ECS service(s) restarted after each rotation exist: could not tell`,
          detail: 'no ECS client',
          undetermined: true,
        },
      ];
    }
    const results: CheckResult[] = [];
    const byCluster = new Map<string, { arn: string; service: string }[]>();
    for (const arn of arns) {
      const parts = parseServiceArn(arn);
      if (!parts) {
        // The construct refuses such an ARN; one of a service of the stack is its own.
        results.push({
          id: 'ecs-service',
          status: 'info',
          title: `ECS service ${arn}: could not tell (not a long service ARN, which names its cluster)`,
          undetermined: true,
        });
        continue;
      }
      byCluster.set(parts.cluster, [
        ...(byCluster.get(parts.cluster) ?? []),
        { arn, service: parts.service },
      ]);
    }
    // Per cluster, up to 10 services a call; a call throttled could not tell, the others stand.
    for (const [cluster, services] of byCluster) {
      for (let i = 0; i < services.length; i += DESCRIBE_SERVICES_MAX) {
        const batch = services.slice(i, i + DESCRIBE_SERVICES_MAX);
        results.push(...(await partly('ecs-services', () => ecsServiceResults(run, ecs, cluster, batch))));
      }
    }
    return results;
  },
};

/** Every check, in the order doctor prints them. */
export const CHECKS: readonly Check[] = [
  identityCheck,
  dkimCheck,
  mailFromCheck,
  dmarcCheck,
  dmarcReportsCheck,
  sendingCheck,
  sandboxCheck,
  quotaCheck,
  credentialsCheck,
  previousKeyCheck,
  smtpLoginCheck,
  webhookCheck,
  ecsServicesCheck,
];

/**
 * The checks the frequent run does too (hourly by default; its event and metrics name it "quota",
 * all it checked once): what can stop every app's mail at any hour. The quota (a day's can go in
 * hours) and sending (AWS can pause an account; the quota's GetAccount read serves both); the
 * identity (deleted, or its default configuration set changed), the credentials (a key deleted or
 * deactivated) and the SMTP login (a password that no longer matches): each strands every app at
 * once, which a daily run would report up to a day later.
 */
export const FREQUENT_CHECKS: readonly Check[] = [
  identityCheck,
  sendingCheck,
  quotaCheck,
  credentialsCheck,
  smtpLoginCheck,
];

export interface CheckOutcome {
  readonly check: Check;
  readonly results: CheckResult[];
  /** The metric's value: see checkPassed. */
  readonly passed: boolean | undefined;
}

/**
 * A check, or a part of one, that an AWS call failed; undetermined when it failed for now. Doctor
 * reports its own checks' failures so too.
 */
export function couldNotRun(id: string, e: unknown): CheckResult {
  const transient = isTransientAwsError(e);
  return {
    id,
    status: 'fail',
    title: `${id} check could not run`,
    detail: `${(e as Error).name}: ${(e as Error).message}`,
    // Throttled, an AWS server error or the network, after the SDK's retries: nothing to change in
    // the credentials or permissions, which a refusal would need.
    fix: transient
      ? 'AWS throttled or failed the call, or the network did, after the retries: this says nothing of the environment; run the check again in a few minutes'
      : 'check the AWS credentials, Region and permissions',
    ...(transient && { undetermined: true as const }),
  };
}

/**
 * `part`'s results; when an AWS call in it fails for now (throttled, a server or network error
 * after the SDK's retries), an undetermined result for `id` instead, so that what the rest of the
 * check found still stands (a paused account beside a throttled configuration-set read). Any
 * other error fails the whole check, as before.
 */
async function partly(id: string, part: () => Promise<CheckResult | CheckResult[]>): Promise<CheckResult[]> {
  try {
    return [await part()].flat();
  } catch (e) {
    if (!isTransientAwsError(e)) throw e;
    return [couldNotRun(id, e)];
  }
}

/**
 * Whether a check's results pass: false when one is fail or warn, unless every such result only
 * could not look (undetermined); then, or when an info result could not tell, undefined (no
 * verdict: the health-check function publishes no data point); true otherwise.
 */
export function checkPassed(results: readonly CheckResult[]): boolean | undefined {
  const problems = results.filter((r) => r.status === 'fail' || r.status === 'warn');
  if (problems.some((r) => !r.undetermined)) return false;
  return results.some((r) => r.undetermined) ? undefined : true;
}

/**
 * Runs `checks` one after another (a user watching doctor sees progress). A check that throws
 * becomes one failed result naming the error (name and message only, never request parameters),
 * unless `stops` says the error ends the run (doctor: no credentials, where every check would fail
 * the same way): then it is thrown.
 */
export async function runChecks(
  run: CheckRun,
  checks: readonly Check[] = CHECKS,
  onProgress: (check: Check) => void = () => undefined,
  onDone: (outcome: CheckOutcome) => void = () => undefined,
  stops: (error: unknown) => boolean = () => false,
): Promise<CheckOutcome[]> {
  const outcomes: CheckOutcome[] = [];
  for (const check of checks) {
    if (check.appliesTo && !check.appliesTo(run.target)) continue;
    onProgress(check);
    let results: CheckResult[];
    try {
      results = await check.run(run);
    } catch (e) {
      if (stops(e)) throw e;
      results = [couldNotRun(check.id, e)];
    }
    const outcome = { check, results, passed: checkPassed(results) };
    onDone(outcome);
    outcomes.push(outcome);
  }
  return outcomes;
}
