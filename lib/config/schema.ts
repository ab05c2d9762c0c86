import { z } from 'zod';

/*
 * The environments file, as one zod schema. The app validates with it, and
 * `npm run schema` turns it into config/environments.schema.json for editors, so the two
 * cannot drift apart.
 *
 * Convention for error texts given here: they complete the sentence "expected ...", because
 * the loader prints every problem as `got <value>, expected <text>`.
 */

/** z.strictObject whose unknown-key error lists the fields that are allowed. */
function strict<T extends z.core.$ZodLooseShape>(shape: T) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `a known field (one of: ${allowed})` : undefined),
  });
}

/** A string matching `re`; `expected` is used both when it is not a string and when it does not match. */
function text(re: RegExp, expected: string) {
  return z.string({ error: expected }).regex(re, { error: expected });
}

const DOMAIN_RE = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const EMAIL_RE =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// One SPF mechanism or modifier other than "all", "redirect=" and the leading "v=spf1".
const SPF_TERM_RE =
  /^[+?~-]?(include:\S+|a(:\S+)?(\/\d+)?|mx(:\S+)?(\/\d+)?|ptr(:\S+)?|ip4:\S+|ip6:\S+|exists:\S+|exp=\S+)$/;

export const domainName = text(
  DOMAIN_RE,
  'a lower-case domain name without a trailing dot, like "example.com"',
);

export const emailAddress = text(
  EMAIL_RE,
  'an email address with a lower-case domain, like "no-reply@example.com"',
);

const Route53Dns = strict({
  mode: z.literal('route53'),
  /** Id of the public hosted zone that holds the domain (no lookup happens at synth). */
  hostedZoneId: text(/^Z[A-Z0-9]{1,31}$/, 'a Route53 hosted zone id like "Z0123456789ABCDEFGHIJ"'),
  /** Name of that hosted zone: the domain itself or one of its parents. */
  zoneName: domainName,
  /** TTL of every record this stack writes, in seconds. */
  ttlSeconds: z.number().int().min(60).max(172800).default(3600),
});

const ManualDns = strict({
  mode: z.literal('manual'),
  /** TTL suggested in the zone-file lines the stack outputs, in seconds. */
  ttlSeconds: z.number().int().min(60).max(172800).default(3600),
});

const MailFrom = strict({
  /** Label under the domain used as the MAIL FROM (envelope sender) domain. */
  subdomain: text(LABEL_RE, 'one DNS label like "mail" (a-z, 0-9, "-")').default('mail'),
  /** What SES does when the MAIL FROM MX record cannot be found at send time. */
  behaviorOnMxFailure: z.enum(['USE_DEFAULT_VALUE', 'REJECT_MESSAGE']).default('USE_DEFAULT_VALUE'),
});

const DmarcReportUri = text(
  /^mailto:[^\s@,;!]+@[^\s@,;!]+\.[^\s@,;!]+$/,
  'a "mailto:" URI like "mailto:dmarc@example.com"',
);

const Dmarc = strict({
  /** Set to false when the domain already publishes a DMARC record managed elsewhere. */
  enabled: z.boolean().default(true),
  policy: z.enum(['none', 'quarantine', 'reject']).default('quarantine'),
  /** Policy for subdomains ("sp="); omitted from the record when not set, so subdomains inherit `policy`. */
  subdomainPolicy: z.enum(['none', 'quarantine', 'reject']).optional(),
  /** Percentage of failing mail the policy applies to ("pct="). */
  percentage: z.number().int().min(0).max(100).default(100),
  /** Aggregate report destinations ("rua="). */
  aggregateReportUris: z.array(DmarcReportUri).max(10).default([]),
  /** Forensic (failure) report destinations ("ruf="). */
  forensicReportUris: z.array(DmarcReportUri).max(10).default([]),
  /** DKIM alignment ("adkim="): relaxed or strict. */
  dkimAlignment: z.enum(['relaxed', 'strict']).default('relaxed'),
  /** SPF alignment ("aspf="): relaxed or strict. */
  spfAlignment: z.enum(['relaxed', 'strict']).default('relaxed'),
});

const ApexSpf = strict({
  /** Write the domain's apex TXT record set (SPF plus every other apex TXT value). */
  enabled: z.boolean().default(false),
  /** SPF mechanisms the domain already uses for other senders, like "include:_spf.google.com". */
  otherMechanisms: z
    .array(text(SPF_TERM_RE, 'an SPF mechanism like "include:_spf.google.com" or "ip4:192.0.2.0/24"'))
    .default([]),
  /** The final "all" qualifier. */
  all: z.enum(['~all', '-all', '?all']).default('~all'),
  /** Every other TXT value already published at the apex (site verifications...), kept in the same record set. */
  otherTxtValues: z.array(z.string().min(1).max(4000)).default([]),
});

const Credentials = strict({
  /** Days between automatic rotations of the SMTP credentials. */
  rotationDays: z.number().int().min(1).max(1000).default(90),
  /**
   * Addresses the SMTP user may send from (the IAM `ses:FromAddress` condition). "*" may stand for
   * the local part, like "*@example.com". Default: the environment's `fromAddress` only.
   */
  allowedFromAddresses: z
    .array(
      text(
        /^(\*|[A-Za-z0-9.!#$%&'+/=?^_`{|}~-]{1,64})@[a-z0-9.-]+$/,
        'an email address, or "*@" and a domain',
      ),
    )
    .min(1)
    .optional(),
  /**
   * Days without SES use after which the previous key may be deleted by a rotation. A key SES used
   * more recently is still in an app: the rotation stops and alarms instead. 0 turns the guard off.
   */
  previousKeyQuietDays: z.number().int().min(0).max(365).default(7),
  /** Rotate even when the previous key is still in use (the app using it stops sending). */
  rotateWhilePreviousKeyInUse: z.boolean().default(false),
});

const Threshold = (what: string, max: number) =>
  strict({
    warning: z.number().gt(0).lt(max),
    critical: z.number().gt(0).lt(max),
  }).describe(what);

const Alarms = strict({
  /** Email addresses subscribed to the operator alarm topic (each must confirm the subscription). */
  emails: z.array(emailAddress).default([]),
  /** Bounce rate alarm levels in percent (AWS reviews an account at 5 %, may pause it at 10 %). */
  bounceRatePercent: Threshold('bounce rate, percent', 10).default({ warning: 2, critical: 5 }),
  /** Complaint rate alarm levels in percent (AWS reviews an account at 0.1 %, may pause it at 0.5 %). */
  complaintRatePercent: Threshold('complaint rate, percent', 0.5).default({ warning: 0.05, critical: 0.1 }),
});

const SCHEDULE = text(
  /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(\S+ \S+ \S+ \S+ \S+ \S+\))$/,
  'an EventBridge schedule expression like "rate(1 day)", "rate(6 hours)" or "cron(0 6 * * ? *)"',
);

const Health = strict({
  /** Run the health checks on a schedule, with an alarm per check. */
  enabled: z.boolean().default(true),
  /** When every check runs. */
  schedule: SCHEDULE.default('rate(1 day)'),
  /** When the quota check runs on its own: a day's quota can be used up within hours. */
  quotaSchedule: SCHEDULE.default('rate(1 hour)'),
  /** An account still in the SES sandbox fails the "sandbox" check (false for a staging environment). */
  expectProductionAccess: z.boolean().default(true),
  /** Shares of the 24-hour sending quota that raise the warning and critical alarms, percent. */
  quotaPercent: Threshold('24-hour quota used, percent', 100).default({ warning: 80, critical: 95 }),
  /** Share of the maximum send rate (peak minute of the last hour) that raises an alarm, percent. */
  sendRatePercent: z.number().gt(0).max(100).default(80),
  /** Anomaly-detection alarm on the account's send volume (a leaked password sending spam). */
  sendAnomalyDetection: z.boolean().default(true),
});

const Feedback = strict({
  /** Events published besides BOUNCE and COMPLAINT (which are always on). */
  additionalEvents: z.array(z.enum(['REJECT', 'DELIVERY_DELAY', 'RENDERING_FAILURE'])).default([]),
  /** Deliver SES's JSON to the queue without the SNS envelope. */
  rawMessageDelivery: z.boolean().default(true),
  /** The app's own HTTPS endpoint subscribed to the feedback topic. */
  webhookUrl: text(/^https:\/\/[^\s/]+(\/\S*)?$/, 'an https:// URL').optional(),
  /** Also create a queue for the app that receives the same events. */
  appQueue: z.boolean().default(false),
});

export const EnvironmentSchema = strict({
  /** AWS account id the environment deploys to. */
  account: text(/^\d{12}$/, 'a 12-digit AWS account id'),
  /** AWS Region; SES must offer SMTP there. */
  region: text(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'an AWS Region like "eu-west-1"'),
  /** The sending domain (an SES domain identity). */
  domain: domainName,
  /** Where the DNS records go: a Route53 hosted zone, or printed for another DNS provider. */
  dns: z.discriminatedUnion('mode', [Route53Dns, ManualDns], {
    error: 'an object with "mode": "route53" (plus hostedZoneId and zoneName) or "mode": "manual"',
  }),
  /** Default sender address, at the domain or one of its subdomains. */
  fromAddress: emailAddress,
  mailFrom: MailFrom.default({ subdomain: 'mail', behaviorOnMxFailure: 'USE_DEFAULT_VALUE' }),
  dmarc: Dmarc.default({
    enabled: true,
    policy: 'quarantine',
    percentage: 100,
    aggregateReportUris: [],
    forensicReportUris: [],
    dkimAlignment: 'relaxed',
    spfAlignment: 'relaxed',
  }),
  apexSpf: ApexSpf.default({ enabled: false, otherMechanisms: [], all: '~all', otherTxtValues: [] }),
  /** Recipient addresses verified as SES email identities, for testing while the account is in the sandbox. */
  verifiedEmailAddresses: z.array(emailAddress).default([]),
  credentials: Credentials.default({
    rotationDays: 90,
    previousKeyQuietDays: 7,
    rotateWhilePreviousKeyInUse: false,
  }),
  feedback: Feedback.default({ additionalEvents: [], rawMessageDelivery: true, appQueue: false }),
  alarms: Alarms.default({
    emails: [],
    bounceRatePercent: { warning: 2, critical: 5 },
    complaintRatePercent: { warning: 0.05, critical: 0.1 },
  }),
  health: Health.default({
    enabled: true,
    schedule: 'rate(1 day)',
    quotaSchedule: 'rate(1 hour)',
    expectProductionAccess: true,
    quotaPercent: { warning: 80, critical: 95 },
    sendRatePercent: 80,
    sendAnomalyDetection: true,
  }),
  /** Tags put on every resource of the environment's stack. */
  tags: z.record(text(/^[\w.:/=+@ -]{1,128}$/, 'a tag key'), z.string().max(256)).default({}),
  /** "retain" keeps the identity, DNS records, secret and keys when the stack is deleted. */
  removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
});

export const ConfigFileSchema = strict({
  $schema: z.string().optional(),
  /** Regions to accept besides the built-in list of SES SMTP Regions. */
  additionalSmtpRegions: z
    .array(text(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'an AWS Region like "eu-west-1"'))
    .default([]),
  environments: z
    .record(
      text(/^[a-z][a-z0-9-]{0,30}$/, 'an environment name: a-z, 0-9 and "-", starting with a letter'),
      EnvironmentSchema,
    )
    .refine((envs) => Object.keys(envs).length > 0, 'at least one environment'),
});

export type EnvironmentConfig = z.output<typeof EnvironmentSchema>;
export type DnsConfig = EnvironmentConfig['dns'];
export type DmarcConfig = EnvironmentConfig['dmarc'];
export type ApexSpfConfig = EnvironmentConfig['apexSpf'];
export type AlarmsConfig = EnvironmentConfig['alarms'];
export type FeedbackConfig = EnvironmentConfig['feedback'];
export type HealthConfig = EnvironmentConfig['health'];
export type ConfigFile = z.output<typeof ConfigFileSchema>;
