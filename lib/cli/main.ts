import * as readline from 'node:readline/promises';
import { parseArgs, ParseArgsConfig } from 'node:util';
import { CliContext, GlobalOptions } from './context';
import { doctorCommand } from './commands/doctor';
import { ENV_FORMATS, envCommand } from './commands/env';
import { dnsCommand } from './commands/dns';
import { productionAccessCommand } from './commands/production-access';
import { rotateCommand } from './commands/rotate';
import { sendTestCommand } from './commands/send-test';
import { CheckFailed, EXIT, UsageError } from './errors';
import { Output, Streams } from './output';

type Options = NonNullable<ParseArgsConfig['options']>;

const GLOBAL: Options = {
  env: { type: 'string' },
  config: { type: 'string' },
  region: { type: 'string' },
  stack: { type: 'string' },
  'secret-id': { type: 'string' },
  identity: { type: 'string' },
  'smtp-host': { type: 'string' },
  'smtp-port': { type: 'string' },
  'smtp-ca': { type: 'string' },
  'smtp-timeout': { type: 'string' },
  resolver: { type: 'string' },
  json: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const GLOBAL_HELP = `Options for every command:
  --env NAME              environment from the config file (optional when it has only one)
  --config PATH           environments file (default config/environments.json)
  --region REGION         override the environment's Region
  --stack NAME            stack to read outputs from (default SesSmtp-<env>)
  --secret-id ID          the credentials secret, instead of the stack output
  --identity DOMAIN       the SES identity, instead of the stack output
  --smtp-host HOST        SMTP endpoint (VPC endpoint, proxy, test server)
  --smtp-port PORT        SMTP port (default 587, STARTTLS)
  --smtp-ca FILE          PEM of a CA to trust for SMTP TLS (TLS-inspecting proxies)
  --smtp-timeout SECONDS  SMTP connect/greeting/reply timeout (default 10)
  --resolver IP[:PORT]    DNS server for DNS checks (default: the system's)
  --json                  machine-readable output
  --no-color              no colours (also NO_COLOR=1); colour is only used on a terminal
  -h, --help              help
AWS access uses the standard credential chain (AWS_PROFILE, SSO, roles...) and AWS_ENDPOINT_URL_*.
Exit codes: 0 ok, 1 a check failed, 2 usage or configuration error.`;

interface CommandSpec {
  readonly summary: string;
  readonly usage: string;
  readonly options: Options;
  readonly run: (ctx: CliContext, values: Record<string, unknown>, deps: MainDeps) => Promise<number>;
}

const COMMANDS: Record<string, CommandSpec> = {
  doctor: {
    summary: 'check everything the guide troubleshoots, with the fix for each problem',
    usage: 'ses-smtp doctor [--env NAME] [--resolver IP[:PORT]]',
    options: {},
    run: (ctx) => doctorCommand(ctx),
  },
  env: {
    summary: "print the app's settings (AWS_SES_SMTP_* variables) from the current credentials",
    usage: `ses-smtp env [--env NAME] [--format ${ENV_FORMATS.join('|')}] [--reveal] [--write FILE]
  On a terminal the password is masked unless --reveal; piped output carries the real values.
  --write FILE writes a dotenv file with mode 0600 and adds it to .gitignore if git would track it.`,
    options: { format: { type: 'string' }, reveal: { type: 'boolean' }, write: { type: 'string' } },
    run: (ctx, v) =>
      envCommand(ctx, { format: v.format as string, reveal: v.reveal as boolean, write: v.write as string }),
  },
  'send-test': {
    summary: 'send a test message over SMTP with the current credentials',
    usage: 'ses-smtp send-test --to ADDRESS [--subject TEXT] [--env NAME]',
    options: { to: { type: 'string' }, subject: { type: 'string' } },
    run: (ctx, v) => sendTestCommand(ctx, { to: v.to as string, subject: v.subject as string }),
  },
  dns: {
    summary: 'print every DNS record the environment needs (zone-file form); --check compares with live DNS',
    usage: 'ses-smtp dns [--check] [--resolver IP[:PORT]] [--env NAME]',
    options: { check: { type: 'boolean' } },
    run: (ctx, v) => dnsCommand(ctx, { check: v.check as boolean }),
  },
  'request-production-access': {
    summary: 'ask AWS to take the account out of the SES sandbox',
    usage: `ses-smtp request-production-access [--mail-type TRANSACTIONAL|MARKETING] [--website-url URL]
    [--use-case TEXT] [--language EN|JA] [--contact EMAIL]... [--yes]
  Shows the request (defaults built from the config) and asks before sending; --yes skips the question.`,
    options: {
      'mail-type': { type: 'string' },
      'website-url': { type: 'string' },
      'use-case': { type: 'string' },
      language: { type: 'string' },
      contact: { type: 'string', multiple: true },
      yes: { type: 'boolean', short: 'y' },
    },
    run: (ctx, v, deps) =>
      productionAccessCommand(ctx, {
        mailType: v['mail-type'] as string,
        websiteUrl: v['website-url'] as string,
        useCase: v['use-case'] as string,
        language: v.language as string,
        contacts: v.contact as string[],
        yes: v.yes as boolean,
        confirm: deps.confirm,
      }),
  },
  rotate: {
    summary: 'rotate the SMTP credentials now and wait for the new ones',
    usage: 'ses-smtp rotate [--env NAME] [--timeout SECONDS]',
    options: { timeout: { type: 'string' } },
    run: (ctx, v, deps) => {
      const timeoutSeconds = v.timeout === undefined ? undefined : Number(v.timeout);
      if (timeoutSeconds !== undefined && !(timeoutSeconds > 0)) {
        throw new UsageError(`--timeout: got ${JSON.stringify(v.timeout)}, expected a number of seconds`);
      }
      return rotateCommand(ctx, { timeoutSeconds, pollMs: deps.pollMs, sleep: deps.sleep });
    },
  },
};

function topHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return `ses-smtp: operate the SES SMTP setup of an environment deployed by this project.

Usage: ses-smtp <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}

${GLOBAL_HELP}
Run "ses-smtp <command> --help" for a command's options.`;
}

export interface MainDeps {
  readonly streams: Streams;
  readonly env: NodeJS.ProcessEnv;
  /** Asks a yes/no question on the terminal. */
  readonly confirm: (question: string) => Promise<boolean>;
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export function processDeps(): MainDeps {
  return {
    streams: { stdout: process.stdout, stderr: process.stderr },
    env: process.env,
    confirm: async (question) => {
      if (!process.stdin.isTTY)
        throw new UsageError('not on a terminal: add --yes to send without the question');
      const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await rl.question(question)).trim());
      } finally {
        rl.close();
      }
    },
  };
}

/** Runs the CLI; resolves to the exit code. Never throws for a user's mistake. */
export async function main(argv: string[], deps: MainDeps = processDeps()): Promise<number> {
  const [name, ...rest] = argv;
  const err = (text: string) => deps.streams.stderr.write(`ses-smtp: ${text}\n`);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    deps.streams.stdout.write(`${topHelp()}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    err(
      `unknown command ${JSON.stringify(name)}; commands: ${Object.keys(COMMANDS).join(', ')} (ses-smtp --help)`,
    );
    return EXIT.usage;
  }
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { ...GLOBAL, ...command.options },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    err(`${name}: ${(e as Error).message.split('\n')[0]} (ses-smtp ${name} --help)`);
    return EXIT.usage;
  }
  if (values.help) {
    deps.streams.stdout.write(`${command.summary}\n\nUsage: ${command.usage}\n\n${GLOBAL_HELP}\n`);
    return EXIT.ok;
  }
  const out = new Output(deps.streams, {
    json: Boolean(values.json),
    noColour: Boolean(values['no-color']),
    env: deps.env,
  });
  const global: GlobalOptions = {
    env: values.env as string,
    config: values.config as string,
    region: values.region as string,
    stack: values.stack as string,
    secretId: values['secret-id'] as string,
    identity: values.identity as string,
    smtpHost: values['smtp-host'] as string,
    smtpPort: values['smtp-port'] as string,
    smtpCa: values['smtp-ca'] as string,
    smtpTimeout: values['smtp-timeout'] as string,
    resolver: values.resolver as string,
  };
  try {
    const ctx = new CliContext(global, out);
    return await command.run(ctx, values, deps);
  } catch (e) {
    out.progressDone();
    if (e instanceof UsageError) {
      err(e.message);
      return EXIT.usage;
    }
    if (e instanceof CheckFailed) {
      if (out.json) out.document({ ok: false, error: e.message });
      err(e.message);
      return EXIT.failed;
    }
    const error = e as Error;
    if (error.name === 'CredentialsProviderError' || /Could not load credentials/i.test(error.message)) {
      err(
        'no AWS credentials found: set AWS_PROFILE, run aws sso login, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
      );
      return EXIT.usage;
    }
    if ((error as { $metadata?: unknown }).$metadata !== undefined) {
      err(`AWS refused ${name}: ${error.name}: ${error.message.split('\n')[0]}`);
      return EXIT.failed;
    }
    if (deps.env.SES_SMTP_DEBUG) throw e;
    err(`${name} failed: ${error.message.split('\n')[0]} (set SES_SMTP_DEBUG=1 for details)`);
    return EXIT.failed;
  }
}
