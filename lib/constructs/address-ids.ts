/**
 * Construct ids for a list of email addresses: each address itself (its id since the first
 * release, so its logical id stays), unless it holds a "/" and another address of the list would
 * get the same id. Constructs writes "/" in an id as "--", so "a/b@example.com" and
 * "a--b@example.com" (both valid, RFC 5322 atext) would be one id and synth would fail. The address
 * with the "/" then gets its escaped form: "-", "/" and "@" written as "-2D", "-2F" and "-40". The
 * escape is one-to-one and leaves no "@", which every address has: an escaped id never equals
 * another id. The rule does not depend on the order of the list, so reordering it never moves an
 * id; adding an address moves a deployed one's only when the two merge and the deployed one has the
 * "/". The same address twice keeps one id (constructs then refuses it, as before).
 */
export function addressIds(addresses: readonly string[]): string[] {
  const merged = (address: string) => address.replace(/\//g, '--');
  const sharing = new Map<string, Set<string>>();
  for (const address of addresses) {
    const id = merged(address);
    sharing.set(id, (sharing.get(id) ?? new Set()).add(address));
  }
  return addresses.map((address) =>
    address.includes('/') && sharing.get(merged(address))!.size > 1
      ? address.replace(/[-/@]/g, (c) => `-${c.charCodeAt(0).toString(16).toUpperCase()}`)
      : address,
  );
}
