import { createTransport } from 'nodemailer';
import { SmtpCredentials, SmtpEndpoint, smtpConnectionOptions } from './smtp-login';

/**
 * A nodemailer transport (for sending mail, as the CLI's send-test does) with the same
 * connection rules as smtpLogin: TLS 1.2+ before AUTH (STARTTLS, or from the first byte on an
 * implicit-TLS port), bounded waits. Kept apart from smtp-login.ts so the rotation function's
 * bundle holds only the SMTP connection.
 */
export function createSmtpTransport(endpoint: SmtpEndpoint, credentials: SmtpCredentials) {
  return createTransport({
    ...smtpConnectionOptions(endpoint),
    auth: { user: credentials.username, pass: credentials.password },
  });
}
