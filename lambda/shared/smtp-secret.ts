/** What the credentials secret holds: everything an app needs to send, and nothing else. */
export interface SmtpSecret {
  readonly username: string;
  readonly password: string;
  readonly host: string;
  readonly port: number;
  readonly region: string;
  readonly fromAddress: string;
}

/** Credentials from a secret value; undefined for the placeholder the stack creates. */
export function parseSecret(text: string | undefined): SmtpSecret | undefined {
  if (!text) return undefined;
  let value: Partial<SmtpSecret>;
  try {
    value = JSON.parse(text) as Partial<SmtpSecret>;
  } catch {
    throw new Error('The secret value is not JSON; it must hold the SMTP credentials object');
  }
  return typeof value.username === 'string' && typeof value.password === 'string'
    ? (value as SmtpSecret)
    : undefined;
}
