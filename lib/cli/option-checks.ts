/*
 * The values of the options that take a number or an address, parsed where the option is
 * declared (command-table.ts) and where it is used (context.ts): main.ts checks every given value
 * before the command reads the environments file or AWS, so one run reports a bad value even when
 * something else (a missing --region) is wrong too. Loads nothing but node:net and the options;
 * the name checks of validate.ts (which loads the config schema) are imported when a value comes.
 */
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import { isIP } from 'node:net';
import { UsageError } from './errors';
import { decimalNumber } from './options';

/**
 * The longest --timeout, a day: a rotation is four invocations of a function with a 5-minute
 * timeout, so this only refuses what is not a wait at all ("Infinity" waited forever).
 */
const MAX_TIMEOUT_SECONDS = 86_400;
export const TIMEOUT_EXPECTS = `a number of seconds from 1 to ${MAX_TIMEOUT_SECONDS}, like 600 or 90.5`;

/** --timeout's seconds. */
export function timeoutSeconds(text: string): number {
  const value = decimalNumber(text, 1, MAX_TIMEOUT_SECONDS, { fraction: true });
  if (value === undefined)
    throw new UsageError(`--timeout: got ${JSON.stringify(text)}, expected ${TIMEOUT_EXPECTS}`);
  return value;
}

/** --smtp-timeout's range in seconds, and what its messages say it takes. */
export const SMTP_TIMEOUT = {
  min: 0.1,
  max: 300,
  expects: 'a number of seconds from 0.1 to 300, like 10 or 2.5',
} as const;

/** --smtp-timeout's seconds. */
export function smtpTimeoutSeconds(text: string): number {
  const value = decimalNumber(text, SMTP_TIMEOUT.min, SMTP_TIMEOUT.max, { fraction: true });
  if (value === undefined)
    throw new UsageError(`--smtp-timeout: got ${JSON.stringify(text)}, expected ${SMTP_TIMEOUT.expects}`);
  return value;
}

export const SMTP_PORT_EXPECTS =
  'a TCP port number from 1 to 65535 (SES offers 25, 587 and 2587 for STARTTLS, 465 and 2465 for TLS from the start)';

/** --smtp-port's port. */
export function smtpPort(text: string): number {
  const port = decimalNumber(text, 1, 65535);
  if (port === undefined)
    throw new UsageError(`--smtp-port: got ${JSON.stringify(text)}, expected ${SMTP_PORT_EXPECTS}`);
  return port;
}

export const RESOLVER_EXPECTS = 'IP[:PORT] like 1.1.1.1, 127.0.0.1:5353, ::1 or [::1]:53';

/** --resolver's server: IPv4[:PORT], a bare IPv6 address, or [IPv6]:PORT (the brackets keep the port apart). */
export function resolverAddress(spec: string): { ip: string; port: number } {
  const bare = isIP(spec) === 6;
  const match = /^(?:\[([^\]]+)\]|([0-9.]+))(?::(\d{1,5}))?$/.exec(spec);
  const ip = bare ? spec : (match?.[1] ?? match?.[2]);
  const port = !bare && match?.[3] ? Number(match[3]) : 53;
  if (!ip || !isIP(ip) || port < 1 || port > 65535) {
    throw new UsageError(`--resolver: got ${JSON.stringify(spec)}, expected ${RESOLVER_EXPECTS}`);
  }
  return { ip, port };
}

/**
 * Node's TLS ignores what in `ca` is not a PEM certificate: a DER file, an empty one or a key
 * would leave the CA untrusted, and the TLS failure would then advise the very flag given.
 */
function checkPemCertificates(file: string, text: string): void {
  // OpenSSL's "TRUSTED CERTIFICATE" (-addtrust) and the older "X509 CERTIFICATE" too: Node takes both.
  const blocks =
    text.match(/-----BEGIN (TRUSTED |X509 )?CERTIFICATE-----[\s\S]*?-----END \1CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) {
    throw new UsageError(
      `--smtp-ca: ${JSON.stringify(file)} holds no PEM certificate (a "-----BEGIN CERTIFICATE-----" block); pass the CA's certificate in PEM form (openssl x509 -inform der -in FILE -out ca.pem converts a DER one)`,
    );
  }
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch {
      throw new UsageError(
        `--smtp-ca: certificate ${i + 1} of ${blocks.length} in ${JSON.stringify(file)} is not a valid PEM certificate; pass the CA's certificate as the CA or proxy vendor gives it`,
      );
    }
  });
}

/** --smtp-ca's file, read: its PEM text, with at least one certificate and none broken. */
export function smtpCaPem(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new UsageError(
      `--smtp-ca: cannot read ${JSON.stringify(file)}; pass a PEM file of the CA to trust`,
    );
  }
  checkPemCertificates(file, text);
  return text;
}
