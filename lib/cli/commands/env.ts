import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SmtpSecret } from '../../../lambda/shared/smtp-secret';
import { CliContext } from '../context';
import { UsageError } from '../errors';
import { currentCredentials } from '../secret';

export const ENV_FORMATS = ['dotenv', 'shell', 'heroku', 'json', 'rails'] as const;
export type EnvFormat = (typeof ENV_FORMATS)[number];

export interface EnvOptions {
  readonly format?: string;
  readonly reveal?: boolean;
  readonly write?: string;
}

/** The app's settings under the manual guide's variable names (plus the port). */
export function appVariables(secret: SmtpSecret): Record<string, string> {
  return {
    AWS_SES_SMTP_USERNAME: secret.username,
    AWS_SES_SMTP_PASSWORD: secret.password,
    AWS_SES_SMTP_ADDRESS: secret.host,
    AWS_SES_SMTP_PORT: String(secret.port),
    AWS_SES_REGION: secret.region,
    DEFAULT_FROM_EMAIL: secret.fromAddress,
  };
}

const MASK = '********';
const singleQuote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
const doubleQuote = (v: string) => `"${v.replace(/(["\\$`])/g, '\\$1')}"`;

/** ActionMailer settings reading the variables above (no values in it). */
export const RAILS_SMTP_SETTINGS = `# config/environments/production.rb (inside Rails.application.configure do ... end)
config.action_mailer.delivery_method = :smtp
config.action_mailer.smtp_settings = {
  address: ENV.fetch("AWS_SES_SMTP_ADDRESS"),
  port: Integer(ENV.fetch("AWS_SES_SMTP_PORT", "587")),
  user_name: ENV.fetch("AWS_SES_SMTP_USERNAME"),
  password: ENV.fetch("AWS_SES_SMTP_PASSWORD"),
  authentication: :login,
  enable_starttls_auto: true,
  open_timeout: 5,
  read_timeout: 5
}
config.action_mailer.default_options = { from: ENV.fetch("DEFAULT_FROM_EMAIL") }
# Devise: config.mailer_sender = ENV.fetch("DEFAULT_FROM_EMAIL") in config/initializers/devise.rb
`;

export function renderEnv(vars: Record<string, string>, format: EnvFormat): string {
  const entries = Object.entries(vars);
  switch (format) {
    case 'dotenv':
      return entries.map(([k, v]) => `${k}=${doubleQuote(v)}\n`).join('');
    case 'shell':
      return entries.map(([k, v]) => `export ${k}=${singleQuote(v)}\n`).join('');
    case 'heroku':
      // One command: every config:set restarts the dynos.
      return `heroku config:set \\\n${entries.map(([k, v]) => `  ${k}=${singleQuote(v)}`).join(' \\\n')}\n`;
    case 'json':
      return `${JSON.stringify(vars, null, 2)}\n`;
    case 'rails':
      return RAILS_SMTP_SETTINGS;
  }
}

export async function envCommand(ctx: CliContext, options: EnvOptions): Promise<number> {
  const format = (options.format ?? 'dotenv') as EnvFormat;
  if (!ENV_FORMATS.includes(format)) {
    throw new UsageError(
      `--format: got ${JSON.stringify(options.format)}, expected one of: ${ENV_FORMATS.join(', ')}`,
    );
  }
  const vars = appVariables(await currentCredentials(ctx));
  if (options.write) {
    const gitignored = writeDotenv(options.write, renderEnv(vars, 'dotenv'));
    ctx.out.warn(`wrote ${options.write} (mode 0600)${gitignored ? `; added it to ${gitignored}` : ''}`);
    return 0;
  }
  // On a terminal the password is masked unless asked for; piped output carries the real value.
  const masked = ctx.out.interactive && !options.reveal;
  const shown = masked ? { ...vars, AWS_SES_SMTP_PASSWORD: MASK } : vars;
  ctx.out.raw(renderEnv(shown, ctx.out.json ? 'json' : format));
  if (masked && format !== 'rails')
    ctx.out.warn('password masked on a terminal: add --reveal, or pipe the output');
  return 0;
}

/**
 * Writes a dotenv file readable only by its owner and makes sure git ignores it.
 * Returns the .gitignore it added the file to, if any.
 */
function writeDotenv(file: string, text: string): string | undefined {
  const target = path.resolve(file);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  // Narrow an existing file's mode before the password goes in (mode only applies to new files).
  if (fs.existsSync(target)) fs.chmodSync(target, 0o600);
  fs.writeFileSync(target, text, { mode: 0o600 });
  const repo = findGitRoot(path.dirname(target));
  if (!repo || isGitIgnored(repo, target)) return undefined;
  const gitignore = path.join(repo, '.gitignore');
  const entry = `/${path.relative(repo, target).split(path.sep).join('/')}`;
  const existing = fs.existsSync(gitignore) ? fs.readFileSync(gitignore, 'utf8') : '';
  fs.writeFileSync(gitignore, `${existing}${existing && !existing.endsWith('\n') ? '\n' : ''}${entry}\n`);
  return gitignore;
}

function findGitRoot(dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, '.git'))) return d;
    if (path.dirname(d) === d) return undefined;
  }
}

function isGitIgnored(repo: string, file: string): boolean {
  try {
    execFileSync('git', ['check-ignore', '-q', file], { cwd: repo, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
