/** What the credentials secret holds: everything an app needs to send, and nothing else. */
export interface SmtpSecret {
  readonly username: string;
  readonly password: string;
  readonly host: string;
  readonly port: number;
  readonly region: string;
  readonly fromAddress: string;
}

/**
 * The environment variables a Rails app reads (as the manual SES SMTP setup names them), each with
 * the key of the secret's JSON that holds its value: `ses-smtp env` prints them, the ECS helper
 * injects them.
 */
export const SMTP_VARIABLES = {
  AWS_SES_SMTP_USERNAME: 'username',
  AWS_SES_SMTP_PASSWORD: 'password',
  AWS_SES_SMTP_ADDRESS: 'host',
  AWS_SES_SMTP_PORT: 'port',
  AWS_SES_REGION: 'region',
  DEFAULT_FROM_EMAIL: 'fromAddress',
} as const satisfies Record<string, keyof SmtpSecret>;

/** Credentials from a secret value; undefined for the placeholder the stack creates. */
export function parseSecret(text: string | undefined): SmtpSecret | undefined {
  if (!text) return undefined;
  let value: Partial<SmtpSecret> | null;
  try {
    value = JSON.parse(text) as Partial<SmtpSecret> | null;
  } catch {
    throw new Error('The secret value is not JSON; it must hold the SMTP credentials object');
  }
  // JSON's null has no keys to read: said as plainly as text that is not JSON.
  if (value === null) throw new Error('The secret value is null; it must hold the SMTP credentials object');
  return typeof value.username === 'string' && typeof value.password === 'string'
    ? (value as SmtpSecret)
    : undefined;
}

/** The type of each key of SmtpSecret, as the rotation writes it. */
const KEY_TYPES = {
  username: 'string',
  password: 'string',
  host: 'string',
  port: 'number',
  region: 'string',
  fromAddress: 'string',
} as const satisfies Record<keyof SmtpSecret, 'string' | 'number'>;

/**
 * The keys of credentials (from parseSecret) that are missing or not of the type the rotation
 * writes: none for what the rotation stored. parseSecret itself only needs username and password,
 * the rotation's own reads; a reader that uses the rest checks it with this first.
 */
export function missingKeys(secret: SmtpSecret): (keyof SmtpSecret)[] {
  return (Object.keys(KEY_TYPES) as (keyof SmtpSecret)[]).filter(
    (key) => typeof secret[key] !== KEY_TYPES[key] || secret[key] === '',
  );
}
