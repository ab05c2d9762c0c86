/**
 * Construct ids for a list of email addresses, in order: each address itself (its id since the
 * first release, so its logical id stays), unless constructs would make it equal to the id of an
 * earlier, different address. Constructs writes "/" in an id as "--", so "a/b@example.com" and
 * "a--b@example.com" (both valid, RFC 5322 atext) would be one id and synth would fail. Such a later
 * address gets its escaped form: "-", "/" and "@" written as "-2D", "-2F" and "-40". The escape is
 * one-to-one and leaves no "@", which every address has: an escaped id never equals another id.
 * The same address twice keeps one id (constructs then refuses it, as before).
 */
export function addressIds(addresses: readonly string[]): string[] {
  const owners = new Map<string, string>();
  return addresses.map((address) => {
    const sanitized = address.replace(/\//g, '--');
    const owner = owners.get(sanitized);
    if (owner === undefined || owner === address) {
      owners.set(sanitized, address);
      return address;
    }
    return address.replace(/[-/@]/g, (c) => `-${c.charCodeAt(0).toString(16).toUpperCase()}`);
  });
}
