/*
 * Sender addresses as the SMTP user's policy sees them (the `ses:FromAddress` condition key).
 * One place for the default, used by the environments file loader and by SmtpCredentials.
 */

/** The domain part of an address, lower-cased (domains are case-insensitive, RFC 1035 §2.3.3). */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** Whether DNS name `name` is `parent` or a name under it (both in lower case, no final dot). */
export function isAtOrUnder(name: string, parent: string): boolean {
  return name === parent || name.endsWith(`.${parent}`);
}

/** Whether `address` is at `domain` or one of its subdomains (`domain` in lower case, no final dot). */
export function isAtDomain(address: string, domain: string): boolean {
  return address.lastIndexOf('@') > 0 && isAtOrUnder(domainOf(address), domain);
}

/** The domain of SES's mailbox simulator (success@, bounce@, complaint@, ...). */
export const MAILBOX_SIMULATOR = 'simulator.amazonses.com';

/**
 * One pattern per domain that allows every address at exactly that domain: "*@example.com".
 * In IAM's StringLike, "*" matches any run of characters, so "*@example.com" allows
 * "billing@example.com" but not "a@mail.example.com" (that needs "*@mail.example.com" or
 * "*@*.example.com").
 */
export function everyAddressAt(...domains: string[]): string[] {
  return [...new Set(domains.map((d) => d.toLowerCase()))].map((d) => `*@${d}`);
}

/**
 * The default sender list of an environment: every address at the sending domain, plus every
 * address at the default sender's domain when that is a subdomain.
 */
export function defaultAllowedFromAddresses(domain: string, fromAddress: string): string[] {
  return everyAddressAt(domain, domainOf(fromAddress));
}

/**
 * Whether the sender list lets the SMTP user send from `address`, as IAM compares the
 * `ses:FromAddress` condition: "*@example.com" allows every address at exactly that domain,
 * "*@*.example.com" at every subdomain, any other entry that address only (IAM compares strings
 * case-sensitively, so the local part must match exactly; domains are lower-cased on both sides).
 */
export function allowsSender(entries: readonly string[], address: string): boolean {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const domain = domainOf(address);
  return entries.some((entry) => {
    const entryLocal = entry.slice(0, entry.lastIndexOf('@'));
    const entryDomain = domainOf(entry);
    const domainMatches = entryDomain.startsWith('*.')
      ? domain.endsWith(entryDomain.slice(1))
      : domain === entryDomain;
    return domainMatches && (entryLocal === '*' || entryLocal === local);
  });
}

/** What a default sender outside the list must be, for messages. */
export function senderNotAllowed(
  entries: readonly string[],
  field = 'credentials.allowedFromAddresses',
): string {
  return `an address that ${field} (${entries.join(', ')}) allows: the SMTP user may send only from those, and apps send from fromAddress by default (the secret holds it); add it to the list or use one of them`;
}
