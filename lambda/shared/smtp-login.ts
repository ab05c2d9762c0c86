import type { ConnectionOptions } from 'node:tls';
import { createTransport } from 'nodemailer';

export interface SmtpEndpoint {
  readonly host: string;
  readonly port: number;
  /** Extra TLS options (a private CA for a test server or a proxy). @default - Node's defaults */
  readonly tls?: ConnectionOptions;
  /** @default 10000 */
  readonly timeoutMs?: number;
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
  return { host, port };
}

/**
 * One SMTP login: connect, STARTTLS (required: credentials never cross in clear text), AUTH,
 * QUIT. Resolves on success; rejects with nodemailer's error (its message carries the server's
 * reply, like "535 Authentication Credentials Invalid", never the credentials).
 */
export async function smtpLogin(endpoint: SmtpEndpoint, credentials: SmtpCredentials): Promise<void> {
  const transport = createSmtpTransport(endpoint, credentials);
  try {
    await transport.verify();
  } finally {
    transport.close();
  }
}

/** A nodemailer transport for SES's STARTTLS ports: TLS 1.2+ required before AUTH, bounded waits. */
export function createSmtpTransport(endpoint: SmtpEndpoint, credentials: SmtpCredentials) {
  const timeout = endpoint.timeoutMs ?? 10_000;
  return createTransport({
    host: endpoint.host,
    port: endpoint.port,
    secure: false,
    requireTLS: true,
    auth: { user: credentials.username, pass: credentials.password },
    tls: { minVersion: 'TLSv1.2', ...endpoint.tls },
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    logger: false,
    debug: false,
  });
}

export interface RetryOptions {
  /** Keep trying for at least this long. @default 150000 */
  readonly deadlineMs?: number;
  /** @default 2000 */
  readonly initialDelayMs?: number;
  /** @default 15000 */
  readonly maxDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  /** Called before each wait, for progress logs. */
  readonly onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
}

/**
 * Runs `attempt` until it succeeds or the deadline passes, waiting with exponential backoff
 * in between. New IAM keys take seconds to tens of seconds before SES accepts them.
 */
export async function retryUntil<T>(attempt: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + (options.deadlineMs ?? 150_000);
  let delay = options.initialDelayMs ?? 2_000;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (now() + delay > deadline) throw error;
      options.onRetry?.(n, delay, error);
      await sleep(delay);
      delay = Math.min(delay * 2, options.maxDelayMs ?? 15_000);
    }
  }
}
