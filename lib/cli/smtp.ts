import { SmtpCredentials, SmtpEndpoint } from '../../lambda/shared/smtp-login';
import { createSmtpTransport } from '../../lambda/shared/smtp-transport';

/** Sends one message; returns SES's message id from the final reply ("250 Ok <id>"). */
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
  } finally {
    t.close();
  }
}
