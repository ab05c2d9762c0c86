import type { ConnectionOptions } from 'node:tls';
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { SMTPConnectionOptions } from 'nodemailer/lib/smtp-connection';

export interface SmtpEndpoint {
  readonly host: string;
  readonly port: number;
  /** Extra TLS options (a private CA for a test server or a proxy). @default - Node's defaults */
  readonly tls?: ConnectionOptions;
  /** Longest wait for the server at each step, and for a whole login. @default 10000 */
  readonly timeoutMs?: number;
  /**
   * TLS from the first byte (SES's "TLS Wrapper" ports 465 and 2465) instead of STARTTLS.
   * @default false
   */
  readonly implicitTls?: boolean;
}

/** SES's ports that speak TLS from the first byte; its others (25, 587, 2587) upgrade with STARTTLS. */
export const IMPLICIT_TLS_PORTS: readonly number[] = [465, 2465];
/** The ports SES's SMTP interface listens on (SES Developer Guide, "Connecting to an SMTP endpoint"). */
export const SES_SMTP_PORTS: readonly number[] = [25, 587, 2587, ...IMPLICIT_TLS_PORTS];

/** What a login does, for doctor's line and the scheduled check's. */
export function smtpLoginTitle(endpoint: SmtpEndpoint): string {
  return `SMTP ${endpoint.host}:${endpoint.port}: connect, ${endpoint.implicitTls ? 'TLS' : 'STARTTLS'}, AUTH with the current credentials`;
}

export interface SmtpCredentials {
  readonly username: string;
  readonly password: string;
}

/** The SMTP endpoint from a Lambda function's environment (SMTP_HOST, SMTP_PORT). */
export function smtpEndpointFromEnv(env: NodeJS.ProcessEnv): SmtpEndpoint {
  const host = env.SMTP_HOST;
  const port = Number(env.SMTP_PORT ?? '587');
  if (!host) throw new Error('SMTP_HOST is not set: the construct sets it to the Region SMTP endpoint');
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`SMTP_PORT must be a TCP port, got: ${env.SMTP_PORT}`);
  return { host, port, ...(IMPLICIT_TLS_PORTS.includes(port) && { implicitTls: true }) };
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * nodemailer connection options: STARTTLS required before AUTH, or TLS from the start on an
 * implicit-TLS port; TLS 1.2+ either way (credentials never cross in clear text), bounded waits,
 * no protocol logging.
 * https://docs.aws.amazon.com/ses/latest/dg/smtp-connect.html
 */
export function smtpConnectionOptions(endpoint: SmtpEndpoint): SMTPConnectionOptions {
  const timeout = endpoint.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    host: endpoint.host,
    port: endpoint.port,
    secure: endpoint.implicitTls ?? false,
    requireTLS: !endpoint.implicitTls,
    tls: { minVersion: 'TLSv1.2', ...endpoint.tls },
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    logger: false,
    debug: false,
  };
}

let smtpConnection: Promise<typeof SMTPConnection> | undefined;

/**
 * nodemailer's SMTP client, loaded on the first login rather than with the module: of the
 * rotation function's four steps only testSecret logs in, so createSecret (the step that meets a
 * cold start: the others follow it within seconds) does not parse and run it at init.
 */
function loadSmtpConnection(): Promise<typeof SMTPConnection> {
  return (smtpConnection ??= import('nodemailer/lib/smtp-connection').then((m) => m.default));
}

const REDACTED = '[redacted]';
/** A run of base64 characters long enough to hold a part of a password worth hiding. */
const BASE64_RUN = /[A-Za-z0-9+/]{8,}={0,2}/g;

/**
 * `error` (nodemailer's, from a login or a send) without the password in any form it crossed the
 * wire in: itself, base64 of it (AUTH LOGIN's line) and AUTH PLAIN's base64 of "\0user\0password",
 * whole or in part. nodemailer puts the server's reply into the error's message, `response` and
 * stack, and a server that quotes the line it refuses ("500 unrecognized command: <line>"; SES
 * does not, a relay on the way may) would put the password there: into the rotation's log, what
 * the Lambda runtime logs of a thrown error, a health check's detail and doctor's output. Every
 * string property is cleaned, in place; the error is returned.
 */
export function withoutCredentials<E>(error: E, credentials: SmtpCredentials): E {
  if (typeof error !== 'object' || error === null || !credentials.password) return error;
  const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  const forms = [
    base64(`\0${credentials.username}\0${credentials.password}`),
    base64(credentials.password),
    credentials.password,
  ];
  const clean = (text: string) =>
    forms
      .reduce((t, form) => t.split(form).join(REDACTED), text)
      .replace(BASE64_RUN, (run) =>
        forms.some((form) => form.includes(run.replace(/=+$/, ''))) ? REDACTED : run,
      );
  const target = error as Record<string, unknown>;
  for (const key of new Set(['message', 'stack', ...Object.keys(target)])) {
    const value = target[key];
    if (typeof value === 'string') target[key] = clean(value);
  }
  return error;
}

/**
 * Waits `ms`. The global timer, not node:timers/promises: jest's fake clock replaces this one, so
 * a test of a wait runs in no time and fails for a wait of another length.
 */
export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One SMTP login with nodemailer's SMTP connection (not the full mail transport: the Lambda
 * bundle stays small): connect, STARTTLS, AUTH (LOGIN or PLAIN, as the server offers), QUIT.
 * Resolves on success; rejects with nodemailer's error (its message carries the server's reply,
 * like "535 Authentication Credentials Invalid", without the password: withoutCredentials). The
 * whole login takes at most `timeoutMs`.
 */
export async function smtpLogin(endpoint: SmtpEndpoint, credentials: SmtpCredentials): Promise<void> {
  const Connection = await loadSmtpConnection();
  const timeout = endpoint.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise<void>((resolve, reject) => {
    const connection = new Connection(smtpConnectionOptions(endpoint));
    let settled = false;
    const finish = (error?: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        connection.close();
        reject(withoutCredentials(error, credentials));
      } else {
        connection.quit();
        resolve();
      }
    };
    const timer = setTimeout(
      () =>
        finish(
          Object.assign(
            new Error(`SMTP login to ${endpoint.host}:${endpoint.port} took over ${timeout} ms`),
            {
              code: 'ETIMEDOUT',
            },
          ),
        ),
      timeout,
    );
    // Kept for the connection's lifetime: an error after the login is settled must not crash.
    connection.on('error', (error: Error) => finish(error));
    connection.once('end', () => finish(new Error(`SMTP server ${endpoint.host} closed the connection`)));
    connection.connect((error) => {
      if (error) return finish(error);
      connection.login({ user: credentials.username, pass: credentials.password }, (loginError) =>
        finish(loginError),
      );
    });
  });
}

export interface RetryOptions {
  /**
   * Keep trying until this long after the first attempt: the last attempt starts at the
   * deadline, not one backoff before it. @default 150000
   */
  readonly deadlineMs?: number;
  /** The shortest wait between attempts. @default 500 */
  readonly initialDelayMs?: number;
  /** The longest wait between attempts. @default 5000 */
  readonly maxDelayMs?: number;
  /**
   * Each wait is this share of the time spent so far (between the two bounds above), so an
   * attempt that succeeds comes at most this share after the first moment it could have.
   * @default 0.1
   */
  readonly backoffRatio?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  /** Called before each wait, for progress logs. */
  readonly onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
}

/**
 * Runs `attempt` until it succeeds or the deadline passes. New IAM keys take seconds to tens of
 * seconds before SES accepts them; the wait between attempts grows with the time spent (a tenth
 * of it by default, from 0.5 s to 5 s), so the rotation finishes within about 10 % of the time
 * the key took to propagate, with few attempts while it is young and no long sleep later.
 */
export async function retryUntil<T>(attempt: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? pause;
  const minDelay = options.initialDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 5_000;
  const ratio = options.backoffRatio ?? 0.1;
  const started = now();
  const deadline = started + (options.deadlineMs ?? 150_000);
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const left = deadline - now();
      if (left <= 0) throw error;
      const delay = Math.min(left, maxDelay, Math.max(minDelay, Math.round((now() - started) * ratio)));
      options.onRetry?.(n, delay, error);
      await sleep(delay);
    }
  }
}

/**
 * The retry deadline for a function with `remainingMs` left before its timeout: at most
 * `preferredMs`, and early enough that the last attempt (at most `attemptMs`) and `marginMs` for
 * logging and returning still fit, so the function never runs into its timeout mid-login.
 */
export function retryDeadlineMs(
  remainingMs: number,
  { preferredMs = 150_000, attemptMs = DEFAULT_TIMEOUT_MS, marginMs = 2_000 } = {},
): number {
  return Math.max(0, Math.min(preferredMs, remainingMs - attemptMs - marginMs));
}
