import * as fs from 'node:fs';
import * as path from 'node:path';
import { CHECKS, FREQUENT_CHECKS } from '../lambda/shared/checks';
import { COMMANDS, GLOBAL_OPTIONS } from '../lib/cli/command-table';
import { cliActions, commandEntry as entryOf } from './support/cli-calls';
import { RAILS_SMTP_SETTINGS } from '../lib/cli/commands/env';
import { SMTP_CONTAINER_VARIABLES, SMTP_CREDENTIALS_JSON_VARIABLE } from '../lib/ecs-secrets';

/*
 * The README's configuration reference against the JSON Schema the validator generates: every
 * field of an environment has one row, every row names a field that exists, and a default written
 * as a JSON literal is the schema's default. Also: no merge-conflict markers anywhere (a
 * formatter turns them into table rows and quotes, so they survive the format check).
 */

const README = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
const SCHEMA = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'config', 'environments.schema.json'), 'utf8'),
) as { properties: { environments: { additionalProperties: JsonSchema } } };

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  default?: unknown;
}

/** Documented fields: objects are opened down to the level the README documents. */
function fields(schema: JsonSchema, prefix = ''): Map<string, JsonSchema> {
  const out = new Map<string, JsonSchema>();
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const key = prefix + name;
    // Settings groups are opened; a threshold pair ({warning, critical}) is one value.
    const opened = child.type === 'object' && child.properties && !('warning' in child.properties);
    if (opened && prefix === '') for (const [k, v] of fields(child, `${key}.`)) out.set(k, v);
    // A field without a default of its own takes the one its group's default gives it.
    else
      out.set(key, {
        ...child,
        default: child.default ?? (schema.default as Record<string, unknown>)?.[name],
      });
  }
  return out;
}

/** The configuration reference: the first table under "## Configuration", field cell -> default cell (and the row's text). */
function referenceRows(): { keys: string[]; default: string; text: string }[] {
  const section = README.slice(README.indexOf('\n## Configuration\n'));
  const lines = section.split('\n');
  const start = lines.findIndex((l) => l.startsWith('| Field '));
  const rows: { keys: string[]; default: string; text: string }[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [, field, def, meaning] = line.split('|').map((c) => c.trim());
    // "`dmarc.dkimAlignment` / `spfAlignment`": the second name shares the first's group.
    const names = field.split(' / ').map((n) => n.replace(/`/g, ''));
    const group = names[0].includes('.') ? names[0].slice(0, names[0].lastIndexOf('.') + 1) : '';
    rows.push({
      keys: names.map((n, i) => (i > 0 && !n.includes('.') ? group + n : n)),
      default: def,
      text: `${def} | ${meaning}`,
    });
  }
  return rows;
}

test('the README has no merge-conflict markers', () => {
  const markers = README.split('\n').filter((l) => /^(<{7}|={7}|>{7}|(> ){7}|\| ={7})/.test(l));
  expect(markers).toEqual([]);
});

test('the configuration reference has one row per environment field, and no other', () => {
  const schema = fields(SCHEMA.properties.environments.additionalProperties);
  const documented = referenceRows().flatMap((r) => r.keys);
  expect(documented.filter((k, i) => documented.indexOf(k) !== i)).toEqual([]);
  expect([...documented].sort()).toEqual([...schema.keys()].filter((k) => !k.startsWith('github.')).sort());
});

test("a default written as a JSON literal is the schema's default", () => {
  const schema = fields(SCHEMA.properties.environments.additionalProperties);
  let compared = 0;
  for (const row of referenceRows()) {
    const literals = row.default.split(' / ');
    if (!literals.every((l) => /^`.*`$/.test(l))) continue; // prose ("required", "inherit", ...)
    row.keys.forEach((key, i) => {
      const literal = literals[Math.min(i, literals.length - 1)].slice(1, -1);
      expect({ key, default: JSON.parse(literal) }).toEqual({ key, default: schema.get(key)!.default });
      compared++;
    });
  }
  expect(compared).toBeGreaterThan(25);
});

/** The parts of a JSON schema node that hold other nodes. */
interface SchemaNode<T> {
  properties?: Record<string, T>;
  items?: T;
  anyOf?: T[];
  oneOf?: T[];
}

/** A JSON schema node's properties, items and alternatives (what a field's rules sit in). */
function subschemas<T extends SchemaNode<T>>(node: T): T[] {
  return [
    ...Object.values(node.properties ?? {}),
    ...(node.items ? [node.items] : []),
    ...(node.anyOf ?? []),
    ...(node.oneOf ?? []),
  ];
}

/** Every numeric limit under a JSON Schema node (its properties, items and alternatives), by kind. */
function limits(node: JsonSchemaLimits, out: [string, number][] = []): [string, number][] {
  for (const kind of [
    'minimum',
    'exclusiveMinimum',
    'maximum',
    'exclusiveMaximum',
    'maxItems',
    'minItems',
    'maxLength',
    'maxProperties',
  ] as const)
    if (node[kind] !== undefined) out.push([kind, node[kind]]);
  for (const child of subschemas(node)) limits(child, out);
  if (typeof node.additionalProperties === 'object') limits(node.additionalProperties, out);
  if (node.propertyNames) limits(node.propertyNames, out);
  return out;
}

interface JsonSchemaLimits extends SchemaNode<JsonSchemaLimits> {
  additionalProperties?: JsonSchemaLimits | boolean;
  propertyNames?: JsonSchemaLimits;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  exclusiveMaximum?: number;
  maxItems?: number;
  minItems?: number;
  maxLength?: number;
  maxProperties?: number;
}

/*
 * A value out of range fails synth: the row says where the range ends. An upper limit is written
 * with its number ("below 10" when the limit itself is refused), a lower one above 0 too, a list
 * that may not be empty says "at least one", and a warning/critical pair says which is lower.
 */
test("each field's row gives the limits the schema sets", () => {
  const schema = fields(SCHEMA.properties.environments.additionalProperties);
  const row = new Map(referenceRows().flatMap((r) => r.keys.map((k) => [k, r.text])));
  const missing: string[] = [];
  for (const [key, node] of schema) {
    const text = row.get(key);
    if (text === undefined) continue; // the row-per-field test reports it
    const word = (n: number) => String(n).replace('.', '\\.');
    for (const [kind, n] of limits(node as JsonSchemaLimits)) {
      const said =
        kind === 'exclusiveMaximum'
          ? new RegExp(`below ${word(n)}\\b`)
          : kind === 'minItems'
            ? /at least one/
            : (kind === 'minimum' || kind === 'exclusiveMinimum') && n === 0
              ? kind === 'minimum'
                ? /\b0(-| to )|\b0`? turns/
                : /above 0\b/
              : new RegExp(`(?<![\\d.])${word(n)}(?![\\d.]*\\d)`);
      if (!said.test(text)) missing.push(`${key}: ${kind} ${n}`);
    }
    const properties = (node as JsonSchemaLimits).properties;
    if (properties && 'warning' in properties && !/warning below the critical/.test(text))
      missing.push(`${key}: the warning below the critical`);
  }
  expect([...new Set(missing)]).toEqual([]);
});

/** Every value a field takes from a fixed list (an enum, or one alternative's const), in and under `node`. */
function choices(node: JsonSchemaChoices, out: string[] = []): string[] {
  out.push(...(node.enum ?? []));
  if (node.const !== undefined) out.push(node.const);
  for (const child of subschemas(node)) choices(child, out);
  return out;
}

interface JsonSchemaChoices extends SchemaNode<JsonSchemaChoices> {
  enum?: string[];
  const?: string;
}

// A field that takes one of a list of words: its row names each, as a user writes it (`x` or "x").
test("each field's row names every value the schema lets it take from a list", () => {
  const schema = fields(SCHEMA.properties.environments.additionalProperties);
  const row = new Map(referenceRows().flatMap((r) => r.keys.map((k) => [k, r.text])));
  const missing: string[] = [];
  let compared = 0;
  for (const [key, node] of schema) {
    const text = row.get(key);
    if (text === undefined) continue; // the row-per-field test reports it
    for (const value of choices(node as JsonSchemaChoices)) {
      compared++;
      const word = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      if (!new RegExp(`[\`"]${word}[\`"]`).test(text)) missing.push(`${key}: ${value}`);
    }
  }
  expect(compared).toBeGreaterThan(20);
  expect(missing).toEqual([]);
});

/** The first group of each match of `pattern` in lib/'s TypeScript sources. */
function capturedInLib(pattern: RegExp): Set<string> {
  const libDir = path.join(__dirname, '..', 'lib');
  const found = new Set<string>();
  for (const file of fs.readdirSync(libDir, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts')) continue;
    for (const [, value] of fs.readFileSync(path.join(libDir, file), 'utf8').matchAll(pattern))
      found.add(value);
  }
  return found;
}

// A synth warning is acknowledged by its id (Annotations.acknowledgeWarning): the README names each.
test('every synth warning id the code adds is named in the README', () => {
  const ids = capturedInLib(/['`"](ses-smtp:[a-zA-Z-]+)['`"]/g);
  ids.delete('ses-smtp:environment'); // the tag key, not a warning
  expect(ids.size).toBeGreaterThan(10);
  expect([...ids].filter((id) => !README.includes(`\`${id}\``))).toEqual([]);
});

test("health.quotaSchedule's row names every check of the hourly run", () => {
  const row = README.split('\n').find((l) => l.startsWith('| `health.schedule` / `health.quotaSchedule`'))!;
  const hourly = row.split('|')[3].split(' / ')[1];
  for (const check of FREQUENT_CHECKS)
    expect({ check: check.id, hourly }).toEqual({
      check: check.id,
      hourly: expect.stringMatching(new RegExp(`\\b${check.id.replace(/-/g, ' ')}\\b`, 'i')),
    });
});

// "Deploy from GitHub Actions" has the table of the github settings, top level and per environment.
test('the GitHub Actions field table has one row per github field of the schema, and no other', () => {
  const section = README.slice(README.indexOf('\n### Access: one stack per account\n'));
  const lines = section.split('\n');
  const start = lines.findIndex((l) => l.startsWith('| Field '));
  const documented: string[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    // "`github.ownerId` / `repositoryId`": the second name shares the first's group.
    const names = [...line.split('|')[1].matchAll(/`([^`]+)`/g)].map(([, n]) => n);
    const group = names[0].slice(0, names[0].lastIndexOf('.') + 1);
    documented.push(...names.map((n, i) => (i > 0 && !n.includes('.') ? group + n : n)));
  }
  const file = JSON.parse(
    fs.readFileSync(path.join(__dirname, '..', 'config', 'environments.schema.json'), 'utf8'),
  ) as { properties: { github: JsonSchema } };
  const environment = SCHEMA.properties.environments.additionalProperties.properties!;
  expect(documented.sort()).toEqual(
    [
      ...Object.keys(file.properties.github.properties!).map((k) => `github.${k}`),
      ...Object.keys(environment.github.properties!).map((k) => `<env>.github.${k}`),
      '<env>.terminationProtection',
    ].sort(),
  );
});

/*
 * The operator's IAM permissions: each command's row names every AWS action the command can call
 * (the SDK commands it sends), its own module's and those of the shared code it runs (the health
 * checks, another command's helpers), so a command that starts calling something new needs its
 * row. What every command shares (the stack's outputs, the secret read, the health-check
 * function's settings) is described once above the table, and counts for every row.
 */
describe("the operator's IAM permissions table", () => {
  const section = README.slice(README.indexOf("### The operator's IAM permissions"));
  const shared = section.slice(0, section.indexOf('| Command'));
  const rows = new Map(
    [
      ...section
        .slice(0, section.indexOf('\n\n', section.indexOf('| Command')))
        .matchAll(/^\| ([^|]+?) +\| (.+?) +\|$/gm),
    ]
      .slice(2)
      .flatMap(([, commands, calls]) => [...commands.matchAll(/`([a-z-]+)`/g)].map(([, c]) => [c, calls])),
  );
  const reachable = cliActions;

  test('every command has a row', () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(COMMANDS).sort());
  });

  test('the calls are followed into the shared code (doctor reaches the health checks and test-alarm)', () => {
    const doctor = reachable(entryOf('doctor').file, entryOf('doctor').fn);
    expect(doctor).toEqual(
      expect.arrayContaining(['DescribeServices', 'DescribeAlarmHistory', 'GetSecretValue']),
    );
    // Only what is reached: pause reads the identity through the health checks' readIdentity alone.
    expect(reachable(entryOf('pause').file, entryOf('pause').fn)).not.toContain('DescribeServices');
  });

  test.each(Object.keys(COMMANDS))('%s: its row names each action it calls', (name) => {
    // "then as `rotate`": the row of that command counts too.
    const row = rows.get(name)!;
    const text = [
      shared,
      row,
      ...[...row.matchAll(/as `([a-z-]+)`/g)].map(([, other]) => rows.get(other)),
    ].join(' ');
    const { file, fn } = entryOf(name);
    const actions = reachable(file, fn);
    expect(actions.length).toBeGreaterThan(0);
    expect({
      name,
      missing: actions.filter((action) => !new RegExp(`:${action}\\b|\`${action}\``).test(text)),
    }).toEqual({ name, missing: [] });
  });
  // The other way: a row that names an action the command never needs would have operators grant
  // more than it uses. Permissions AWS checks for a call without being sent: RotateSecret's
  // lambda:InvokeFunction on the rotation function, the secret read's kms:Decrypt.
  const ASKED_BY_AWS = new Set(['lambda:InvokeFunction', 'kms:Decrypt']);
  test.each(Object.keys(COMMANDS))('%s: its row names no action it never calls', (name) => {
    const { file, fn } = entryOf(name);
    const actions = new Set(reachable(file, fn));
    const named = [...rows.get(name)!.matchAll(/`([a-z0-9-]+):([A-Za-z]+)`/g)];
    expect({
      name,
      uncalled: named
        .filter(([, service, action]) => !actions.has(action) && !ASKED_BY_AWS.has(`${service}:${action}`))
        .map(([text]) => text),
    }).toEqual({ name, uncalled: [] });
  });
});

test('every stack output the README names is one SesSmtp or the access stack makes', () => {
  const outputs = capturedInLib(/new CfnOutput\(this, [`']([A-Za-z]+)/g);
  const named = new Set<string>();
  for (const [, id, before] of README.matchAll(/outputs? `([A-Za-z]+)`|`([A-Za-z]+)` output/g))
    named.add(id ?? before);
  // "`SmtpSecretArn`, `SmtpSecretName`, ... and `GetSmtpCredentialsCommand` (...) are stack outputs"
  const listed = README.match(/- (`SmtpSecretArn`[^]*?) are stack outputs/)?.[1] ?? '';
  for (const [, id] of listed.matchAll(/`([A-Z][A-Za-z]+)`/g)) named.add(id);
  expect(named.size).toBeGreaterThan(10);
  expect([...named].filter((id) => !outputs.has(id))).toEqual([]);
});

// The other way: an output a user can read (a fixed name, not the manual DNS records' or the
// access stack's per-environment role ARNs, which carry their own descriptions) is named.
test('every stack output of a fixed name is named in the README', () => {
  // Any fixed id (digits too), the arguments on one line or not.
  const outputs = capturedInLib(/new CfnOutput\(\s*this,\s*'([A-Za-z0-9]+)'/g);
  expect(outputs.size).toBeGreaterThan(15);
  expect([...outputs].filter((id) => !README.includes(`\`${id}\``))).toEqual([]);
});

test("the README's `env --format rails` sample is what the command prints", () => {
  const sample = README.match(/\$ npx ses-smtp env --env prod --format rails\n([^]*?)```/)?.[1];
  expect(sample).toBe(RAILS_SMTP_SETTINGS.endsWith('\n') ? RAILS_SMTP_SETTINGS : `${RAILS_SMTP_SETTINGS}\n`);
});

test("the README's Rails settings for containerSecretJson read the variable and JSON keys the package writes", () => {
  const block = README.match(/One variable for ECS:[^]*?```ruby\n([^]*?)```/)?.[1] ?? '';
  expect(block).toContain(`ENV["${SMTP_CREDENTIALS_JSON_VARIABLE}"]`);
  const keys = [...block.matchAll(/ses\["([A-Za-z]+)"\]/g)].map(([, key]) => key);
  expect(new Set(keys)).toEqual(new Set(['port', 'host', 'username', 'password', 'fromAddress']));
  for (const key of keys) expect(Object.values(SMTP_CONTAINER_VARIABLES)).toContain(key);
});

// A Rails app meets two refusals SES took nothing of: 454 (throttling) and, after a revoke, 535. The
// README's delivery job retries both, and Devise's mails reach it only through parent_mailer (its
// default, ActionMailer::Base, keeps ActionMailer::MailDeliveryJob, which retries nothing).
test("the README's delivery job retries a throttled send and a refused login, Devise's mails too", () => {
  const section = README.match(/^- Refusals: over the account's maximum send rate[^]*?(?=^- )/m)?.[0] ?? '';
  const job = section.match(/```ruby\n([^]*?)```/)?.[1] ?? '';
  expect(job).toMatch(/^ *retry_on Net::SMTPServerBusy,/m);
  expect(job).toMatch(/^ *retry_on Net::SMTPAuthenticationError,/m);
  expect(job).toContain('config.parent_mailer = "ApplicationMailer"');
  const revoke = README.match(/^- `revoke` sets every active access key[^]*?(?=^## )/m)?.[0] ?? '';
  expect(revoke).toContain('Net::SMTPAuthenticationError');
});

// The dotenv gem's README installs it for development and test only: a production boot never
// reads the file `env --write` writes unless the README says where the gem must be.
test("the README's dotenv format says when Rails reads .env.production", () => {
  const bullet = README.match(/^- `dotenv`: double-quoted[^]*?(?=^- )/m)?.[0] ?? '';
  expect(bullet).toContain('groups: [:development, :test]');
  expect(bullet).toContain('overwrite: false');
});

// ECS never refreshes a running task's secrets: the README must say how its tasks get rotated
// credentials before the next rotation deletes the key they started with.
test("the README's containerSecrets bullet says how running ECS tasks get rotated credentials", () => {
  const bullet = README.match(/^- `containerSecrets\(\)` returns[^]*?(?=^- )/m)?.[0] ?? '';
  expect(bullet).toContain('never refreshes');
  expect(bullet).toContain('--force-new-deployment');
  expect(bullet).toContain('`rotationDays` - 1 days');
});

/*
 * The library example: test/fixtures/readme/library-example.ts is the README's block with the
 * package's import path pointed at the sources. `npm run typecheck` compiles that file, so a prop,
 * method or type the README shows and the package lacks fails the type-check; here the two must be
 * the same. Not synthesized here (about 7 s of jest): the consumer test synthesizes an app of the
 * same shape (SesSmtp, a cross-stack grantRead, the ECS secrets) from the packed package in CI.
 */
describe("the README's library example", () => {
  const fixture = path.join(__dirname, 'fixtures', 'readme', 'library-example.ts');

  test('is the fixture that the type-check compiles', () => {
    const block = README.match(/\n## Use it in your own CDK app\n[^]*?```ts\n([^]*?)```/)?.[1] ?? '';
    const source = fs.readFileSync(fixture, 'utf8');
    const body = source
      .slice(source.indexOf('*/\n') + 3)
      .replace("from '../../../lib';", "from 'ses-smtp-cdk';");
    expect(block).toContain('new SesSmtp(');
    expect(body).toBe(block);
  });
});

/*
 * The CLI as the README shows it, against lib/cli/command-table.ts, from which the CLI's parsing
 * and help are generated: a flag the README writes after a command is one that command takes,
 * every command and option is named, and a command's section names the words each of its options
 * takes and each number it defaults to (the options of every command: the "Operator CLI" text).
 */
describe("the README's ses-smtp commands and options", () => {
  const cli = README.slice(README.indexOf('\n## Operator CLI\n'), README.indexOf('\n## Configuration\n'));
  const intro = cli.slice(0, cli.indexOf('\n### '));
  /** A command's own section: the one whose heading names it. */
  const sectionOf = (name: string) => {
    const at = cli.search(new RegExp(`\\n### .*\`${name}[\` ]`));
    return at < 0 ? '' : cli.slice(at, cli.indexOf('\n### ', at + 1));
  };

  test('a flag written after `ses-smtp <command>` is an option of that command', () => {
    const wrong: string[] = [];
    let seen = 0;
    // Up to the end of the command: a code span's end, a shell comment, a pipe or a ")".
    for (const [, name, rest] of README.matchAll(/ses-smtp(?:\.js)? ([a-z][a-z-]*)([^\n`)#|;]*)/g)) {
      const command = COMMANDS[name];
      if (command === undefined) continue; // "ses-smtp help <command>", "ses-smtp-cdk"
      const options = new Set([...GLOBAL_OPTIONS, ...command.options].map((o) => o.name));
      for (const [, flag] of rest.matchAll(/(?:^|\s)--([a-z][a-z-]*)/g)) {
        seen++;
        if (!options.has(flag)) wrong.push(`ses-smtp ${name} --${flag}`);
      }
    }
    expect(seen).toBeGreaterThan(40);
    expect(wrong).toEqual([]);
  });

  test('every command has a section, and every option is named', () => {
    expect(Object.keys(COMMANDS).filter((name) => !sectionOf(name))).toEqual([]);
    const options = [...GLOBAL_OPTIONS, ...Object.values(COMMANDS).flatMap((c) => c.options)];
    expect(options.map((o) => `--${o.name}`).filter((flag) => !README.includes(`\`${flag}`))).toEqual([]);
  });

  test.each(Object.keys(COMMANDS))(
    "%s: its section names each option's choices and numeric default",
    (name) => {
      const section = sectionOf(name);
      const missing: string[] = [];
      for (const option of COMMANDS[name].options) {
        for (const choice of option.choices ?? [])
          // `choice`, or written with the flag: "--scope account", "--language EN|JA".
          if (!new RegExp(`\`${choice}\`|--${option.name} ([A-Za-z-]+\\|)*${choice}\\b`).test(section))
            missing.push(`--${option.name} ${choice}`);
        if (/^\d+$/.test(option.defaultText ?? '') && !section.includes(`default ${option.defaultText}`))
          missing.push(`--${option.name}: default ${option.defaultText}`);
      }
      expect(missing).toEqual([]);
    },
  );

  test('the options of every command: the CLI text gives each numeric default', () => {
    const missing = GLOBAL_OPTIONS.filter((o) => /^\d+/.test(o.defaultText ?? ''))
      .map((o) => [o.name, /^\d+/.exec(o.defaultText!)![0]])
      .filter(([name, value]) => !new RegExp(`\`--${name}\`[^]{0,80}?default ${value}\\b`).test(intro));
    expect(missing).toEqual([]);
  });
});

// The files and npm scripts the README sends a reader to exist (`config/...` paths are also the
// Rails app's, so only this repository's own folders are checked, and the relative links).
test('every repository path and npm script the README names exists', () => {
  const root = path.join(__dirname, '..');
  const paths = [
    ...[...README.matchAll(/`((?:scripts|\.ci|lib|lambda|test|bin|\.github)\/[^`\s*<]*)[^`]*`/g)].map(
      ([, p]) => p,
    ),
    ...[...README.matchAll(/\]\(((?!https?:|#)[^)#]+)\)/g)].map(([, p]) => p),
  ];
  expect(paths.length).toBeGreaterThan(20);
  expect(paths.filter((p) => !fs.existsSync(path.join(root, p)))).toEqual([]);
  const scripts = (
    JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: object }
  ).scripts;
  const named = [...README.matchAll(/npm run ([a-z][a-z:-]*)/g)].map(([, s]) => s);
  expect(named.length).toBeGreaterThan(5);
  expect(named.filter((s) => !(s in scripts))).toEqual([]);
});

// Each check's alarm has its runbook row ("quota" has two: "Quota warning / critical"), and each
// row in backticks is a check the function runs.
test('the health-check runbook has one row per check', () => {
  const section = README.slice(
    README.indexOf('\n### Health checks (scheduled)\n'),
    README.indexOf('\n### Credentials\n'),
  );
  const rows = [...section.matchAll(/^\| `([a-z-]+)` +\|/gm)].map(([, id]) => id);
  expect(/^\| Quota warning \/ critical +\|/m.test(section)).toBe(true);
  expect(rows.sort()).toEqual(
    CHECKS.map((c) => c.id)
      .filter((id) => id !== 'quota')
      .sort(),
  );
});

// STYLE.md: prose wraps at 100 characters, and a line may pass that only where it holds one word
// that cannot be broken (a link's URL, a code span, which a line break would change).
test('README prose lines are at most 100 characters, but for one unbreakable word', () => {
  let inCode = false;
  const long: string[] = [];
  for (const [i, line] of README.split('\n').entries()) {
    if (/^\s*```/.test(line)) inCode = !inCode;
    if (inCode || line.startsWith('|') || [...line].length <= 100) continue;
    // Words as a line break may separate them: spaces inside a code span or a link do not count.
    const words = line.trim().match(/(?:`[^`]*`|\[[^\]]*\]\([^)]*\)|[^\s`])+/g) ?? [];
    if (words.length > 1) long.push(`${i + 1}: ${line.slice(0, 60)}...`);
  }
  expect(long).toEqual([]);
});
