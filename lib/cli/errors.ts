import { isThrottlingError, NETWORK_ERRORS, TLS_ERRORS } from '../../lambda/shared/aws-errors';
import { shellOption } from './shell';

/** A mistake in how the CLI was called or configured: one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A check or action that failed for a reason the message explains: exit code 1. */
export class CheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailed';
  }
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** What the CLI prints for an error: one line, and the exit code. */
export interface Failure {
  readonly message: string;
  readonly exit: (typeof EXIT)[keyof typeof EXIT];
  /** Not an error the CLI knows: SES_SMTP_DEBUG=1 adds the stack trace. */
  readonly unexpected?: boolean;
}

interface AwsLikeError {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  /** The host a network error names (Node's getaddrinfo errors). */
  readonly hostname?: string;
  /** What `new URL` could not parse (ERR_INVALID_URL). */
  readonly input?: string;
  readonly $fault?: 'client' | 'server';
  readonly $retryable?: { throttling?: boolean };
  readonly $metadata?: { httpStatusCode?: number; requestId?: string };
}

const CREDENTIALS_MISSING = /Could not load credentials|Unable to locate credentials|no credentials/i;
const CREDENTIALS_EXPIRED = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'TokenRefreshRequired',
  'RequestExpired',
]);
const CREDENTIALS_INVALID = new Set([
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
]);
/** A resource AWS does not have: a name mistyped, another Region or account, or deleted. */
const NOT_FOUND = new Set([
  'ResourceNotFoundException',
  'NotFoundException',
  'NoSuchEntity',
  'NoSuchEntityException',
]);
const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'NotAuthorized',
]);

/** An AWS refusal of the call itself (a policy), not of the credentials (missing, expired, invalid). */
export function isAccessDenied(error: unknown): boolean {
  const e = error as AwsLikeError | undefined;
  if (e?.$metadata === undefined) return false;
  const name = e.name ?? e.code ?? '';
  if (CREDENTIALS_EXPIRED.has(name) || CREDENTIALS_INVALID.has(name)) return false;
  return ACCESS_DENIED.has(name) || e.$metadata.httpStatusCode === 403;
}

const firstLine = (text: string | undefined) => (text ?? '').split('\n')[0].trim().slice(0, 300);

/**
 * An error as the reason inside a longer line: its AWS name (or a network error's code, such as
 * ECONNRESET) and its message's first line, without describeError's advice (for a command that
 * says itself what to do next).
 */
export function errorLine(error: unknown): string {
  const { name = 'Error', message, code } = (error ?? {}) as AwsLikeError;
  return `${name === 'Error' && code ? code : name}: ${firstLine(message)}`;
}

/**
 * Maps anything a command throws to one line and an exit code: the CLI's own errors as they
 * are, credential problems as configuration errors (2), AWS refusals and failures as failures (1)
 * with what to do, and anything else as one line (1) without a stack trace.
 */
export function describeError(
  error: unknown,
  command: string,
  /** AWS_PROFILE, named when no credentials come from it. */
  profile?: string,
): Failure {
  if (error instanceof UsageError) return { message: error.message, exit: EXIT.usage };
  if (error instanceof CheckFailed) return { message: error.message, exit: EXIT.failed };
  const e = (error ?? {}) as AwsLikeError;
  const name = e.name ?? 'Error';
  const text = firstLine(e.message);
  const request = e.$metadata?.requestId ? `, request id ${e.$metadata.requestId}` : '';

  const provider = name === 'CredentialsProviderError' || name === 'TokenProviderError';
  if (provider && /expired|refresh/i.test(text)) {
    return {
      exit: EXIT.usage,
      message: `AWS credentials expired (${text}): sign in again (aws sso login, or fresh temporary keys) and rerun`,
    };
  }
  if (provider || CREDENTIALS_MISSING.test(text)) {
    return {
      exit: EXIT.usage,
      // The SDK's message does not name the profile: a misspelt AWS_PROFILE looks like no credentials.
      message: profile
        ? `no AWS credentials found for profile ${JSON.stringify(profile)} (AWS_PROFILE): check that it exists (aws configure list-profiles) and is signed in (aws sso login ${shellOption('--profile', profile)}), or unset AWS_PROFILE`
        : 'no AWS credentials found: set AWS_PROFILE, run aws sso login, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
    };
  }
  // The SDK reads the web identity token file (GitHub Actions' OIDC, EKS) itself: a path that is
  // not there is a setting to fix, not a failure of the command's.
  const tokenFile = process.env.AWS_WEB_IDENTITY_TOKEN_FILE;
  if (tokenFile && (error as NodeJS.ErrnoException | undefined)?.path === tokenFile) {
    return {
      exit: EXIT.usage,
      message: `AWS_WEB_IDENTITY_TOKEN_FILE names a token file that cannot be read (${text}): fix the path, or unset AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN to use other credentials`,
    };
  }
  if (CREDENTIALS_EXPIRED.has(name)) {
    return {
      exit: EXIT.usage,
      message: `AWS credentials expired (${name}: ${text}): sign in again (aws sso login, or fresh temporary keys) and rerun`,
    };
  }
  if (CREDENTIALS_INVALID.has(name)) {
    return {
      exit: EXIT.usage,
      message: `AWS does not accept these credentials (${name}: ${text}): check AWS_PROFILE or the exported keys`,
    };
  }
  // The CLI checks every URL it is given: one the SDK cannot parse comes from its settings (an
  // endpoint, a container credentials URI), shown without a password it may hold.
  if (e.code === 'ERR_INVALID_URL') {
    return {
      exit: EXIT.usage,
      message: `the AWS SDK was given ${maskedUrl(String(e.input ?? ''))}, which is not a URL: fix or unset the setting that holds it (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>, AWS_CONTAINER_CREDENTIALS_FULL_URI, or the profile's endpoint_url)`,
    };
  }
  // Checked before AWS's answers: the SDK adds $metadata (attempts) to errors that never reached AWS too.
  if ((e.code && NETWORK_ERRORS.has(e.code)) || name === 'TimeoutError') {
    // An endpoint that does not resolve may name a Region AWS does not have (a typo in --region):
    // one SES has no SMTP endpoint in is named.
    const named =
      e.code === 'ENOTFOUND'
        ? /\.([a-z]{2,4}(?:-[a-z]+)?-[a-z]+-\d+)\.amazonaws\.com/.exec(`${e.hostname ?? ''} ${text}`)?.[1]
        : undefined;
    const region = named && !sesSmtpRegions().includes(named) ? named : undefined;
    return {
      exit: EXIT.failed,
      message: `cannot reach AWS (${e.code ?? name}: ${text}): check ${region ? `that ${region} is an AWS Region (--region), ` : ''}the network, proxy settings and any AWS_ENDPOINT_URL_* variable`,
    };
  }
  // Also before AWS's answers: no request reached AWS.
  if (e.code && TLS_ERRORS.has(e.code)) {
    const fix =
      e.code === 'EPROTO'
        ? 'an endpoint that does not speak TLS (an https:// AWS_ENDPOINT_URL* for a plain HTTP port, or a proxy setting): check them'
        : 'a proxy or firewall that intercepts TLS: trust its CA with NODE_EXTRA_CA_CERTS=FILE (the AWS SDK for JavaScript does not read AWS_CA_BUNDLE), or check any AWS_ENDPOINT_URL* variable';
    return {
      exit: EXIT.failed,
      message: `cannot reach AWS over TLS (${e.code}: ${text}): ${fix}`,
    };
  }
  // An answer the SDK could not parse (a proxy's or captive portal's page, a body cut short) is
  // not AWS's refusal. The parser's message quotes the body, where a secret's value may be: left out.
  if (/\bDeserialization error\b/.test(e.message ?? '')) {
    return {
      exit: EXIT.failed,
      message: `the answer to ${command} is not one AWS gives (the AWS SDK cannot read it, HTTP ${e.$metadata?.httpStatusCode ?? '?'}${request}): a proxy, a captive portal or an AWS_ENDPOINT_URL_* variable may answer instead of AWS; check them, then run it again`,
    };
  }
  if (e.$metadata !== undefined) {
    const status = e.$metadata.httpStatusCode;
    if (isAccessDenied(e)) {
      return {
        exit: EXIT.failed,
        message: `AWS denied ${command} (${name}: ${text}${request}): run it as an identity allowed to do this (AWS_PROFILE, or add the permission)`,
      };
    }
    if (isThrottlingError(e)) {
      return {
        exit: EXIT.failed,
        message: `AWS throttled ${command} after the SDK's retries (${name}${request}): wait a minute and run it again`,
      };
    }
    if (e.$fault === 'server' || (status !== undefined && status >= 500)) {
      return {
        exit: EXIT.failed,
        message: `AWS failed during ${command} (${name}, HTTP ${status ?? '?'}${request}): run it again; if it persists, check the AWS Health Dashboard`,
      };
    }
    if (NOT_FOUND.has(name)) {
      return {
        exit: EXIT.failed,
        message: `AWS has no such resource for ${command} (${name}: ${text}${request}): check the names given (--secret-id, --identity, --configuration-set, --user-name, --stack), the Region (--region) and that the credentials are for the account that has it`,
      };
    }
    return { exit: EXIT.failed, message: `AWS refused ${command}: ${name}: ${text}${request}` };
  }
  return {
    exit: EXIT.failed,
    unexpected: true,
    message: `${command} failed: ${text || name} (set SES_SMTP_DEBUG=1 for details)`,
  };
}

/** `url` quoted, its password hidden; the module loads when an error needs it, as below. */
function maskedUrl(url: string): string {
  // oxlint-disable-next-line typescript/no-require-imports
  const { maskUrlPassword } = require('../config/syntax') as typeof import('../config/syntax');
  return maskUrlPassword(JSON.stringify(url));
}

/** SES's SMTP Regions, loaded when an error needs them: `--help` loads no config module. */
function sesSmtpRegions(): readonly string[] {
  // oxlint-disable-next-line typescript/no-require-imports
  return (require('../config/smtp-regions') as typeof import('../config/smtp-regions')).SES_SMTP_REGIONS;
}
