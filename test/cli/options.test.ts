import { COMMANDS, GLOBAL_OPTIONS } from '../../lib/cli/command-table';
import { UsageError } from '../../lib/cli/errors';
import { resolverAddress, smtpPort, timeoutSeconds } from '../../lib/cli/option-checks';
import { OptionSpec, optionsHelp, parseOptions } from '../../lib/cli/options';
import { expectNoAwsCalls, healthyAws, run, writeConfig } from './harness';

const TABLE: OptionSpec[] = [
  {
    name: 'format',
    type: 'string',
    choices: ['dotenv', 'JSON'],
    description: 'the format',
    defaultText: 'dotenv',
  },
  { name: 'contact', type: 'string', multiple: true, placeholder: 'EMAIL', description: 'who' },
  { name: 'yes', short: 'y', type: 'boolean', description: 'no question' },
];

describe('parseOptions', () => {
  test('strings, lists and flags, short aliases included', () => {
    const v = parseOptions(TABLE, ['--format', 'dotenv', '--contact', 'a@x.org', '--contact=b@x.org', '-y']);
    expect(v.string('format')).toBe('dotenv');
    expect(v.list('contact')).toEqual(['a@x.org', 'b@x.org']);
    expect(v.flag('yes')).toBe(true);
    expect(parseOptions(TABLE, []).flag('yes')).toBe(false);
    expect(parseOptions(TABLE, []).string('format')).toBeUndefined();
  });

  test('choices match case-insensitively and come back as the table writes them', () => {
    expect(parseOptions(TABLE, ['--format', 'json']).string('format')).toBe('JSON');
    expect(parseOptions(TABLE, ['--format', 'DOTENV']).string('format')).toBe('dotenv');
  });

  test.each<[string[], RegExp]>([
    [['--format', 'yaml'], /^--format: got "yaml", expected one of: dotenv, JSON$/],
    [['--bogus'], /^Unknown option '--bogus'/],
    [['--format'], /^Option '--format <value>' argument missing/],
    [['stray'], /^Unexpected argument 'stray'/],
    [['--format', '-1'], /^Option '--format' argument is ambiguous\. .* use '--format=-1'\.$/],
  ])('%j: a UsageError naming the option', (args, message) => {
    expect(() => parseOptions(TABLE, args)).toThrow(UsageError);
    expect(() => parseOptions(TABLE, args)).toThrow(message);
  });

  test.each<[string[], string]>([
    [['--format', ''], '--format: got "", expected one of: dotenv, JSON'],
    [['--contact', 'a@x.org', '--contact', ''], '--contact: got "", expected a EMAIL'],
    [['--contact='], '--contact: got "", expected a EMAIL'],
  ])('%j: an empty value is refused, never taken as "not given"', (args, message) => {
    expect(() => parseOptions(TABLE, args)).toThrow(new UsageError(message));
  });

  test('a single-value option given twice is refused (parseArgs would keep the last); a list or a flag may repeat', () => {
    expect(() => parseOptions(TABLE, ['--format', 'dotenv', '-y', '--format=JSON'])).toThrow(
      new UsageError('--format: got 2 values ("dotenv", "JSON"), expected one; give it once'),
    );
    expect(
      parseOptions(TABLE, ['--contact', 'a@x.org', '--contact', 'b@x.org']).list('contact'),
    ).toHaveLength(2);
    expect(parseOptions(TABLE, ['-y', '--yes']).flag('yes')).toBe(true);
  });

  test.each<[string[], string]>([
    [
      ['send-test', '--to', 'a@example.com', '--to', 'b@example.com'],
      'send-test: --to: got 2 values ("a@example.com", "b@example.com"), expected one; give it once (ses-smtp help send-test)',
    ],
    [
      ['revoke', '--yes', '--env', 'prod', '--env', 'staging'],
      'revoke: --env: got 2 values ("prod", "staging"), expected one; give it once (ses-smtp help revoke)',
    ],
  ])('%j: one line, exit 2, before any AWS call', async (args, message) => {
    healthyAws();
    const r = await run([...args, '--config', writeConfig()]);
    expect(r.stderr).toBe(`ses-smtp: ${message}\n`);
    expect(r.code).toBe(2);
    expectNoAwsCalls();
  });

  test('a value starting with "-": one line that keeps parseArgs\'s fix, through the CLI too', async () => {
    expect(() =>
      parseOptions(TABLE, ['--format', 'dotenv', '--contact', 'a@x.org', '--format', '-x']),
    ).toThrow(
      "Option '--format' argument is ambiguous. Did you forget to specify the option argument for '--format'? To specify an option argument starting with a dash use '--format=-x'.",
    );
    const r = await run(['doctor', '--smtp-timeout', '-1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^ses-smtp: doctor: Option '--smtp-timeout' argument is ambiguous\. .* use '--smtp-timeout=-1'\. \(ses-smtp help doctor\)\n$/,
    );
  });
});

describe('number and address options at their bounds: the bounds the messages name are taken', () => {
  test('--smtp-port 1 to 65535', () => {
    expect([smtpPort('1'), smtpPort('65535')]).toEqual([1, 65535]);
    for (const text of ['0', '65536']) expect(() => smtpPort(text)).toThrow(`--smtp-port: got "${text}"`);
  });

  test('--timeout 1 to 86400 seconds', () => {
    expect([timeoutSeconds('1'), timeoutSeconds('86400')]).toEqual([1, 86400]);
    for (const text of ['0.5', '86400.5'])
      expect(() => timeoutSeconds(text)).toThrow(`--timeout: got "${text}"`);
  });

  test('--resolver: a port from 1 to 65535; a bare IPv6 address keeps its last group and port 53', () => {
    expect(resolverAddress('127.0.0.1:65535')).toEqual({ ip: '127.0.0.1', port: 65535 });
    expect(resolverAddress('[::1]:1')).toEqual({ ip: '::1', port: 1 });
    expect(resolverAddress('2001:db8::5353')).toEqual({ ip: '2001:db8::5353', port: 53 });
    for (const spec of ['127.0.0.1:0', '127.0.0.1:65536', '127.0.0.1:99999', '[::1]:65536'])
      expect(() => resolverAddress(spec)).toThrow(`--resolver: got "${spec}"`);
  });
});

describe('optionsHelp', () => {
  test('one line per option with alias, value name, choices and default', () => {
    expect(optionsHelp(TABLE).split('\n')).toEqual([
      '      --format FORMAT     the format (one of: dotenv, JSON; default dotenv)',
      '      --contact EMAIL...  who',
      '  -y, --yes               no question',
    ]);
  });

  test('every option of every command is in its help, and parses', () => {
    for (const [name, command] of Object.entries(COMMANDS)) {
      const help = optionsHelp([...command.options, ...GLOBAL_OPTIONS]);
      for (const option of [...command.options, ...GLOBAL_OPTIONS]) {
        expect(help).toContain(`--${option.name}`);
        const args =
          option.type === 'boolean' ? [`--${option.name}`] : [`--${option.name}`, option.choices?.[0] ?? 'x'];
        expect(() => parseOptions([...command.options, ...GLOBAL_OPTIONS], args)).not.toThrow();
      }
      expect(name).toMatch(/^[a-z-]+$/);
    }
  });

  test('every string option without choices says what it expects (for the messages)', () => {
    for (const command of Object.values(COMMANDS)) {
      for (const option of [...command.options, ...GLOBAL_OPTIONS]) {
        if (option.type === 'string' && !option.choices)
          expect([option.name, option.expects]).toEqual([option.name, expect.any(String)]);
      }
    }
  });

  test('no option is declared twice for a command (parseArgs would silently take the last)', () => {
    for (const command of Object.values(COMMANDS)) {
      const names = [...command.options, ...GLOBAL_OPTIONS].map((o) => o.name);
      expect(new Set(names).size).toBe(names.length);
    }
  });
});

describe('an empty value ("") of any string option of any command', () => {
  let configPath: string;
  beforeAll(() => (configPath = writeConfig()));
  beforeEach(() => healthyAws());

  test.each(
    Object.entries(COMMANDS).flatMap(([name, command]) =>
      [...command.options, ...GLOBAL_OPTIONS]
        .filter((o) => o.type === 'string')
        .map((o): [string, string, string] => [
          name,
          o.name,
          o.choices ? `one of: ${o.choices.join(', ')}` : o.expects!,
        ]),
    ),
  )('%s --%s "": one line, exit 2, before any AWS call', async (name, option, expects) => {
    // --yes: the commands that ask would act on the default (the stack's own user, set, file).
    const yes = COMMANDS[name].options.some((o) => o.name === 'yes') ? ['--yes'] : [];
    const config = option === 'config' ? [] : ['--config', configPath];
    const r = await run([name, `--${option}`, '', ...yes, ...config]);
    expect(r.stderr).toBe(
      `ses-smtp: ${name}: --${option}: got "", expected ${expects} (ses-smtp help ${name})\n`,
    );
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
    expectNoAwsCalls();
  });
});
