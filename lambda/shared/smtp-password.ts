import { createHmac } from 'node:crypto';

/*
 * SES SMTP password from an IAM secret access key: AWS's documented SigV4-based derivation.
 * The key is HMAC-chained through a fixed date, the Region, "ses", "aws4_request" and the
 * message "SendRawEmail"; the password is base64 of the version byte 0x04 followed by the result.
 * Passwords are Region-specific.
 *
 * @see https://docs.aws.amazon.com/ses/latest/dg/smtp-credentials.html#smtp-credentials-convert
 */

const DATE = '11111111';
const CHAIN = ['ses', 'aws4_request', 'SendRawEmail'] as const;
const VERSION = 0x04;

const hmac = (key: Buffer, message: string): Buffer =>
  createHmac('sha256', key).update(message, 'utf8').digest();

export function smtpPasswordFromSecretKey(secretAccessKey: string, region: string): string {
  let signature = hmac(Buffer.from(`AWS4${secretAccessKey}`, 'utf8'), DATE);
  signature = hmac(signature, region);
  for (const part of CHAIN) signature = hmac(signature, part);
  return Buffer.concat([Buffer.from([VERSION]), signature]).toString('base64');
}
