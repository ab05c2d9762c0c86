import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { CHECK_CATALOG } from '../lambda/shared/check-catalog';
import { COMMANDS, GLOBAL_OPTIONS } from '../lib/cli/command-table';
import { parseOptions } from '../lib/cli/options';
import { SesSmtp, SesSmtpProps } from '../lib/ses-smtp';
import { BASE_ENV, synthStack, testApp } from './helpers';

// An operator paged at night pastes the command an alarm, a runbook or the README gives: each must
// be one the CLI takes, with options it knows and values it accepts.

/** Every "ses-smtp <command> [--option [value]]..." in `text`, as the command and its arguments. */
function commandsIn(text: string): { command: string; args: string[]; at: string }[] {
  const found = [];
  for (const match of text.matchAll(
    /ses-smtp ([a-z][a-z-]*)((?: --?[a-z][a-z-]*(?: (?!-)[\w.:/@<>-]+)?)*)/g,
  )) {
    const args = match[2]
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((arg) => arg.replace(/[.:]$/, ''));
    found.push({ command: match[1], args, at: match[0] });
  }
  return found;
}

/** Why the CLI refuses `command args` at the parsing stage, or undefined when it takes them. */
function refusal(command: string, args: string[]): string | undefined {
  if (command === 'help') return args.every((a) => Object.hasOwn(COMMANDS, a)) ? undefined : `help ${args}`;
  const spec = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!spec) return `unknown command ${command}`;
  try {
    parseOptions([...spec.options, ...GLOBAL_OPTIONS], args);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The text of every TypeScript file under `dirs` (folders of the repository). */
function sourceTexts(dirs: string[]): string[] {
  return dirs.flatMap((dir) =>
    fs
      .readdirSync(path.join(__dirname, '..', dir), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      // A template literal's ${...} stands for a value.
      .map((file) =>
        fs.readFileSync(path.join(__dirname, '..', dir, file), 'utf8').replace(/\$\{[^}]*\}/g, 'VALUE'),
      ),
  );
}

/** A template's texts: alarm descriptions and EventBridge inputs, tokens as "<token>". */
function templateTexts(template: Template): string[] {
  const flat = (value: unknown): string =>
    typeof value === 'string'
      ? value
      : Array.isArray(value)
        ? value.map(flat).join('')
        : value && typeof value === 'object' && 'Fn::Join' in value
          ? flat((value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1])
          : '<token>';
  const resources = Object.values(template.toJSON().Resources) as {
    Type: string;
    Properties: {
      AlarmDescription?: unknown;
      Targets?: { Input?: unknown; InputTransformer?: { InputTemplate: unknown } }[];
    };
  }[];
  return [
    ...resources
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map((r) => flat(r.Properties.AlarmDescription)),
    ...resources
      .filter((r) => r.Type === 'AWS::Events::Rule')
      .flatMap((r) =>
        (r.Properties.Targets ?? []).map((t) => flat(t.InputTransformer?.InputTemplate ?? t.Input ?? '')),
      ),
  ];
}

describe('every ses-smtp command a text gives parses', () => {
  const { account: _account, region: _region, ...props } = BASE_ENV;
  const own = new Stack(testApp(), 'Own', { env: { account: '123456789012', region: 'eu-west-1' } });
  new SesSmtp(own, 'Mail', { ...props, environmentName: 'prod' } as SesSmtpProps);
  const sources: [string, string[]][] = [
    ['alarms and events of the environments-file stack', templateTexts(synthStack().template)],
    ['alarms and events of a SesSmtp in a stack of your own', templateTexts(Template.fromStack(own))],
    ['the health-check runbooks', CHECK_CATALOG.map((check) => check.runbook)],
    ['README.md', [fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8')]],
    // Messages built in code (the checks' fixes, the CLI's hints): their literal parts.
    ['the sources of lib/ and lambda/', sourceTexts(['lib', 'lambda'])],
  ];

  test.each(sources)('%s', (_source, texts) => {
    const commands = texts.flatMap(commandsIn);
    expect(commands.length).toBeGreaterThan(0);
    const refused = commands
      .map(({ command, args, at }) => ({ at, why: refusal(command, args) }))
      .filter((c) => c.why !== undefined);
    expect(refused).toEqual([]);
  });

  test('a wrong command or option is caught (the check can fail)', () => {
    const [pause] = commandsIn('run npx ses-smtp pause --configuration-set (or --account)');
    expect(refusal(pause.command, pause.args)).toMatch(/configuration-set/);
    const [resume] = commandsIn('then `ses-smtp resume --account`');
    expect(refusal(resume.command, resume.args)).toMatch(/account/);
    expect(refusal('restart', [])).toBe('unknown command restart');
  });
});
