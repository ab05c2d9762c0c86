/*
 * Sender addresses as the SMTP user's policy sees them (the `ses:FromAddress` condition key).
 * One place for the default, used by the environments file loader and by SmtpCredentials.
 */

/** The domain part of an address, lower-cased (domains are case-insensitive, RFC 1035 §2.3.3). */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

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
