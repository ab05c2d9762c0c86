/*
 * The CLI's entry. It loads only the command table, the option parser and the output helpers:
 * the configuration loader, the AWS SDK clients and a command's own code load when a command
 * runs (`--help` and `--version` touch none of them).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMANDS, CommandSpec, GLOBAL_NOTES, GLOBAL_OPTIONS } from './command-table';
import type { GlobalOptions } from './context';
import { describeError, EXIT, UsageError } from './errors';
import { OptionValues, optionsHelp, parseOptions } from './options';
import { Output, Streams } from './output';
import { shellWord } from './shell';

export interface MainDeps {
  readonly streams: Streams;
  readonly env: NodeJS.ProcessEnv;
  /** stdin is a terminal: questions can be asked. */
  readonly interactive: boolean;
  /** Asks a yes/no question on the terminal. */
  readonly ask: (question: string) => Promise<boolean>;
  /** The package's version, for --version. */
  readonly version: () => string | undefined;
  readonly sleep?: (ms: number) => Promise<void>;
}

export function processDeps(): MainDeps {
  return {
    streams: { stdout: process.stdout, stderr: process.stderr },
    env: process.env,
    interactive: process.stdin.isTTY === true,
    ask: terminalQuestion(process.stdin, process.stderr),
    version: () => packageVersion(process.argv[1]),
  };
}

/**
 * A yes/no question on a terminal: true for "y" or "yes". Ctrl+C or Ctrl+D is a no (readline
 * rejects the question then): the command says "not confirmed", as for "n", not that it failed.
 */
export function terminalQuestion(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): (question: string) => Promise<boolean> {
  return async (question) => {
    const readline = await import('node:readline/promises');
    const rl = readline.createInterface({ input, output });
    try {
      return /^y(es)?$/i.test((await rl.question(question)).trim());
    } catch (e) {
      if ((e as Error).name !== 'AbortError') throw e;
      output.write('\n'); // the next line starts after the "^C" the terminal echoed
      return false;
    } finally {
      rl.close();
    }
  };
}

/**
 * The version in the package.json of the package whose `ses-smtp` bin is running: found by
 * walking up from the script (works for the source tree, a compiled dist/ and an install).
 */
export function packageVersion(script: string | undefined): string | undefined {
  if (!script) return undefined;
  let dir: string;
  try {
    dir = path.dirname(fs.realpathSync(script));
  } catch {
    return undefined;
  }
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: string; bin?: unknown };
      if (pkg.bin && typeof pkg.bin === 'object' && 'ses-smtp' in pkg.bin) return pkg.version;
    }
    if (path.dirname(dir) === dir) return undefined;
    dir = path.dirname(dir);
  }
}

function topHelp(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((c) => c.length));
  return `ses-smtp: operate the SES SMTP setup of an environment deployed by this project.

Usage: ses-smtp <command> [options]
       ses-smtp help <command>
       ses-smtp --version

Commands:
${names.map((name) => `  ${name.padEnd(width)}  ${COMMANDS[name].summary}`).join('\n')}

Options for every command:
${optionsHelp(GLOBAL_OPTIONS)}

${GLOBAL_NOTES}`;
}

function commandHelp(name: string, command: CommandSpec): string {
  return [
    `ses-smtp ${name}: ${command.summary}`,
    `Usage: ses-smtp ${name} [options]`,
    ...(command.options.length ? [`Options:\n${optionsHelp(command.options)}`] : []),
    ...(command.details ? [command.details] : []),
    ...(command.needsConfig
      ? [
          `It reads the environment's settings from the environments file (--config), or for a stack of
your own (--stack NAME --region REGION) from the stack's health-check function.`,
        ]
      : []),
    `Options for every command:\n${optionsHelp(GLOBAL_OPTIONS)}`,
    GLOBAL_NOTES,
  ].join('\n\n');
}

/** Runs the CLI; resolves to the exit code. Never throws for a user's mistake. */
export async function main(argv: string[], deps: MainDeps = processDeps()): Promise<number> {
  const [name, ...rest] = argv;
  const err = (text: string) => deps.streams.stderr.write(`ses-smtp: ${text}\n`);
  const print = (text: string) => deps.streams.stdout.write(`${text}\n`);
  const lookup = (command: string) => (Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined);
  /**
   * A usage error: one line on stderr and exit 2; with --json anywhere in argv, also the document
   * a failed command prints (Output.document), so a script reading stdout gets JSON either way.
   */
  const refuse = (text: string) => {
    if (argv.includes('--json'))
      deps.streams.stdout.write(`${JSON.stringify({ ok: false, error: text }, null, 2)}\n`);
    err(text);
    return EXIT.usage;
  };
  const unknown = (command: string) =>
    `unknown command ${JSON.stringify(command)}; commands: ${Object.keys(COMMANDS).join(', ')} (ses-smtp --help)`;

  if (name === undefined) {
    // No command is a usage error: the help goes to stderr (ses-smtp --help prints it to stdout).
    deps.streams.stderr.write(`${topHelp()}\n`);
    return EXIT.usage;
  }
  if (name === '--version') {
    if (rest.length) return refuse(`--version takes no argument; got ${JSON.stringify(rest[0])}`);
    print(deps.version() ?? 'unknown');
    return EXIT.ok;
  }
  // help, --help and -h: the overview, or with a command its help.
  if (name === 'help' || name === '--help' || name === '-h') {
    const [topic, ...more] = rest;
    if (more.length)
      return refuse(
        `${name} takes one command (ses-smtp help <command>); got the extra argument ${JSON.stringify(more[0])}`,
      );
    if (topic === undefined) {
      print(topHelp());
      return EXIT.ok;
    }
    const found = lookup(topic);
    if (!found) return refuse(unknown(topic));
    print(commandHelp(topic, found));
    return EXIT.ok;
  }
  const command = lookup(name);
  if (!command) {
    if (!name.startsWith('-')) return refuse(unknown(name));
    // An option before the command ("ses-smtp --json doctor"): show the line in the right order.
    // The command is the first word that is no option's value ("--env env doctor": doctor).
    const at = commandIndex(argv);
    return refuse(
      at < 0
        ? `${JSON.stringify(name)} is an option, and options go after the command: ses-smtp <command> [options]; commands: ${Object.keys(COMMANDS).join(', ')}`
        : `options go after the command: ses-smtp ${[argv[at], ...argv.slice(0, at), ...argv.slice(at + 1)].map(shellWord).join(' ')}`,
    );
  }
  let values: OptionValues;
  try {
    values = parseOptions([...command.options, ...GLOBAL_OPTIONS], rest);
  } catch (e) {
    return refuse(`${name}: ${(e as Error).message} (ses-smtp help ${name})`);
  }
  if (values.flag('help')) {
    print(commandHelp(name, command));
    return EXIT.ok;
  }
  const out = new Output(deps.streams, {
    json: values.flag('json'),
    noColour: values.flag('no-color'),
    env: deps.env,
  });
  const global: GlobalOptions = {
    env: values.string('env'),
    config: values.string('config'),
    region: values.string('region'),
    stack: values.string('stack'),
    secretId: values.string('secret-id'),
    identity: values.string('identity'),
    configurationSet: values.string('configuration-set'),
    userName: values.string('user-name'),
    smtpHost: values.string('smtp-host'),
    smtpPort: values.string('smtp-port'),
    smtpCa: values.string('smtp-ca'),
    smtpTimeout: values.string('smtp-timeout'),
    resolver: values.string('resolver'),
  };
  try {
    // Every given value first: a bad one is reported even when the context would fail too. The
    // global options before the command's, in the order the context reads them.
    for (const spec of [...GLOBAL_OPTIONS, ...command.options]) {
      if (spec.type !== 'string' || !spec.check) continue;
      const given = spec.multiple ? (values.list(spec.name) ?? []) : [values.string(spec.name)];
      for (const value of given) if (value !== undefined) await spec.check(value);
    }
    const { CliContext } = await import('./context.js');
    const ctx = new CliContext(global, out, { name, config: command.needsConfig });
    return await command.run(ctx, values, {
      env: deps.env,
      sleep: deps.sleep,
      confirm: async (question, yes) => {
        if (yes) return true;
        if (!deps.interactive)
          throw new UsageError(`${name}: not on a terminal, so it cannot ask for confirmation: add --yes`);
        return deps.ask(question);
      },
    });
  } catch (e) {
    out.progressDone();
    const failure = describeError(e, name, deps.env.AWS_PROFILE);
    if (out.json) out.document({ ok: false, error: failure.message });
    err(failure.message);
    if (failure.unexpected && deps.env.SES_SMTP_DEBUG) deps.streams.stderr.write(`${(e as Error).stack}\n`);
    return failure.exit;
  }
}

/** Where the command is in `argv` given with options before it; -1 when no word is one. */
function commandIndex(argv: readonly string[]): number {
  // Every option that takes a value, of any command: the word after it is that value.
  const takesValue = new Set(
    [...GLOBAL_OPTIONS, ...Object.values(COMMANDS).flatMap((c) => c.options)]
      .filter((o) => o.type === 'string')
      .map((o) => `--${o.name}`),
  );
  for (let i = 0; i < argv.length; i++) {
    if (takesValue.has(argv[i])) i++;
    else if (!argv[i].startsWith('-')) return Object.hasOwn(COMMANDS, argv[i]) ? i : -1;
  }
  return -1;
}
