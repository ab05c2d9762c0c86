import { SmtpCredentials, SmtpEndpoint, withoutCredentials } from '../../lambda/shared/smtp-login';
import { createSmtpTransport } from '../../lambda/shared/smtp-transport';

/**
 * Sends one message; returns SES's message id from the final reply ("250 Ok <id>"). Rejects with
 * nodemailer's error, without the password (withoutCredentials: a reply may quote the AUTH line).
 */
export async function sendMail(
  endpoint: SmtpEndpoint,
  credentials: SmtpCredentials,
  message: { from: string; to: string; subject: string; text: string },
): Promise<{ messageId: string; response: string }> {
  const t = createSmtpTransport(endpoint, credentials);
  try {
    const info = await t.sendMail(message);
    const response = String(info.response ?? '');
    const messageId = /^250\s+Ok\s+(\S+)/i.exec(response)?.[1] ?? '';
    return { messageId, response };
  } catch (error) {
    throw withoutCredentials(error, credentials);
  } finally {
    t.close();
  }
}
