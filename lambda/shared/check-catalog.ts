/*
 * The catalog of health checks: stable ids (the metric's Check dimension) and what a failure means
 * and what to do (the alarm descriptions). Kept apart from the checks themselves so the CDK
 * constructs read it without loading the AWS SDK.
 */

export interface CheckInfo {
  /** Stable id: the metric's Check dimension and part of the alarm's name. */
  readonly id: string;
  /** What a failure means and what to do, for the alarm description and the runbook. */
  readonly runbook: string;
}

export const IDENTITY: CheckInfo = {
  id: 'identity',
  runbook:
    "SES refuses every send from the domain: it is no longer verified (by its DKIM CNAMEs), or its MAIL FROM domain is not while behaviorOnMxFailure is REJECT_MESSAGE; or the identity's default configuration set is no longer the stack's (SMTP mail's bounces and complaints reach no handler). Run `npx --no -- ses-smtp doctor` (or `ses-smtp dns --check`) for the missing record, publish it, wait (up to 72 hours). Configuration set: run the fix in the function's log.",
};

export const DKIM: CheckInfo = {
  id: 'dkim',
  runbook:
    "Easy DKIM is not verified, DKIM signing was turned off on the identity, or a DKIM CNAME is missing or wrong: mail is unsigned or fails DMARC and lands in spam, and SES may revoke the identity. Run `npx --no -- ses-smtp doctor` for the exact record, publish the three CNAMEs exactly as `ses-smtp dns` prints them; signing turned off: the fix in the function's log turns it back on (aws sesv2 put-email-identity-dkim-attributes --email-identity DOMAIN --region REGION --signing-enabled).",
};

export const MAIL_FROM: CheckInfo = {
  id: 'mail-from',
  runbook:
    "The custom MAIL FROM domain is not verified or its MX/SPF record is missing: SES falls back to amazonses.com as envelope sender (SPF no longer aligns for DMARC) or rejects mail if behaviorOnMxFailure is REJECT_MESSAGE. Run `npx --no -- ses-smtp doctor` and publish the MX and SPF TXT it names. Or the identity's MAIL FROM domain is not the one in the settings (changed outside the stack, which a deploy does not change back): run the fix in the function's log.",
};

export const DMARC: CheckInfo = {
  id: 'dmarc',
  runbook:
    'The DMARC record (or the apex SPF record the stack manages) is missing, duplicated or different from the configuration: receivers may quarantine or reject the mail. Run `npx --no -- ses-smtp doctor` and publish exactly one record as `ses-smtp dns` prints it.',
};

export const DMARC_REPORTS: CheckInfo = {
  id: 'dmarc-reports',
  runbook:
    "A DMARC report address (rua=, ruf=) at another organization's domain has not consented in that domain's DNS (RFC 7489 §7.1): mail flows, but receivers send that address no report, and nothing else tells you. Have that domain publish the TXT record `npx --no -- ses-smtp dns --check` names (so does this function's log; a report service adds it when your domain is added to its account), or send the reports to an address of your own domain.",
};

export const SENDING: CheckInfo = {
  id: 'sending',
  runbook:
    'Sending is disabled for the account or the configuration set (SMTP answers "Account/Configuration set sending paused"), or AWS put the account under review. If you paused it (ses-smtp pause), run `npx --no -- ses-smtp resume` with the same `--scope`; otherwise read the SES console account dashboard and your support cases, fix the cause (bounce/complaint rates), then resume. Or the set lost its reputation metrics (rate alarms stay OK) or its SNS event destination (no feedback handled): run the AWS CLI call the log gives.',
};

export const SANDBOX: CheckInfo = {
  id: 'sandbox',
  runbook:
    'The account is still in the SES sandbox in this Region: mail reaches only verified addresses, at most 200 a day. Run `npx --no -- ses-smtp request-production-access` (or answer the open case); for a staging environment that only mails verified addresses, set health.expectProductionAccess to false.',
};

export const QUOTA: CheckInfo = {
  id: 'quota',
  runbook:
    'Sending is close to the 24-hour quota or the maximum send rate: past it SES answers "Daily message quota exceeded" / "Maximum sending rate exceeded" and the app fails to send. Find what sends more than usual (a loop, a bulk job, or a leaked password: see the runbook), and ask for a higher quota in Service Quotas before you hit it.',
};

export const CREDENTIALS: CheckInfo = {
  id: 'credentials',
  runbook:
    "The credentials secret holds no SMTP credentials (the first rotation never finished), its access key was deleted or deactivated in IAM, or the SMTP user has no IAM policy (SES refuses every app: 535 or 554), or its rotation is off, or behind the schedule (a rotation is failing: read the rotation function's logs for the reason, fix it, then run `npx --no -- ses-smtp rotate`). A deactivated key, a lost policy, or rotation off: the check's fix (this function's log, or doctor) names the command that turns it back on.",
};

export const PREVIOUS_KEY: CheckInfo = {
  id: 'previous-key',
  runbook:
    'An app still sends with the PREVIOUS SMTP credentials (the key AWSPREVIOUS holds, or one the secret no longer names). The next rotation will not delete that key and will fail (credentials.rotateWhilePreviousKeyInUse off), or, if that setting is on, the app stops sending. Find the app (the key id is its SMTP username, e.g. in its .env or Heroku config), make it read the current credentials (`npx --no -- ses-smtp env`), then watch this check turn OK once the old key is unused for the quiet period.',
};

export const SMTP_LOGIN: CheckInfo = {
  id: 'smtp-login',
  runbook:
    "The hourly SMTP login with the current credentials (connect, STARTTLS, AUTH at the Region's SMTP endpoint, as an app does) failed: apps that read the secret cannot send. 535 Authentication Credentials Invalid: the secret's password is not its key's SMTP password (edited by hand? it is derived from the secret access key): run `npx --no -- ses-smtp rotate`, which writes a matching pair. A connection failure: the function's log names the stage; run `npx --no -- ses-smtp doctor`, which logs in from your machine.",
};

export const WEBHOOK: CheckInfo = {
  id: 'webhook',
  runbook:
    "The app's webhook (feedback.webhookUrl) gets no bounce or complaint and nothing else says so (no delivery fails, its dead-letter queue stays empty): its subscription was never confirmed (the app was not deployed yet, or ignored SNS's SubscriptionConfirmation) or was deleted, or the AppWebhook event destination was disabled or deleted. The app confirms by visiting that message's SubscribeURL; `npx --no -- ses-smtp doctor` and the function's log give the commands.",
};

export const ECS_SERVICES: CheckInfo = {
  id: 'ecs-services',
  runbook:
    "An ECS service to restart after each rotation (credentials.restartEcsServices, restartOnRotation) does not exist or is not ACTIVE: the restart function only logs a warning for it, so its tasks keep the previous SMTP key, which the next rotation deletes (unless SES saw it in use): the app then fails with 535. The function's log (or `npx --no -- ses-smtp doctor`) names the ARN: correct it in credentials.restartEcsServices or the restartOnRotation call and deploy, or deploy the service.",
};

/** Every check, in the order doctor prints them (the SMTP login: doctor's own, from where it runs). */
export const CHECK_CATALOG: readonly CheckInfo[] = [
  IDENTITY,
  DKIM,
  MAIL_FROM,
  DMARC,
  DMARC_REPORTS,
  SENDING,
  SANDBOX,
  QUOTA,
  CREDENTIALS,
  PREVIOUS_KEY,
  SMTP_LOGIN,
  WEBHOOK,
  ECS_SERVICES,
];
