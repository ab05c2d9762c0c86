import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { z } from 'zod';
import { isServiceOf, parseServiceArn, serviceArnOf } from '../../lambda/restart-ecs-services/services';
import {
  apexSpfValue,
  apexTxtRecord,
  dmarcRecord,
  dmarcValue,
  DnsRecord,
  bareName,
  DKIM_TOKEN_LENGTH,
  isSesSpfInclude,
  mailFromDomain,
  mailFromRecords,
  ROUTE53_VALUE_MAX,
  route53TxtLength,
} from '../dns-records';
import { addressKey, ConfigFileSchema } from './schema';
import type { ConfigFile, EnvironmentConfig, ParsedConfigFile, ParsedEnvironment } from './types';
import {
  allowsSender,
  defaultAllowedFromAddresses,
  domainOf,
  isAtDomain,
  isAtOrUnder,
  senderNotAllowed,
} from './senders';
import { gitHubProblems } from './github';
import { SES_SMTP_REGIONS } from './smtp-regions';
import {
  duplicateKeys,
  escapeInvisible,
  invisibleHint,
  maskUrlPassword,
  shownPath,
  spfLookupCount,
} from './syntax';
import { isSpfRecord } from '../../lambda/shared/auth-records';

export { spfLookupCount };

/** Default location of the environments file, relative to the working directory. */
export const DEFAULT_CONFIG_PATH = 'config/environments.json';

/**
 * The environments file of the project in `dir`: the one its cdk.json names (context "config",
 * what the CDK app reads unless `-c config=PATH` overrides it), else DEFAULT_CONFIG_PATH; relative
 * to `dir`, or absolute as given. One switch for the app, the CLI and the workflows' matrix: a
 * team keeps its own file beside the example and names it there once.
 */
export function projectConfigPath(dir = '.'): string {
  const cdkJson = nodePath.join(dir, 'cdk.json');
  let text: string;
  try {
    text = fs.readFileSync(cdkJson, 'utf8');
  } catch {
    return nodePath.join(dir, DEFAULT_CONFIG_PATH);
  }
  let config: unknown;
  try {
    config = (JSON.parse(text) as { context?: { config?: unknown } } | null)?.context?.config;
  } catch (e) {
    throw new ConfigError([`${cdkJson}: not JSON (${(e as Error).message}): fix its syntax`]);
  }
  const value = configPathValue(config, `${cdkJson}: context "config"`);
  // As the app reads it: relative to the project directory, or absolute.
  return nodePath.isAbsolute(value) ? value : nodePath.join(dir, value);
}

/**
 * The environments file `value` names (given as `where`): DEFAULT_CONFIG_PATH when it is not set,
 * a ConfigError saying what it must be when it is not a path.
 */
export function configPathValue(value: unknown, where: string): string {
  if (value === undefined) return DEFAULT_CONFIG_PATH;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError([
      `${where}: got ${JSON.stringify(value)}, expected the path of the environments file, like "${DEFAULT_CONFIG_PATH}"`,
    ]);
  }
  return value;
}

/**
 * A user's mistake in the environments file. Each entry of `problems` is one complete line
 * (file, environment, field, value received, what is allowed); callers print them without a stack trace.
 */
export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

export interface NamedEnvironment {
  /** The environment's key in the file, like "production". */
  readonly name: string;
  readonly config: EnvironmentConfig;
}

export interface LoadedConfig {
  readonly path: string;
  /** The selected environments (all of them, or the one `only` names), in file order. */
  readonly environments: NamedEnvironment[];
  /** The whole validated file, whatever `only` selects. */
  readonly file: ConfigFile;
  /** What a valid file may still get wrong, for the environment each is about (synth warnings). */
  readonly warnings: ConfigWarning[];
}

export interface ConfigWarning {
  readonly environment: string;
  /** The warning's id, to acknowledge it. */
  readonly id: string;
  readonly text: string;
}

/** Why a file could not be read, in words, from the error's code. */
const READ_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'a directory, not a file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
};

/**
 * Reads, parses and validates an environments file. Throws ConfigError on any problem.
 * `pathOption` is how the caller's user passes another path, for the message when the file cannot
 * be read: the CDK app's context `-c config=PATH` by default, the CLI's `--config PATH`.
 */
export function loadConfig(
  path: string = DEFAULT_CONFIG_PATH,
  only?: string,
  pathOption = '-c config=PATH',
): LoadedConfig {
  // How the messages name the file: as given, quoted if it holds a line break or an escape.
  const source = shownPath(path);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const why = READ_PROBLEMS[code] ?? code;
    // The file is there: creating it is no fix.
    const fix =
      code === 'EACCES' || code === 'EPERM'
        ? `let this user read it (ls -l shows its owner and mode) or pass ${pathOption}`
        : `create it (see README "Configuration") or pass ${pathOption}`;
    throw new ConfigError([
      `${path ? source : '(empty path)'}: cannot read the environments file${why && ` (${why})`}; ${fix}`,
    ]);
  }
  let text: string;
  try {
    // RFC 8259 §8.1: JSON exchanged between systems is UTF-8; a parser MAY ignore a byte order
    // mark (editors on Windows write one), which TextDecoder does by default.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ConfigError([
      `${source}: not UTF-8 text (RFC 8259 §8.1 requires UTF-8; a file saved as "Unicode"/UTF-16 is not); save it as UTF-8`,
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([`${source}: not valid JSON (${jsonErrorText(e as Error, text)}); fix the syntax`]);
  }
  // Members the settings would lose without a word: a repeated name (JSON.parse keeps the last)
  // and "__proto__" (zod's records drop it).
  const lost = [
    ...duplicateKeys(text).map((d) =>
      line(
        source,
        [...d.path, d.key],
        d.key,
        'each name once per object (RFC 8259 §4; JSON.parse would silently keep only the last one): merge or remove one',
        'got a second member named',
      ),
    ),
    ...protoKeys(raw).map((at) =>
      line(
        source,
        at,
        '__proto__',
        'another name: JavaScript drops a "__proto__" key when it reads the settings, so the entry would be lost; rename it',
        'got the name',
      ),
    ),
  ];
  if (lost.length) throw new ConfigError(lost);
  const { file, warnings } = parseConfigFile(raw, source);
  const names = Object.keys(file.environments);
  if (only !== undefined && !names.includes(only)) {
    throw new ConfigError([
      `${source}: got -c env=${JSON.stringify(only)}, expected one of the environments in the file: ${names.join(', ')}`,
    ]);
  }
  return {
    path,
    file,
    warnings,
    environments: names
      .filter((name) => only === undefined || name === only)
      .map((name) => ({ name, config: file.environments[name] })),
  };
}

/**
 * JSON.parse's complaint in one line, at a line and column. V8 names the position for most
 * errors; for "Unexpected token" it quotes the text instead (newlines and all), so the position
 * is found as the end of the shortest prefix JSON.parse refuses (a prefix that only stops short,
 * like `{"a": tr`, is not refused).
 */
function jsonErrorText(error: Error, text: string): string {
  const at = errorPosition(error.message, text);
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  const token = /^Unexpected token '(.*?)', /s.exec(error.message);
  const what = token
    ? `unexpected ${JSON.stringify(token[1])}`
    : error.message.replace(/ (in|after) JSON at position \d+.*$/s, '').replace(/\s+/g, ' ');
  let hint = '';
  // JSON allows no comma before a closing bracket; the parser reports the bracket, not the comma.
  if (/,\s*$/.test(before) && /^\s*[}\]]/.test(text.slice(at)))
    hint = ': a comma before a closing bracket (remove it)';
  else if (/^\/[/*]/.test(text.slice(at))) hint = ': JSON has no comments (remove them)';
  else if (/after JSON at position/.test(error.message)) hint = ': text after the end of the JSON document';
  return `${what} at line ${line}, column ${column}${hint}`;
}

function errorPosition(message: string, text: string): number {
  const named = /at position (\d+)/.exec(message);
  if (named) return Number(named[1]);
  if (/Unexpected end of JSON input/.test(message)) return text.length;
  const refused = (n: number) => {
    try {
      JSON.parse(text.slice(0, n));
      return false;
    } catch (e) {
      const m = (e as Error).message;
      const position = /at position (\d+)/.exec(m);
      return position ? Number(position[1]) < n : !/Unexpected end of JSON input/.test(m);
    }
  };
  let [low, high] = [0, text.length];
  while (low < high) {
    const mid = (low + high) >> 1;
    if (refused(mid)) high = mid;
    else low = mid + 1;
  }
  return Math.max(0, low - 1);
}

/** Validates an already-parsed environments document; `source` names it in messages. */
export function parseConfig(raw: unknown, source: string): ConfigFile {
  return parseConfigFile(raw, source).file;
}

/** The validated file, defaults applied, and what a valid file may still get wrong. */
function parseConfigFile(raw: unknown, source: string): { file: ConfigFile; warnings: ConfigWarning[] } {
  const result = ConfigFileSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    throw new ConfigError(issueLines(source, result.error.issues));
  }
  // Rules across fields run only on a well-formed file, so they never report a follow-on error.
  const problems = problemLines(source, checkAcrossFields(result.data));
  if (problems.length) throw new ConfigError(problems);
  const owners = accountAlarmOwners(result.data.environments);
  return {
    file: resolveDefaults(result.data, owners),
    warnings: accountAlarmWarnings(result.data.environments, owners),
  };
}

/** Fills the defaults that depend on other fields, or on the other environments of the file. */
function resolveDefaults(file: ParsedConfigFile, owners: Set<string>): ConfigFile {
  const environments: Record<string, EnvironmentConfig> = {};
  for (const [name, env] of Object.entries(file.environments)) {
    environments[name] = resolveEnvironment(env, owners.has(name));
  }
  return { ...file, environments };
}

/** The other environments of `name`'s account and Region, in file order. */
function siblings(
  environments: Record<string, ParsedEnvironment>,
  name: string,
): [string, ParsedEnvironment][] {
  const env = environments[name];
  return Object.entries(environments).filter(
    ([other, e]) => other !== name && e.account === env.account && e.region === env.region,
  );
}

/**
 * An environment with the defaults that depend on its other fields applied: the senders (every
 * address at the domain) and whether it owns the account-level reputation alarms.
 */
export function resolveEnvironment<T extends Omit<ParsedEnvironment, AppOnlyFields>>(
  env: T,
  accountAlarms: boolean,
): T & Pick<EnvironmentConfig, 'credentials' | 'alarms'> {
  return {
    ...env,
    credentials: {
      ...env.credentials,
      allowedFromAddresses:
        env.credentials.allowedFromAddresses ?? defaultAllowedFromAddresses(env.domain, env.fromAddress),
    },
    alarms: { ...env.alarms, accountAlarms },
  };
}

/**
 * The environments that create the account-level alarms, one per account and Region: the one that
 * sets `alarms.accountAlarms` to true, else the first listed that does not set false, among those
 * whose health checks are on if any are (the quota, send-rate and send anomaly alarms live in the
 * health checks; the reputation rate alarms go anywhere).
 */
function accountAlarmOwners(environments: Record<string, ParsedEnvironment>): Set<string> {
  const byAccountRegion = new Map<string, [string, ParsedEnvironment][]>();
  for (const entry of Object.entries(environments)) {
    const key = `${entry[1].account}/${entry[1].region}`;
    byAccountRegion.set(key, [...(byAccountRegion.get(key) ?? []), entry]);
  }
  const owners = new Set<string>();
  for (const group of byAccountRegion.values()) {
    const owner =
      group.find(([, env]) => env.alarms.accountAlarms === true) ??
      group.find(([, env]) => env.alarms.accountAlarms === undefined && env.health.enabled) ??
      group.find(([, env]) => env.alarms.accountAlarms === undefined);
    if (owner) owners.add(owner[0]);
  }
  return owners;
}

/**
 * What the owners of the account-wide alarms may leave unsaid, as synth warnings:
 * - `ses-smtp:accountQuotaAlarmsLost`: an owner by default with health checks off (where the
 *   quota, send-rate and anomaly alarms live) while one of its account and Region has them on
 *   but sets accountAlarms to false: the account has none of those alarms. (Named with true,
 *   such an owner is refused; see checkAcrossFields.)
 * - `ses-smtp:account-alarms-audience`: the alarms notify their owner's alarms.emails only. An
 *   owner by default (often staging, listed first) whose recipients miss another environment's
 *   (production's on-call) leaves those never hearing that the shared account nears an SES
 *   review. Said on the owner and on each environment that misses out (`-c env=production`
 *   synthesizes only that one); naming an owner with accountAlarms true settles it.
 */
function accountAlarmWarnings(
  environments: Record<string, ParsedEnvironment>,
  owners: Set<string>,
): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  for (const owner of owners) {
    const env = environments[owner];
    if (env.alarms.accountAlarms === true) continue;
    const others = siblings(environments, owner);
    const checked = others.filter(([, e]) => e.health.enabled).map(([name]) => name);
    if (!env.health.enabled && checked.length > 0) {
      const many = checked.length > 1;
      warnings.push({
        environment: owner,
        id: 'ses-smtp:accountQuotaAlarmsLost',
        text: `account ${env.account} in ${env.region} has no quota, send-rate or send anomaly alarm: this environment owns its account alarms but has health checks off, and ${checked.join(', ')}, which ${many ? 'have' : 'has'} them, ${many ? 'set' : 'sets'} alarms.accountAlarms to false; drop that false, or turn health checks on here`,
      });
    }
    const heard = new Set(env.alarms.emails.map((e) => e.toLowerCase()));
    const missed = others
      .map(([name, e]) => [name, e, e.alarms.emails.filter((m) => !heard.has(m.toLowerCase()))] as const)
      .filter(([, , emails]) => emails.length > 0);
    if (missed.length === 0) continue;
    const id = 'ses-smtp:account-alarms-audience';
    const what = `the account-wide alarms of account ${env.account} in ${env.region} (its bounce and complaint rates, quota, send rate and volume)`;
    warnings.push({
      environment: owner,
      id,
      text: `${what} go to this environment's alarms.emails only (${env.alarms.emails.join(', ') || 'nobody'}), which owns them by default; ${missed.map(([name, , emails]) => `${name}'s ${emails.join(', ')}`).join('; ')} ${missed.length > 1 || missed[0][2].length > 1 ? 'do' : 'does'} not get them. Set alarms.accountAlarms to true on the environment whose operators should get them (on this one, to keep them here)`,
    });
    for (const [name, e, emails] of missed) {
      // `true` is refused on an environment without health checks beside one with them.
      const move =
        e.health.enabled || (!env.health.enabled && checked.length === 0)
          ? 'Set alarms.accountAlarms to true here to move them here'
          : `Add them to ${owner}'s alarms.emails, or turn health checks on here and set alarms.accountAlarms to true`;
      warnings.push({
        environment: name,
        id,
        text: `${what} do not reach this environment's ${emails.join(', ')}: ${owner} owns them by default and notifies its own alarms.emails only. ${move}`,
      });
    }
  }
  return warnings;
}

/** Fields of an environment that the app around the SesSmtp construct sets, not the construct. */
export type AppOnlyFields =
  | 'account'
  | 'region'
  | 'terminationProtection'
  | 'github'
  | 'acknowledgedWarnings';

/** A value that breaks a rule: where it is, what it was, and what the rule allows. */
export interface Problem {
  readonly path: PropertyKey[];
  readonly input: unknown;
  readonly expected: string;
}

function checkAcrossFields(file: ParsedConfigFile): Problem[] {
  const problems: Problem[] = [];
  const regions = [...SES_SMTP_REGIONS, ...file.additionalSmtpRegions];
  const seenIdentities = new Map<string, string>();
  const alarmOwners = new Map<string, string>();
  const zoneRecords = new Map<string, string>();
  // DNS holds one record set per name and type, wherever the zone is hosted: an environment with
  // manual DNS, or in another hosted zone of the same name, publishes at the same names too.
  const publishedRecords = new Map<string, { name: string; values: string }>();
  // DNS names are global: another environment's MAIL FROM domain (its MX is SES's feedback
  // endpoint) is no place for a sender, whatever the account, Region or zone.
  const mailFromOwners = new Map<string, string>();
  for (const [name, env] of Object.entries(file.environments)) {
    const domain = mailFromDomain(env.domain, env.mailFrom.subdomain);
    if (!mailFromOwners.has(domain)) mailFromOwners.set(domain, name);
  }
  for (const [name, env] of Object.entries(file.environments)) {
    const add = (path: PropertyKey[], input: unknown, expected: string) =>
      problems.push({ path: ['environments', name, ...path], input, expected });
    for (const p of checkEnvironment(env, regions)) add(p.path, p.input, p.expected);
    const senders: [PropertyKey[], string][] = [
      [['fromAddress'], env.fromAddress],
      ...(env.credentials.allowedFromAddresses ?? []).map((address, i): [PropertyKey[], string] => [
        ['credentials', 'allowedFromAddresses', i],
        address,
      ]),
    ];
    const ownMailFrom = mailFromDomain(env.domain, env.mailFrom.subdomain);
    for (const [path, address] of senders) {
      const owner = mailFromOwners.get(domainOf(address));
      // At its own MAIL FROM domain (another environment's too, when both have the same domain),
      // checkEnvironment has refused it already: one line a field.
      if (owner === undefined || owner === name || domainOf(address) === ownMailFrom) continue;
      add(
        path,
        address,
        `an address outside ${domainOf(address)}, the MAIL FROM domain of environment "${owner}" (its MX is SES's feedback endpoint, so replies and forwarded bounces to this address never arrive; SES says a MAIL FROM domain must not receive mail): use another subdomain, or give "${owner}" another mailFrom.subdomain like "bounce"`,
      );
    }
    const identity = `${env.account}/${env.region}/${env.domain}`;
    const other = seenIdentities.get(identity);
    if (other !== undefined) {
      add(
        ['domain'],
        env.domain,
        `a domain not already used by environment "${other}" in the same account and Region`,
      );
    }
    seenIdentities.set(identity, name);
    // An address is one SES identity per account and Region too: a second stack's would fail.
    for (const [i, address] of env.verifiedEmailAddresses.entries()) {
      // The key the list's own repeats are found by: an environment never clashes with itself.
      const key = `${env.account}/${env.region}/${addressKey(address)}`;
      const owner = seenIdentities.get(key);
      if (owner === undefined) seenIdentities.set(key, name);
      else {
        add(
          ['verifiedEmailAddresses', i],
          address,
          `an address not already verified by environment "${owner}" in the same account and Region (SES holds one identity per address there, and it serves every environment of them): list it in "${owner}" only`,
        );
      }
    }

    // SES's reputation metrics are per account and Region: one environment there alarms on them.
    if (env.alarms.accountAlarms === true) {
      const accountRegion = `${env.account} in ${env.region}`;
      const owner = alarmOwners.get(accountRegion);
      // The account's quota, send-rate and send anomaly alarms live in the owner's health checks:
      // refused where they are off while another environment that may own them has them on.
      const checked = env.health.enabled
        ? undefined
        : Object.entries(file.environments).find(
            ([other, e]) =>
              other !== name &&
              e.account === env.account &&
              e.region === env.region &&
              e.health.enabled &&
              e.alarms.accountAlarms !== false,
          );
      if (checked) {
        add(
          ['alarms', 'accountAlarms'],
          true,
          `an environment with health checks: this one has health.enabled false, so account ${accountRegion} would have no quota, send-rate or send anomaly alarm (they live in the owner's health checks); set it on "${checked[0]}" instead, or turn health checks on here`,
        );
      } else if (owner !== undefined) {
        add(
          ['alarms', 'accountAlarms'],
          true,
          `false or no value: environment "${owner}" already creates the account-level reputation alarms of account ${accountRegion} (two would send every alert twice)`,
        );
      } else alarmOwners.set(accountRegion, name);
    }

    // Two environments writing one record set into one hosted zone collide at deploy time:
    // one line per pair of environments, naming every shared record and every field to change.
    const zone = env.dns.mode === 'route53' ? env.dns.hostedZoneId : undefined;
    const clashes = new Map<string, DnsRecord[]>();
    // Another environment's record at the same name and type with other values (another Region's
    // MAIL FROM MX, another DMARC policy): whoever publishes second replaces the first's.
    const conflicts = new Map<string, DnsRecord[]>();
    for (const { record, key } of zoneRecordsOf(zone ?? '', env)) {
      const other = zone === undefined ? undefined : zoneRecords.get(key);
      if (zone !== undefined && other === undefined) zoneRecords.set(key, name);
      else if (other !== undefined) clashes.set(other, [...(clashes.get(other) ?? []), record]);
      const dnsKey = `${bareName(record.name)} ${record.type}`;
      const values = JSON.stringify([...record.values].sort());
      const published = publishedRecords.get(dnsKey);
      if (published === undefined) publishedRecords.set(dnsKey, { name, values });
      else if (published.values !== values && !clashes.has(published.name)) {
        conflicts.set(published.name, [...(conflicts.get(published.name) ?? []), record]);
      }
    }
    const describe = (records: DnsRecord[]) => ({
      fields: [...new Set(records.map((r) => RECORD_FIELDS[r.key]))],
      shared: [...new Set(records.map((r) => bareName(r.name)))].map(
        (n) =>
          `${n} (${records
            .filter((r) => bareName(r.name) === n)
            .map((r) => r.type)
            .join(', ')})`,
      ),
    });
    for (const [other, records] of clashes) {
      const { fields, shared } = describe(records);
      add(
        fields[0].path.split('.'),
        fields[0].value(env),
        `records that environment "${other}" does not also write into hosted zone ${zone}; both write ${shared.join(', ')}: ${fields.map((f) => f.fix).join(' and ')}`,
      );
    }
    for (const [other, records] of conflicts) {
      if (clashes.has(other)) continue;
      const { fields, shared } = describe(records);
      add(
        fields[0].path.split('.'),
        fields[0].value(env),
        `no record that environment "${other}" publishes with other values (DNS holds one record set per name and type, whatever the DNS mode or hosted zone: the one published second replaces the other); both publish ${shared.join(', ')}: ${fields.map((f) => f.fix).join(' and ')}`,
      );
    }
  }
  problems.push(...gitHubProblems(file));
  return problems;
}

/**
 * The rules across the fields of one environment (paths relative to it), for a well-formed
 * environment. `smtpRegions` are the Regions accepted for `region`.
 */
export function checkEnvironment(
  env: Omit<ParsedEnvironment, Exclude<AppOnlyFields, 'region'>> & { account?: string },
  smtpRegions: readonly string[],
): Problem[] {
  const problems: Problem[] = [];
  const add = (path: (string | number)[], input: unknown, expected: string) =>
    problems.push({ path, input, expected });

  // The restart function runs in the environment's account and Region and calls ECS there.
  // An account still unknown (a token, in a Stack without one) is not compared.
  const place = { region: env.region, account: /^\d{12}$/.test(env.account ?? '') ? env.account : undefined };
  env.credentials.restartEcsServices.forEach((arn, i) => {
    // A malformed one is the schema's to report.
    if (parseServiceArn(arn) && !isServiceOf(arn, place))
      add(
        ['credentials', 'restartEcsServices', i],
        arn,
        `a service of the environment's account and Region (${serviceArnOf(place)}): the function that restarts it runs there`,
      );
  });

  if (!smtpRegions.includes(env.region)) {
    add(
      ['region'],
      env.region,
      `a Region with an SES SMTP endpoint (${smtpRegions.join(', ')}); a newer one can be added under "additionalSmtpRegions"`,
    );
  }
  // SES: the MAIL FROM domain can't receive mail (its MX is SES's feedback endpoint), nor be a From
  // domain while email feedback forwarding is on (the identity's default, which the stack keeps).
  const mailFrom = mailFromDomain(env.domain, env.mailFrom.subdomain);
  // A DNS name has at most 253 characters (RFC 1035 §2.3.4): so must the names the stack writes.
  const dkimName = DKIM_TOKEN_LENGTH + '._domainkey.'.length + env.domain.length;
  if (dkimName > 253) {
    add(
      ['domain'],
      env.domain,
      `a domain of at most ${253 - dkimName + env.domain.length} characters: the Easy DKIM CNAMEs "<${DKIM_TOKEN_LENGTH}-character token>._domainkey.<domain>" would have ${dkimName} (a DNS name has at most 253)`,
    );
  } else if (mailFrom.length > 253) {
    add(
      ['domain'],
      env.domain,
      `a domain of at most ${253 - mailFrom.length + env.domain.length} characters with mailFrom.subdomain "${env.mailFrom.subdomain}": the MAIL FROM records "${env.mailFrom.subdomain}.<domain>" would have ${mailFrom.length} (a DNS name has at most 253); shorten the domain or mailFrom.subdomain`,
    );
  }
  const notAtMailFrom = `an address outside the MAIL FROM domain ${mailFrom} (SES takes bounces there, and refuses it as a From domain while email feedback forwarding is on, as this stack leaves it); use another subdomain, or give mailFrom.subdomain another label like "bounce"`;
  const senders = env.credentials.allowedFromAddresses;
  let fromOk = false;
  if (!isAtDomain(env.fromAddress, env.domain)) {
    add(['fromAddress'], env.fromAddress, `an address at ${env.domain} or one of its subdomains`);
  } else if (domainOf(env.fromAddress) === mailFrom) {
    add(['fromAddress'], env.fromAddress, notAtMailFrom);
  } else {
    fromOk = true;
  }
  let listOk = true;
  env.credentials.allowedFromAddresses?.forEach((address, i) => {
    if (!isAtDomain(address.replace(/@\*\./, '@'), env.domain)) {
      listOk = false;
      add(
        ['credentials', 'allowedFromAddresses', i],
        address,
        `an address at ${env.domain} or one of its subdomains`,
      );
    } else if (domainOf(address) === mailFrom) {
      listOk = false;
      add(['credentials', 'allowedFromAddresses', i], address, notAtMailFrom);
    }
  });
  // Checked against a well-formed sender and list only: a wrong entry is the one line to fix.
  if (senders && fromOk && listOk && !allowsSender(senders, env.fromAddress)) {
    add(['fromAddress'], env.fromAddress, senderNotAllowed(senders));
  }
  // Strict alignment wants the exact From domain (RFC 7489 §3.1): SES signs with d=<domain> and
  // its MAIL FROM is <mailFrom>, so under both a sender at a subdomain aligns with neither.
  const unaligned = [...(fromOk ? [env.fromAddress] : []), ...(listOk ? (senders ?? []) : [])].find(
    (address) => domainOf(address) !== env.domain,
  );
  if (
    env.dmarc.enabled &&
    env.dmarc.dkimAlignment === 'strict' &&
    env.dmarc.spfAlignment === 'strict' &&
    unaligned
  ) {
    add(
      ['dmarc', 'spfAlignment'],
      env.dmarc.spfAlignment,
      `"relaxed" (or dkimAlignment "relaxed"), or only senders at ${env.domain} itself: with both alignments strict, mail from ${unaligned} fails DMARC, as SES signs it with d=${env.domain} and its MAIL FROM is ${mailFrom}`,
    );
  }
  if (env.dns.mode === 'route53' && !isAtOrUnder(env.domain, env.dns.zoneName)) {
    add(
      ['dns', 'zoneName'],
      env.dns.zoneName,
      `the hosted zone of ${env.domain}: that name or one of its parents`,
    );
  }
  const levels = [
    [['alarms', 'bounceRatePercent'], env.alarms.bounceRatePercent],
    [['alarms', 'complaintRatePercent'], env.alarms.complaintRatePercent],
    [['health', 'quotaPercent'], env.health.quotaPercent],
  ] as const;
  for (const [path, level] of levels) {
    if (level.warning >= level.critical) {
      add(
        [...path, 'warning'],
        level.warning,
        `a warning level below the critical level (${level.critical})`,
      );
    }
  }
  env.apexSpf.otherTxtValues.forEach((value, i) => {
    if (isSpfRecord(value.replace(/^"/, ''))) {
      add(
        ['apexSpf', 'otherTxtValues', i],
        value,
        'a non-SPF value: put SPF mechanisms in "apexSpf.otherMechanisms", the stack writes the one SPF record',
      );
    }
  });
  const explanations = env.apexSpf.otherMechanisms
    .map((term, i) => [term, i] as const)
    .filter(([term]) => /^exp=/i.test(term));
  explanations
    .slice(1)
    .forEach(([term, i]) =>
      add(
        ['apexSpf', 'otherMechanisms', i],
        term,
        `at most one "exp=" modifier (RFC 7208 §6; the first is [${explanations[0][1]}])`,
      ),
    );
  if (env.dns.mode === 'route53') {
    const tooLong = (value: string) =>
      route53TxtLength(value) > ROUTE53_VALUE_MAX &&
      `Route 53 stores at most ${ROUTE53_VALUE_MAX} characters of a record value, and this one takes ${route53TxtLength(value)} once split into quoted strings of 255 characters`;
    env.apexSpf.otherTxtValues.forEach((value, i) => {
      const problem = tooLong(value);
      if (problem) add(['apexSpf', 'otherTxtValues', i], value, `a shorter value: ${problem}`);
    });
    const spf = env.apexSpf.enabled && tooLong(apexSpfValue(env.apexSpf));
    if (spf)
      add(
        ['apexSpf', 'otherMechanisms'],
        env.apexSpf.otherMechanisms,
        `fewer or shorter terms: the SPF record ${spf}`,
      );
    const dmarc = env.dmarc.enabled && tooLong(dmarcValue(env.dmarc));
    if (dmarc) {
      add(
        ['dmarc'],
        env.dmarc,
        `fewer or shorter report URIs (aggregateReportUris, forensicReportUris): the DMARC record ${dmarc}`,
      );
    }
  }
  // The record writes include:amazonses.com once, whether or not the list repeats it.
  const lookups = spfLookupCount(env.apexSpf.otherMechanisms.filter((t) => !isSesSpfInclude(t))) + 1;
  if (env.apexSpf.enabled && lookups > 10) {
    add(
      ['apexSpf', 'otherMechanisms'],
      env.apexSpf.otherMechanisms,
      `at most 9 mechanisms that need DNS lookups (SPF allows 10 and include:amazonses.com takes one), got ${lookups}`,
    );
  }
  return problems;
}

/** One line per problem, each naming `source`, the field, the value received and what is allowed. */
export function problemLines(source: string, problems: readonly Problem[]): string[] {
  return problems.map((p) => line(source, p.path, p.input, p.expected));
}

/**
 * An issue of a zod parse, as issueLines takes it: declared without zod's types, so that the
 * package's declarations never reach zod's (see types.ts). Every zod issue is one.
 */
export interface SchemaIssue {
  readonly code: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** One line per zod issue, in the same form as problemLines. */
export function issueLines(source: string, schemaIssues: readonly SchemaIssue[]): string[] {
  const issues = schemaIssues as readonly z.core.$ZodIssue[];
  // One value, one line: a value that breaks two rules (a pattern and a length) is reported once.
  const seen = new Set<string>();
  const first = issues.filter((issue) => {
    const key = JSON.stringify(issue.path);
    return issue.code === 'unrecognized_keys' || (!seen.has(key) && !!seen.add(key));
  });
  return first.flatMap((issue) => describeIssue(issue, source));
}

/** Which field of an environment makes it write a record, and how to avoid a collision. */
const MAIL_FROM_FIELD = {
  path: 'mailFrom.subdomain',
  value: (env: Pick<ParsedEnvironment, 'mailFrom'>) => env.mailFrom.subdomain,
  fix: 'give one of them another mailFrom.subdomain (like "mail-eu")',
};
export const RECORD_FIELDS: Record<
  string,
  {
    path: string;
    value: (env: Pick<ParsedEnvironment, 'mailFrom' | 'dmarc' | 'apexSpf'>) => unknown;
    fix: string;
  }
> = {
  MailFromMx: MAIL_FROM_FIELD,
  MailFromTxt: MAIL_FROM_FIELD,
  DmarcTxt: {
    path: 'dmarc.enabled',
    value: (env) => env.dmarc.enabled,
    fix: 'set dmarc.enabled to false in one of them (a name holds one DMARC record)',
  },
  ApexTxt: {
    path: 'apexSpf.enabled',
    value: (env) => env.apexSpf.enabled,
    fix: 'set apexSpf.enabled to false in one of them (a name holds one TXT record set)',
  },
};

/**
 * The records an environment writes into hosted zone `zoneId`, besides the DKIM CNAMEs (unique
 * per identity), each with the key two writers of one record set share (zone, name, type).
 */
export function zoneRecordsOf(
  zoneId: string,
  env: Pick<ParsedEnvironment, 'domain' | 'mailFrom' | 'region' | 'dmarc' | 'apexSpf'>,
): { record: DnsRecord; key: string }[] {
  return [
    ...mailFromRecords(env.domain, env.mailFrom.subdomain, env.region),
    ...(env.dmarc.enabled ? [dmarcRecord(env.domain, env.dmarc)] : []),
    ...(env.apexSpf.enabled ? [apexTxtRecord(env.domain, env.apexSpf)] : []),
  ].map((record) => ({ record, key: `${zoneId} ${record.name.toLowerCase()} ${record.type}` }));
}

function describeIssue(issue: z.core.$ZodIssue, source: string): string[] {
  if (issue.code === 'unrecognized_keys') {
    const input = (issue.input ?? {}) as Record<string, unknown>;
    // A name with an invisible character looks like a known one: say which character to remove.
    return issue.keys.map((key) =>
      line(
        source,
        [...issue.path, key],
        input[key],
        `${issue.message}${invisibleHint(key)}`,
        'got unknown field with value',
      ),
    );
  }
  if (issue.code === 'invalid_key') {
    const expected = issue.issues[0]?.message ?? issue.message;
    return [
      line(source, issue.path.slice(0, -1), issue.path[issue.path.length - 1], expected, 'got the name'),
    ];
  }
  // A discriminated union reports the whole object at the discriminator's path: show the discriminator.
  const last = issue.path[issue.path.length - 1];
  const input =
    issue.code === 'invalid_union' &&
    typeof issue.input === 'object' &&
    issue.input !== null &&
    typeof last === 'string'
      ? (issue.input as Record<string, unknown>)[last]
      : issue.input;
  return [line(source, issue.path, input, expectation(issue))];
}

/**
 * Where `raw` (as JSON.parse made it) holds a member named "__proto__": each path to one. A walk
 * without recursion: a file may nest thousands of levels deep.
 */
function protoKeys(raw: unknown): PropertyKey[][] {
  const found: PropertyKey[][] = [];
  const todo: [unknown, PropertyKey[]][] = [[raw, []]];
  for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
    const [value, at] = next;
    if (typeof value !== 'object' || value === null) continue;
    const list = Array.isArray(value);
    if (!list && Object.hasOwn(value, '__proto__')) found.push([...at, '__proto__']);
    for (const [key, child] of Object.entries(value)) todo.push([child, [...at, list ? Number(key) : key]]);
  }
  return found;
}

function line(
  source: string,
  path: PropertyKey[],
  input: unknown,
  expected: string,
  gotLabel = 'got',
): string {
  const where =
    path[0] === 'environments' && path.length >= 2
      ? `environment "${shownName(String(path[1]))}", field "${formatPath(path.slice(2)) || '(whole environment)'}"`
      : `field "${formatPath(path) || '(top level)'}"`;
  const got = input === undefined ? 'nothing (the field is required)' : `${gotLabel} ${formatValue(input)}`;
  // A URL's password in a field's name or an object's key too (values are masked before quoting).
  return maskUrlPassword(`${source}: ${where}: ${got}, expected ${expected}`);
}

function formatPath(path: PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${shownName(String(p))}`))
    .join('');
}

/**
 * A member name of the file in a message, escaped where shownPath would quote it (a line break, an
 * escape sequence, an invisible character), without the quotes: the line sets it in its own.
 */
function shownName(name: string): string {
  const shown = shownPath(name);
  return shown === name ? name : shown.slice(1, -1);
}

function formatValue(value: unknown): string {
  // JSON.parse reads 1e400 as Infinity, which JSON.stringify would show as null.
  if (typeof value === 'number' && !Number.isFinite(value))
    return Number.isNaN(value) ? 'NaN' : `${value} (a number beyond 1.8e308, more than JSON parsers hold)`;
  let json: string | undefined;
  try {
    // A URL's password (a refused webhookUrl) is not repeated in an error line.
    json = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? maskUrlPassword(v) : v));
  } catch (error) {
    // A construct (circular) passed for a setting in code, or thousands of [[[...]]] in a file.
    // aws-cdk-lib's classes carry their jsii name (their JavaScript names may end in a digit).
    const type = (value as object | null)?.constructor as
      | { name: string; [key: symbol]: { fqn?: string } | undefined }
      | undefined;
    const name = type?.[Symbol.for('jsii.rtti')]?.fqn?.split('.').at(-1) ?? type?.name;
    return error instanceof RangeError || !name ? 'a value nested too deeply to show' : `a ${name}`;
  }
  const text = escapeInvisible(json ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

const TYPE_NAMES: Record<string, string> = {
  int: 'a whole number',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  record: 'an object',
};

/** The "expected ..." half of a message: our own text when the schema gave one, else one built from the issue. */
function expectation(issue: z.core.$ZodIssue): string {
  const isZodDefault = /^(Invalid|Too (big|small)|Unrecognized|Expected)/.test(issue.message);
  if (!isZodDefault) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return TYPE_NAMES[issue.expected] ?? issue.expected;
    case 'invalid_value':
      return `one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const cmp = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
      if (issue.origin === 'array')
        return `a list with ${issue.code === 'too_small' ? 'at least' : 'at most'} ${bound} item(s)`;
      if (issue.origin === 'string')
        return `a text of ${issue.code === 'too_small' ? 'at least' : 'at most'} ${bound} character(s)`;
      return `a number ${cmp} ${bound}`;
    }
    default:
      return issue.message;
  }
}
