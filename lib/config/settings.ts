/*
 * The settings of one environment as a library user writes them (SesSmtp's props), spelled out
 * with their documentation and defaults for editors. The zod schema in schema.ts is what checks
 * them; `SettingsMatchTheSchema` (test/config/settings.test.ts, outside the package's declarations)
 * fails the type-check when the two differ in any field.
 */

/** Warning and critical alarm levels, percent: 0 < warning < critical < the limit named. */
export interface AlarmLevels {
  /** The level of the warning alarm. */
  readonly warning: number;
  /** The level of the critical alarm, above `warning`. */
  readonly critical: number;
}

/** DNS records written into a Route53 public hosted zone. */
export interface Route53DnsSettings {
  /** The records go into a Route53 hosted zone. */
  readonly mode: 'route53';
  /**
   * Id of the public hosted zone that holds the domain, like "Z0123456789ABCDEFGHIJ" (no lookup
   * happens at synth); the "/hostedzone/Z..." form of `aws route53 list-hosted-zones` is accepted.
   */
  readonly hostedZoneId: string;
  /** Name of that hosted zone: the domain itself or one of its parents. */
  readonly zoneName: string;
  /**
   * TTL of every record written, in seconds (60 to 172800).
   * @default 3600
   */
  readonly ttlSeconds?: number;
}

/** DNS records printed (stack outputs, `ses-smtp dns`) for another DNS provider. */
export interface ManualDnsSettings {
  /** The records are printed, for you to publish at your DNS provider. */
  readonly mode: 'manual';
  /**
   * TTL suggested in the zone-file lines, in seconds (60 to 172800).
   * @default 3600
   */
  readonly ttlSeconds?: number;
}

export interface MailFromSettings {
  /**
   * One DNS label under the domain: the MAIL FROM (envelope sender) domain, so SPF aligns for DMARC.
   * @default "mail"
   */
  readonly subdomain?: string;
  /**
   * What SES does with a send while the MAIL FROM domain is not verified (`PENDING`, `FAILED`,
   * `TEMPORARY_FAILURE`): send it from an amazonses.com MAIL FROM, or refuse it. A changed
   * `subdomain` is `PENDING` until SES finds its MX record: under "REJECT_MESSAGE" every send from
   * the domain is refused until then.
   * @see https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_MailFromAttributes.html
   * @default "USE_DEFAULT_VALUE"
   */
  readonly behaviorOnMxFailure?: 'USE_DEFAULT_VALUE' | 'REJECT_MESSAGE';
}

export interface DmarcSettings {
  /**
   * Write the `_dmarc` record; false when the domain already publishes one managed elsewhere.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * `p=`.
   * @default "quarantine"
   */
  readonly policy?: 'none' | 'quarantine' | 'reject';
  /**
   * `sp=`; left out of the record when not set, so subdomains inherit `policy`.
   * @default - inherits `policy`
   */
  readonly subdomainPolicy?: 'none' | 'quarantine' | 'reject';
  /**
   * `pct=`, 0 to 100.
   * @default 100
   */
  readonly percentage?: number;
  /**
   * `rua=`: report URIs (RFC 7489 §6.4, any scheme; RFC 3986 ASCII, other characters %-encoded,
   * a mailto: domain in Unicode taken in its punycode form)
   * like "mailto:dmarc@example.com!10m"; at most 10. An address at another organization's domain
   * gets reports only once that domain publishes TXT "v=DMARC1;" at
   * `<domain>._report._dmarc.<its domain>` (RFC 7489 §7.1): `ses-smtp dns` prints it.
   * @default []
   */
  readonly aggregateReportUris?: string[];
  /**
   * `ruf=`: failure report URIs, as `aggregateReportUris`.
   * @default []
   */
  readonly forensicReportUris?: string[];
  /**
   * `fo=`: when receivers send failure reports to `forensicReportUris` (RFC 7489 §6.3): "0" when
   * DKIM and SPF both fail to give an aligned pass, "1" when either does, "d" when DKIM fails, "s"
   * when SPF fails; several allowed. Left out of the record when not set (receivers take "0").
   * @default - receivers' default, "0"
   */
  readonly failureReportOptions?: ('0' | '1' | 'd' | 's')[];
  /**
   * `adkim=`.
   * @default "relaxed"
   */
  readonly dkimAlignment?: 'relaxed' | 'strict';
  /**
   * `aspf=`.
   * @default "relaxed"
   */
  readonly spfAlignment?: 'relaxed' | 'strict';
}

export interface ApexSpfSettings {
  /**
   * Write the domain's apex TXT record set: SPF with `include:amazonses.com`, and `otherTxtValues`.
   * @default false
   */
  readonly enabled?: boolean;
  /**
   * SPF terms for the domain's other senders (RFC 7208), like "include:_spf.google.com".
   * @default []
   */
  readonly otherMechanisms?: string[];
  /**
   * The record's final `all`.
   * @default "~all"
   */
  readonly all?: '~all' | '-all' | '?all';
  /**
   * Every other TXT value published at the apex (site verifications...), in printable ASCII:
   * Route53 holds one TXT record set per name.
   * @default []
   */
  readonly otherTxtValues?: string[];
}

export interface CredentialsSettings {
  /**
   * Days between automatic rotations of the SMTP credentials (2 to 1000: Secrets Manager may run
   * two daily rotations minutes apart).
   * @default 90
   */
  readonly rotationDays?: number;
  /**
   * Addresses the SMTP user may send from (IAM `ses:FromAddress`): exact addresses,
   * "*@example.com" or "*@*.example.com".
   * @default - every address at `domain`, and at `fromAddress`'s domain when that is a subdomain
   */
  readonly allowedFromAddresses?: string[];
  /**
   * A rotation does not delete a previous key SES used within this many days after the last
   * rotation replaced it, past a 2-hour grace (it stops and alarms: an app still sends with it),
   * nor one replaced less than this many days ago (an app that keeps the credentials it booted
   * with may not have sent since; this hold is at most `rotationDays` - 1, so a scheduled rotation,
   * which can come a day early, never meets it). 0 turns this guard off.
   * @default 7
   */
  readonly previousKeyQuietDays?: number;
  /**
   * Rotate even when the previous key is in use: the app still using it stops sending.
   * @default false
   */
  readonly rotateWhilePreviousKeyInUse?: boolean;
  /**
   * ECS services whose tasks are replaced (ECS UpdateService, forceNewDeployment) each time the
   * credentials change, by their long ARN, "arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE", in
   * the environment's account and Region: ECS reads a task's secrets only as it starts, and the
   * next rotation deletes the key a running task still has. An alarm tells of one not restarted.
   * @default []
   */
  readonly restartEcsServices?: string[];
}

export interface FeedbackSettings {
  /**
   * Events published besides bounces and complaints (always on).
   * @default []
   */
  readonly additionalEvents?: ('REJECT' | 'DELIVERY_DELAY' | 'RENDERING_FAILURE')[];
  /**
   * SES's JSON in the queue without the SNS envelope.
   * @default true
   */
  readonly rawMessageDelivery?: boolean;
  /**
   * Your app's https:// endpoint, subscribed to the feedback topic (SNS envelopes: verify them).
   * No password in it (`user:password@`): the template would hold it in plain text.
   * @default - none
   */
  readonly webhookUrl?: string;
  /**
   * An encrypted SQS queue for your app with the same events.
   * @default false
   */
  readonly appQueue?: boolean;
}

export interface AlarmsSettings {
  /**
   * Addresses subscribed to the operator alarm topic (each confirms the subscription).
   * @default []
   */
  readonly emails?: string[];
  /**
   * Create the alarms on account-wide figures: the account's reputation rates (SES's rates are
   * per account and Region), and the quota, send-rate and send anomaly alarms. One environment of
   * an account and Region should, or every alert arrives once per environment.
   * @default - true for a SesSmtp construct (keep it on one whose health checks are on: the quota, send-rate and anomaly alarms live in them); in the environments file, the first environment of its account and Region, among those with health checks if any has them
   */
  readonly accountAlarms?: boolean;
  /**
   * Bounce rate levels, percent, below 10 (AWS reviews an account at 5 %, may pause it at 10 %).
   * @default { warning: 2, critical: 5 }
   */
  readonly bounceRatePercent?: AlarmLevels;
  /**
   * Complaint rate levels, percent, below 0.5 (AWS reviews at 0.1 %, may pause at 0.5 %).
   * @default { warning: 0.05, critical: 0.1 }
   */
  readonly complaintRatePercent?: AlarmLevels;
}

export interface HealthSettings {
  /**
   * The doctor's checks on a schedule, with an alarm per check.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * EventBridge schedule expression of every check, like "rate(1 day)" or "cron(0 6 * * ? *)" (six
   * fields, "?" in exactly one of day-of-month and day-of-week).
   * @default "rate(1 day)"
   */
  readonly schedule?: string;
  /**
   * Schedule of the checks whose failure stops every app's mail at any hour, run on their own: the
   * identity, sending, quota, credentials and SMTP login checks (a day's quota can be used up
   * within hours, a key deleted at night would wait a day for the daily run).
   * @default "rate(1 hour)"
   */
  readonly quotaSchedule?: string;
  /**
   * An account in the SES sandbox fails the "sandbox" check; false for a staging environment.
   * @default true
   */
  readonly expectProductionAccess?: boolean;
  /**
   * Shares of the 24-hour sending quota that alarm, percent (critical at most 100).
   * @default { warning: 80, critical: 95 }
   */
  readonly quotaPercent?: AlarmLevels;
  /**
   * Share of the maximum send rate (busiest minute of the last hour) that alarms, percent.
   * @default 80
   */
  readonly sendRatePercent?: number;
  /**
   * Anomaly-detection alarm on the account's send volume (a leaked password sending spam).
   * @default true
   */
  readonly sendAnomalyDetection?: boolean;
}

/**
 * One environment's settings, as in the environments file (README "Configuration") minus
 * `account` and `region` (they come from the Stack the construct is added to) and the file app's
 * `terminationProtection`, `acknowledgedWarnings` and `github`.
 */
export interface SesSmtpSettings {
  /**
   * The sending domain (an SES domain identity), any letter case; punycode for a non-ASCII name. At
   * most 209 characters, as its DKIM CNAMEs and MAIL FROM name must fit DNS's 253.
   */
  readonly domain: string;
  /** Where the DNS records go: a Route53 hosted zone, or printed for another DNS provider. */
  readonly dns: Route53DnsSettings | ManualDnsSettings;
  /**
   * Default sender address, at the domain or one of its subdomains (RFC 5321), not at the MAIL FROM
   * domain: SES takes bounces there, and refuses it as a From domain while email feedback
   * forwarding is on (the identity's default, which the stack keeps).
   */
  readonly fromAddress: string;
  /**
   * The custom MAIL FROM domain (envelope sender), with its MX and SPF records.
   * @see https://docs.aws.amazon.com/ses/latest/dg/mail-from.html
   * @default { subdomain: "mail", behaviorOnMxFailure: "USE_DEFAULT_VALUE" }
   */
  readonly mailFrom?: MailFromSettings;
  /**
   * The domain's DMARC record at `_dmarc.<domain>`.
   * @see https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dmarc.html
   * @default - a `_dmarc` record with p=quarantine, relaxed alignment, no report URIs
   */
  readonly dmarc?: DmarcSettings;
  /**
   * An SPF record at the domain's apex, merged with its other apex TXT values.
   * @default - no apex TXT record
   */
  readonly apexSpf?: ApexSpfSettings;
  /**
   * Recipient addresses verified as SES email identities, to test while the account is in the
   * sandbox (the SMTP user may send to them).
   * @default []
   */
  readonly verifiedEmailAddresses?: string[];
  /**
   * The SMTP credentials: their rotation, and the addresses they may send from.
   * @see https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets.html
   * @default - rotation every 90 days, the stale-use guard at 7 days
   */
  readonly credentials?: CredentialsSettings;
  /**
   * Where SES's bounce and complaint events go besides the handler that suppresses recipients.
   * @default - bounces and complaints to the queue, raw
   */
  readonly feedback?: FeedbackSettings;
  /**
   * Who the alarms notify, and the bounce and complaint rate levels they alarm at.
   * @default - rate alarms at their default levels, no email subscription
   */
  readonly alarms?: AlarmsSettings;
  /**
   * The `ses-smtp doctor` checks, run on a schedule with an alarm per check.
   * @default - every check daily; the identity, sending, quota, credentials and SMTP login checks hourly
   */
  readonly health?: HealthSettings;
  /**
   * Tags on every resource: at most 49; keys not starting with "aws:", no two equal ignoring
   * letter case (IAM compares tag keys case-insensitively).
   * @default {}
   */
  readonly tags?: Record<string, string>;
  /**
   * `retain` keeps the identity, DNS records, SMTP user and keys, secret and its key when the
   * stack is deleted (the domain keeps sending); `destroy` removes them, keys first.
   * @default "retain"
   */
  readonly removalPolicy?: 'retain' | 'destroy';
}
