import type { SmtpEndpoint } from './smtp-login';

/*
 * SES's SMTP answers and errors mapped to the troubleshooting guide's advice, for the CLI's
 * send-test and doctor and for the scheduled SMTP login check. Apart from the mail transport, so
 * the health-check function's bundle holds no more of nodemailer than the SMTP connection.
 */

/** What went wrong talking to SES over SMTP, with the fix from the troubleshooting guide. */
export interface SmtpDiagnosis {
  readonly stage: 'connect' | 'tls' | 'auth' | 'send';
  readonly detail: string;
  readonly fix: string;
}

type SmtpError = Error & { code?: string; responseCode?: number; response?: string };

/** The message being sent, when the failure came from a send (not only a login). */
export interface SentMessage {
  readonly from: string;
  readonly to: string;
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/** The identity is the recipient's address or domain, and not the sender's. */
function isRecipientIdentity(identity: string, message: SentMessage | undefined): boolean {
  if (!message) return false;
  const id = identity.toLowerCase();
  const recipient = id === message.to.toLowerCase() || id === domainOf(message.to);
  const sender = id === message.from.toLowerCase() || id === domainOf(message.from);
  return recipient && !sender;
}

/**
 * SES's 554 refusals of a send, mapped to the setting that fixes them: "not authorized to perform
 * ses:SendRawEmail" on the sender's identity (the From address is outside the user's
 * `ses:FromAddress` condition: `credentials.allowedFromAddresses`) or on the recipient's
 * identity (the sandbox authorizes recipients too: `verifiedEmailAddresses`, or production
 * access); "Email address is not verified" for a recipient (sandbox) or for the sender.
 * Undefined for any other reply.
 */
export function diagnoseRefusal(reply: string, message?: SentMessage): SmtpDiagnosis | undefined {
  const sandbox =
    'the account is in the SES sandbox, where SES authorizes recipients too: add the recipient to verifiedEmailAddresses in the config and deploy, or request production access (ses-smtp request-production-access)';
  const detail = reply.slice(0, 400);
  if (/not authorized to perform\W+ses:SendRawEmail/i.test(reply)) {
    const identity = /on resource\W+arn:[\w-]+:ses:[^:]*:\d*:identity\/([^`'"\s]+)/i.exec(reply)?.[1];
    if (identity && isRecipientIdentity(identity, message)) return { stage: 'send', detail, fix: sandbox };
    if (!identity && /:configuration-set\//i.test(reply)) {
      return {
        stage: 'send',
        detail,
        fix: "the message names a configuration set the SMTP user may not use: drop the X-SES-CONFIGURATION-SET header (the identity's default set applies)",
      };
    }
    if (identity) {
      const from = message ? ` (${message.from})` : '';
      return {
        stage: 'send',
        detail,
        fix: `the SMTP user may not send as this From address${from}: add it, or "*@${message ? domainOf(message.from) : 'your-domain'}", to credentials.allowedFromAddresses in the config and deploy`,
      };
    }
    return {
      stage: 'send',
      detail,
      fix: `the SMTP user's policy refused the send: a From address outside credentials.allowedFromAddresses, or (in the sandbox) a recipient not in verifiedEmailAddresses; change that setting in the config and deploy`,
    };
  }
  if (/Email address is not verified/i.test(reply)) {
    const failed = /failed the check in region [\w-]+:\s*(.+)$/i.exec(reply)?.[1]?.split(/[\s,]+/) ?? [];
    const senderFailed =
      message !== undefined &&
      failed.some(
        (f) => f.toLowerCase() === message.from.toLowerCase() || f.toLowerCase() === domainOf(message.from),
      );
    if (senderFailed && !failed.some((f) => isRecipientIdentity(f, message))) {
      return {
        stage: 'send',
        detail,
        fix: `the sender's identity (${message!.from}) is not verified in this Region: run ses-smtp doctor to see why (DKIM records), or check fromAddress and region in the config`,
      };
    }
    return { stage: 'send', detail, fix: sandbox };
  }
  return undefined;
}

/** An SMTP reply code of 4xx: SES's "try again later" (throttling, a temporary failure), not a verdict. */
export function isTemporaryReply(error: unknown): boolean {
  const e = error as { responseCode?: number; response?: string };
  const code = e.responseCode ?? Number(/^(\d{3})/.exec(e.response ?? '')?.[1]);
  return code >= 400 && code < 500;
}

/** Maps a nodemailer error to the guide's troubleshooting advice. Never includes credentials. */
export function diagnose(
  error: unknown,
  endpoint: SmtpEndpoint,
  secretRegion?: string,
  message?: SentMessage,
): SmtpDiagnosis {
  const e = error as SmtpError;
  const fullReply = (e.response ?? e.message ?? '').split('\n')[0];
  const reply = fullReply.slice(0, 400);
  const where = `${endpoint.host}:${endpoint.port}`;
  const network = ['ETIMEDOUT', 'ECONNECTION', 'ESOCKET', 'EDNS'].includes(e.code ?? '');
  if (network && /ENOTFOUND|EAI_AGAIN|EDNS/.test(`${e.code} ${e.message}`)) {
    return {
      stage: 'connect',
      detail: `cannot resolve ${endpoint.host}`,
      fix: 'check the host name (email-smtp.<region>.amazonaws.com) and the DNS of this machine',
    };
  }
  if (network && /ECONNREFUSED/.test(e.message)) {
    return {
      stage: 'connect',
      detail: `connection refused by ${where}`,
      fix: 'check the host and port; SES listens on 25, 587 and 2587 (STARTTLS) and 465/2465 (TLS)',
    };
  }
  // Before the firewall's answer: nodemailer reports a certificate it does not trust, and a
  // handshake that fails, as ESOCKET too.
  if (e.code === 'ETLS' || /certificate|TLS|SSL/i.test(e.message)) {
    // OpenSSL's "wrong version number": one side spoke TLS at once, the other plain SMTP first.
    const wrongMode = /wrong version number|packet length too long/i.test(e.message);
    return {
      stage: 'tls',
      detail: `${endpoint.implicitTls ? 'TLS' : 'STARTTLS'} failed: ${e.message.slice(0, 120)}`,
      fix: wrongMode
        ? `port ${endpoint.port} does not speak ${endpoint.implicitTls ? 'TLS from the first byte' : 'STARTTLS'}: SES speaks STARTTLS on 25, 587 and 2587 and TLS from the first byte on 465 and 2465`
        : 'a proxy or firewall may intercept TLS; trust its CA with --smtp-ca FILE, or connect directly',
    };
  }
  if (network) {
    return {
      stage: 'connect',
      detail: `no answer from ${where} (${e.code === 'ETIMEDOUT' ? 'connection timeout' : e.message.slice(0, 80)})`,
      fix: `outbound port ${endpoint.port} is probably blocked by a firewall, security group or your host (many block 25; some block 587): allow egress to ${endpoint.host}:${endpoint.port}, or use port 2587`,
    };
  }
  // nodemailer reports every answer to AUTH but a 2xx as EAUTH: a 4xx there is SES asking to try
  // again later (the guide: retry 4xx), not a refusal of the credentials.
  if (e.code === 'EAUTH' && isTemporaryReply(e)) {
    return {
      stage: 'auth',
      detail: `login deferred (${reply})`,
      fix: 'SES asks to try again later (a 4xx reply: throttling or a temporary failure), it did not refuse the credentials: try again in a few minutes',
    };
  }
  if (e.code === 'EAUTH' || e.responseCode === 535) {
    const regionHint =
      secretRegion && !endpoint.host.includes(secretRegion)
        ? ` The credentials are for ${secretRegion} but the endpoint is ${endpoint.host}: SMTP passwords are per Region.`
        : ' SMTP passwords are per Region: the endpoint must be in the Region the password was made for.';
    return {
      stage: 'auth',
      detail: `authentication rejected (${reply})`,
      fix: `use the SMTP password from the secret (it is derived from the IAM secret access key, not the key itself) with the access key id as user name.${regionHint}`,
    };
  }
  const refusal = diagnoseRefusal(fullReply, message);
  if (refusal) return refusal;
  // SES's refusal while a sending switch is off: "Sending paused for this account", or for the
  // configuration set the mail goes through (the identity's default).
  if (/sending paused/i.test(reply)) {
    return {
      stage: 'send',
      detail: reply,
      fix: 'sending is paused for the account or for the configuration set the mail goes through (by ses-smtp pause, or by AWS after a review): ses-smtp doctor says which; if you paused it, ses-smtp resume with the same --scope turns it back on',
    };
  }
  if (/Daily message quota exceeded/i.test(reply)) {
    return {
      stage: 'send',
      detail: reply,
      fix: 'the 24-hour sending quota is used up: wait, or ask AWS for a higher quota (Service Quotas, "Sending quota")',
    };
  }
  if (/Maximum sending rate exceeded|Throttling/i.test(reply)) {
    return {
      stage: 'send',
      detail: reply,
      fix: 'too many messages per second: slow the app down or ask AWS for a higher sending rate',
    };
  }
  return {
    stage: 'send',
    detail: reply || e.message.slice(0, 200),
    fix: 'see https://docs.aws.amazon.com/ses/latest/dg/troubleshoot-smtp.html',
  };
}
