/*
 * Structured JSON logs, one line per entry. Fields whose names say they hold a secret are
 * replaced before anything is written: a defence in depth, the code never passes secrets here.
 */

export type LogFields = Record<string, unknown>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every entry. */
  child(fields: LogFields): Logger;
}

/**
 * Field names that hold secret values, alone or at the end of a name (`smtpPassword`,
 * `sessionToken`, `signingKey`: the key the SMTP password is derived with); not names that merely
 * mention one, like secretId or accessKeyId.
 */
const SECRET_KEY =
  /(pass|password|secret|secretAccessKey|secretString|credentials?|authorization|token|(secret|private|api|signing)_?key)$/i;

/** How deep redact looks: an object below is logged as "[truncated]", never unread. */
const REDACT_DEPTH = 5;

function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > REDACT_DEPTH) return '[truncated]';
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value as LogFields).map(([k, v]) => [
      k,
      SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1),
    ]),
  );
}

export function createLogger(
  base: LogFields = {},
  write: (line: string) => void = (l) => console.log(l),
): Logger {
  const log =
    (level: string) =>
    (message: string, fields: LogFields = {}) =>
      write(JSON.stringify({ level, message, ...(redact({ ...base, ...fields }) as LogFields) }));
  return {
    info: log('INFO'),
    warn: log('WARN'),
    error: log('ERROR'),
    child: (fields) => createLogger({ ...base, ...fields }, write),
  };
}

/** What may be logged of an error: its name, code and message, never request parameters. */
export function describeError(error: unknown): LogFields {
  if (!(error instanceof Error)) return { error: String(error) };
  const e = error as Error & {
    code?: unknown;
    responseCode?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  return {
    errorName: e.name,
    errorMessage: e.message,
    ...(e.code !== undefined && { errorCode: e.code }),
    ...(e.responseCode !== undefined && { smtpResponseCode: e.responseCode }),
    ...(e.$metadata?.httpStatusCode !== undefined && { httpStatus: e.$metadata.httpStatusCode }),
  };
}
