/*
 * SPF and DMARC records as receivers read them, so that a live record is compared by meaning, not
 * by its text: a DNS provider's console, or a person, may space, order or spell a record another
 * way than the stack prints it.
 */

import { isIPv4 } from 'node:net';
import { domainToASCII } from 'node:url';
import { DMARC_URI_SIZE_RE, dmarcUriKey } from '../../lib/config/syntax';
import { bareName } from '../../lib/dns-records';

/** An SPF record: "v=spf1" in any case, then a space or the end (RFC 7208 §4.5, §4.6.1). */
export function isSpfRecord(txt: string): boolean {
  return /^v=spf1(?: |$)/i.test(txt);
}

/**
 * The terms of an SPF record in one spelling: split at runs of spaces (RFC 7208 §4.6.1 allows
 * several, and trailing ones), names and domains in lower case with the macros as written ("%{I}"
 * and "%{i}" expand differently, §7.3), the default "+" qualifier left out, and a domain's trailing
 * dot dropped (absolute and relative names are one name to SPF). The order is kept: receivers
 * evaluate the mechanisms from left to right (§4.6.2).
 */
export function spfTerms(txt: string): string[] {
  return txt
    .split(/ +/)
    .filter(Boolean)
    .slice(1)
    .map((term) => {
      const lower = term.replace(
        /(%\{[^}]*\})|[^%]+|%/g,
        (part, macro?: string) => macro ?? part.toLowerCase(),
      );
      const unqualified = lower.replace(/^\+/, '');
      return /^(?:ip4|ip6):/.test(unqualified) ? unqualified : unqualified.replace(/\.(?=\/|$)/, '');
    });
}

/**
 * A DMARC record: "v" "=" "DMARC1" with optional spaces around "=", then ";" or the end (RFC 7489
 * §6.4). The version is case-sensitive: receivers ignore a record with "v=dmarc1" (§6.3).
 */
export function isDmarcRecord(txt: string): boolean {
  return /^[vV][ \t]*=[ \t]*DMARC1[ \t]*(?:;|$)/.test(txt);
}

/** A DMARC record whose version is spelt in another case: receivers ignore it. */
export function isMisspeltDmarcRecord(txt: string): boolean {
  return !isDmarcRecord(txt) && /^v[ \t]*=[ \t]*dmarc1[ \t]*(?:;|$)/i.test(txt);
}

/**
 * The tags of a DMARC record with RFC 7489 §6.3's defaults, or why receivers would not apply it and
 * what to write instead.
 */
export type DmarcPolicy =
  | { readonly tags: Readonly<Record<string, string>> }
  | { readonly problem: string; readonly fix: string };

const POLICY_WORD = /^(?:none|quarantine|reject)$/;
/** The fix for a record without a valid "p=". */
const WRITE_P = 'write "p=none", "p=quarantine" or "p=reject" right after "v=DMARC1;"';

const DMARC_DEFAULTS: Readonly<Record<string, string>> = {
  pct: '100',
  adkim: 'r',
  aspf: 'r',
  fo: '0',
  rf: 'afrf',
  ri: '86400',
  rua: '',
  ruf: '',
};

/**
 * Reads a DMARC record as a receiver does (RFC 7489 §6.3, §6.4): tags separated by ";" with
 * optional spaces around it and around "=", a final ";" allowed, "v" first and "p" second, the
 * other tags in any order, tag names and policy words in any case, unknown tags ignored. Absent
 * tags take their defaults ("sp" that of "p"), so that two records that ask receivers for the same
 * compare equal. An "sp=" that is not a policy word voids the record as a missing "p=" does
 * (§6.6.3: receivers then apply no policy, or "p=none" when "rua=" names an address).
 */
export function dmarcPolicy(txt: string): DmarcPolicy {
  if (!isDmarcRecord(txt)) {
    return { problem: 'not a DMARC record', fix: 'start it with "v=DMARC1;"' };
  }
  const parts = txt
    .split(';')
    .map((p) => p.replace(/^[ \t]+|[ \t]+$/g, ''))
    .filter(Boolean);
  const tags: Record<string, string> = {};
  for (const [i, part] of parts.entries()) {
    const tag = /^([A-Za-z][A-Za-z0-9]*)[ \t]*=[ \t]*(.*)$/.exec(part);
    // After v and p, receivers skip what they cannot read, as an unknown tag (§6.3).
    if (!tag && i > 1) continue;
    if (!tag) return { problem: `"${part}" is not a tag=value pair`, fix: WRITE_P };
    const name = tag[1].toLowerCase();
    if (i === 1 && name !== 'p') return { problem: '"p=" must come right after "v=DMARC1"', fix: WRITE_P };
    // A tag given twice: the first counts. Unknown tags are ignored (§6.3).
    if (name in tags || !(name in DMARC_DEFAULTS || /^(?:v|p|sp)$/.test(name))) continue;
    tags[name] = /^(?:p|sp|adkim|aspf|rf)$/.test(name)
      ? tag[2].toLowerCase()
      : name === 'fo'
        ? // A set of options (§6.3: colon-separated): "d:1" asks for what "1:d" does.
          [...new Set(tag[2].toLowerCase().split(/[ \t]*:[ \t]*/))].sort().join(':')
        : /^ru[af]$/.test(name)
          ? // "MAILTO:Rua@Example.com" names the mailbox "mailto:Rua@example.com" does.
            tag[2]
              .split(/[ \t]*,[ \t]*/)
              .map(dmarcUriKey)
              .join(',')
          : tag[2];
  }
  if (!('p' in tags)) return { problem: '"p=" must come right after "v=DMARC1"', fix: WRITE_P };
  if (!POLICY_WORD.test(tags.p)) {
    return { problem: `p=${tags.p} is not a policy: none, quarantine or reject`, fix: WRITE_P };
  }
  if ('sp' in tags && !POLICY_WORD.test(tags.sp)) {
    return {
      problem: `sp=${tags.sp} is not a policy: none, quarantine or reject`,
      fix: 'write "sp=none", "sp=quarantine" or "sp=reject", or leave "sp=" out (subdomains then get "p=")',
    };
  }
  const { v: _version, ...policy } = tags;
  return { tags: { ...DMARC_DEFAULTS, sp: tags.p, ...policy } };
}

/** Whether a live TXT value says what the expected one says: SPF and DMARC by meaning, the rest by text. */
export function sameTxtValue(expected: string, found: string): boolean {
  if (isSpfRecord(expected)) {
    const [want, got] = [spfTerms(expected), spfTerms(found)];
    return isSpfRecord(found) && want.length === got.length && want.every((t, i) => t === got[i]);
  }
  if (isDmarcRecord(expected)) {
    const [want, got] = [dmarcPolicy(expected), dmarcPolicy(found)];
    if (!('tags' in want) || !('tags' in got)) return false;
    const names = new Set([...Object.keys(want.tags), ...Object.keys(got.tags)]);
    return [...names].every((n) => want.tags[n] === got.tags[n]);
  }
  return expected === found;
}

/** The record kind a TXT value has only one of at a name (SPF, DMARC), if it is one. */
export function singleRecordKind(txt: string): 'SPF' | 'DMARC' | undefined {
  return isSpfRecord(txt) ? 'SPF' : isDmarcRecord(txt) ? 'DMARC' : undefined;
}

/** One report destination's domain and the report URIs that name it. */
export interface ReportDestination {
  readonly host: string;
  readonly uris: readonly string[];
}

/**
 * The domains of the mailto: report URIs (rua=, ruf=), in lower case and ASCII (a %-encoded
 * non-ASCII domain in its punycode form), each once with the URIs that name it. A URI's addresses
 * are those before "?" (several separated by %2C) and those of its "to=" header field (RFC 6068);
 * a size limit ("!10m") is not part of them. An address literal ("[192.0.2.1]", or an IPv4
 * address written as a domain) has no domain to ask about, and a URI that does not parse names
 * none. Other schemes are left out: receivers send reports by mail (RFC 7489 §6.2 makes only
 * mailto: required).
 */
export function reportDestinations(uris: readonly string[]): ReportDestination[] {
  const byHost = new Map<string, string[]>();
  for (const uri of uris) {
    const mailto = /^mailto:([^?]*)(?:\?(.*))?$/i.exec(uri.replace(DMARC_URI_SIZE_RE, ''));
    if (!mailto) continue;
    const [, to, query = ''] = mailto;
    const fields = query.split('&').filter((field) => /^to=/i.test(field));
    for (const list of [to, ...fields.map((field) => field.slice(3))]) {
      let addresses: string[];
      try {
        addresses = decodeURIComponent(list).split(',');
      } catch {
        continue;
      }
      for (const address of addresses) {
        const at = address.lastIndexOf('@');
        // domainToASCII: "" for a name it cannot convert, an address literal among them.
        const host = at > 0 ? domainToASCII(bareName(address.slice(at + 1).trim())) : '';
        if (!host || isIPv4(host)) continue;
        const named = byHost.get(host) ?? [];
        if (!named.includes(uri)) named.push(uri);
        byHost.set(host, named);
      }
    }
  }
  return [...byHost].map(([host, named]) => ({ host, uris: named }));
}

/**
 * Registry suffixes of two labels under a country code ("co.uk", "com.au", "ac.jp", "ne.jp"): two
 * names that share only such a suffix, neither inside the other, belong to different organizations.
 */
const SECOND_LEVEL_REGISTRY = /^(?:ac|co|com|edu|go|gob|gov|gv|ltd|mil|ne|net|nom|or|org|plc|sch)\.[a-z]{2}$/;

/**
 * The Organizational Domain of `domain` (RFC 7489 §3.2), without the Public Suffix List: its last
 * two labels, or three under a registry suffix like "co.uk" ("mail.example.co.uk" is
 * example.co.uk's). It errs towards one organization: names under one other suffix of two or more
 * labels ("app.github.io") share "github.io".
 */
export function organizationalDomain(domain: string): string {
  const labels = bareName(domain).split('.');
  const two = labels.slice(-2).join('.');
  return labels.slice(SECOND_LEVEL_REGISTRY.test(two) ? -3 : -2).join('.');
}

/**
 * Whether reports for `domain` may go to `host` without its consent: both in one Organizational
 * Domain (RFC 7489 §3.2, §7.1), as organizationalDomain finds it, so that it never asks a domain's
 * own addresses for consent; a name and the names under it are one.
 */
export function sameOrganization(domain: string, host: string): boolean {
  const [a, b] = [bareName(domain), bareName(host)];
  return (
    a === b ||
    a.endsWith(`.${b}`) ||
    b.endsWith(`.${a}`) ||
    organizationalDomain(a) === organizationalDomain(b)
  );
}

/** The report destinations of `domain`'s DMARC record that must consent to its reports. */
export function externalReportDestinations(domain: string, uris: readonly string[]): ReportDestination[] {
  return reportDestinations(uris).filter((d) => !sameOrganization(domain, d.host));
}

/**
 * What a consent record at `host` says (RFC 7489 §7.1): its own "rua=" or "ruf=" replace the
 * domain's, but only with addresses at `host`; one elsewhere makes receivers send no report to
 * either. The first such URI, or undefined.
 */
export function consentRedirect(consent: string, host: string): string | undefined {
  for (const part of consent.split(';')) {
    const tag = /^[ \t]*ru[af][ \t]*=[ \t]*(.*)$/i.exec(part);
    if (!tag) continue;
    const uris = tag[1].split(',').map((uri) => uri.trim());
    const elsewhere = uris.find((uri) => reportDestinations([uri]).some((d) => d.host !== host));
    if (elsewhere) return elsewhere;
  }
  return undefined;
}
