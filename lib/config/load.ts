import * as fs from 'node:fs';
import { z } from 'zod';
import { gitHubProblems } from './github';
import { ConfigFile, ConfigFileSchema, EnvironmentConfig } from './schema';
import { SES_SMTP_REGIONS } from './smtp-regions';

/** Default location of the environments file, relative to the working directory. */
export const DEFAULT_CONFIG_PATH = 'config/environments.json';

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
}

/** Reads, parses and validates an environments file. Throws ConfigError on any problem. */
export function loadConfig(path: string = DEFAULT_CONFIG_PATH, only?: string): LoadedConfig {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError([
      `${path}: cannot read the environments file; create it (see README "Configuration") or pass -c config=PATH`,
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([`${path}: not valid JSON (${(e as Error).message}); fix the syntax`]);
  }
  const file = parseConfig(raw, path);
  const names = Object.keys(file.environments);
  if (only !== undefined && !names.includes(only)) {
    throw new ConfigError([
      `${path}: got -c env=${JSON.stringify(only)}, expected one of the environments in the file: ${names.join(', ')}`,
    ]);
  }
  return {
    path,
    file,
    environments: names
      .filter((name) => only === undefined || name === only)
      .map((name) => ({ name, config: file.environments[name] })),
  };
}

/** Validates an already-parsed environments document; `source` names it in messages. */
export function parseConfig(raw: unknown, source: string): ConfigFile {
  const result = ConfigFileSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    throw new ConfigError(result.error.issues.flatMap((issue) => describeIssue(issue, source)));
  }
  // Rules across fields run only on a well-formed file, so they never report a follow-on error.
  const problems = checkAcrossFields(result.data).map((p) => line(source, p.path, p.input, p.expected));
  if (problems.length) throw new ConfigError(problems);
  return result.data;
}

interface Problem {
  readonly path: PropertyKey[];
  readonly input: unknown;
  readonly expected: string;
}

function checkAcrossFields(file: ConfigFile): Problem[] {
  const problems: Problem[] = [];
  const regions = new Set([...SES_SMTP_REGIONS, ...file.additionalSmtpRegions]);
  const seenIdentities = new Map<string, string>();
  for (const [name, env] of Object.entries(file.environments)) {
    const add = (path: (string | number)[], input: unknown, expected: string) =>
      problems.push({ path: ['environments', name, ...path], input, expected });

    if (!regions.has(env.region)) {
      add(
        ['region'],
        env.region,
        `a Region with an SES SMTP endpoint (${[...regions].join(', ')}); a newer one can be added under "additionalSmtpRegions"`,
      );
    }
    if (!isAtDomain(env.fromAddress, env.domain)) {
      add(['fromAddress'], env.fromAddress, `an address at ${env.domain} or one of its subdomains`);
    }
    env.credentials.allowedFromAddresses?.forEach((address, i) => {
      if (!isAtDomain(address, env.domain)) {
        add(
          ['credentials', 'allowedFromAddresses', i],
          address,
          `an address at ${env.domain} or one of its subdomains`,
        );
      }
    });
    if (env.dns.mode === 'route53' && !isAtOrUnder(env.domain, env.dns.zoneName)) {
      add(
        ['dns', 'zoneName'],
        env.dns.zoneName,
        `the hosted zone of ${env.domain}: that name or one of its parents`,
      );
    }
    for (const key of ['bounceRatePercent', 'complaintRatePercent'] as const) {
      const level = env.alarms[key];
      if (level.warning >= level.critical) {
        add(
          ['alarms', key, 'warning'],
          level.warning,
          `a warning level below the critical level (${level.critical})`,
        );
      }
    }
    env.apexSpf.otherTxtValues.forEach((value, i) => {
      if (/^"?v=spf1\b/i.test(value)) {
        add(
          ['apexSpf', 'otherTxtValues', i],
          value,
          'a non-SPF value: put SPF mechanisms in "apexSpf.otherMechanisms", the stack writes the one SPF record',
        );
      }
    });
    const lookups = spfLookupCount(env.apexSpf.otherMechanisms) + 1; // +1: include:amazonses.com
    if (env.apexSpf.enabled && lookups > 10) {
      add(
        ['apexSpf', 'otherMechanisms'],
        env.apexSpf.otherMechanisms,
        `at most 9 mechanisms that need DNS lookups (SPF allows 10 and include:amazonses.com takes one), got ${lookups}`,
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
  }
  problems.push(...gitHubProblems(file));
  return problems;
}

/** SPF terms that cost a DNS lookup under RFC 7208 section 4.6.4. */
export function spfLookupCount(terms: readonly string[]): number {
  return terms.filter((t) => /^[+?~-]?(include:|a\b|mx\b|ptr\b|exists:|redirect=)/.test(t)).length;
}

function isAtOrUnder(name: string, parent: string): boolean {
  return name === parent || name.endsWith(`.${parent}`);
}

function isAtDomain(address: string, domain: string): boolean {
  const at = address.lastIndexOf('@');
  return at > 0 && isAtOrUnder(address.slice(at + 1), domain);
}

function describeIssue(issue: z.core.$ZodIssue, source: string): string[] {
  if (issue.code === 'unrecognized_keys') {
    const input = (issue.input ?? {}) as Record<string, unknown>;
    return issue.keys.map((key) =>
      line(source, [...issue.path, key], input[key], issue.message, 'got unknown field with value'),
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

function line(
  source: string,
  path: PropertyKey[],
  input: unknown,
  expected: string,
  gotLabel = 'got',
): string {
  const where =
    path[0] === 'environments' && path.length >= 2
      ? `environment "${String(path[1])}", field "${formatPath(path.slice(2)) || '(whole environment)'}"`
      : `field "${formatPath(path) || '(top level)'}"`;
  const got = input === undefined ? 'nothing (the field is required)' : `${gotLabel} ${formatValue(input)}`;
  return `${source}: ${where}: ${got}, expected ${expected}`;
}

function formatPath(path: PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

function formatValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
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
