import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SMTP_VARIABLES, SmtpSecret } from '../../../lambda/shared/smtp-secret';
import { ENV_FORMATS, EnvFormat } from '../command-table';
import { CliContext } from '../context';
import { shellWord, singleQuote } from '../shell';
import { CheckFailed, UsageError } from '../errors';
import { currentCredentials } from '../secret';
import { shownPath } from '../../config/syntax';

export { ENV_FORMATS };
export type { EnvFormat };

export interface EnvOptions {
  /** @default dotenv */
  readonly format?: EnvFormat;
  readonly reveal?: boolean;
  readonly write?: string;
  /** Write even into a file git tracks. */
  readonly force?: boolean;
  /** The AWS CLI profile the kamal lines use. @default "default" */
  readonly awsProfile?: string;
  /** What says a CI job runs ("CI=true", "JENKINS_URL is set"); undefined outside CI. */
  readonly ci?: string;
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

const PASSWORD = 'AWS_SES_SMTP_PASSWORD';
const MASKED = '(masked on a terminal: add --reveal, or pipe the output)';
const doubleQuote = (v: string) => `"${v.replace(/(["\\$`])/g, '\\$1')}"`;

/**
 * ActionMailer settings reading the variables above (no values in it). ENV[...] and a guarded
 * port: `assets:precompile` in a Docker or Kamal build loads this file without the variables.
 * STARTTLS is required, not taken when offered (`enable_starttls_auto` would log in in clear text
 * if someone on the path struck STARTTLS from the server's answer); the mail gem reads
 * `enable_starttls` from 2.7.0 (its changelog: "Require STARTTLS using :enable_starttls"; Rails 7.1
 * and later need mail 2.8), and an older one ignores it and upgrades only when offered. With
 * `raise_delivery_errors` false, mail drops every SMTP error (SES's 454 throttling, a 535) unseen.
 */
export const RAILS_SMTP_SETTINGS = `# config/environments/production.rb (inside Rails.application.configure do ... end)
# ENV[...] or a default, never a bare ENV.fetch: assets:precompile in a Docker/Kamal build runs without these variables.
ses_port = Integer(ENV.fetch("AWS_SES_SMTP_PORT", ""), exception: false) || 587
# SES speaks TLS from the first byte on 465 and 2465, STARTTLS on 25, 587 and 2587: required
# (enable_starttls, mail 2.7+), so the password never crosses in clear text.
ses_tls = [465, 2465].include?(ses_port)
config.action_mailer.delivery_method = :smtp
config.action_mailer.smtp_settings = {
  # Unset or empty, Net::SMTP would connect to localhost: a name that never resolves instead.
  address: ENV["AWS_SES_SMTP_ADDRESS"].presence || "aws-ses-smtp-address-unset.invalid",
  port: ses_port,
  user_name: ENV["AWS_SES_SMTP_USERNAME"],
  password: ENV["AWS_SES_SMTP_PASSWORD"],
  authentication: :login,
  tls: ses_tls,
  enable_starttls: !ses_tls,
  open_timeout: 5,
  read_timeout: 5
}
config.action_mailer.default_options = { from: ENV["DEFAULT_FROM_EMAIL"] }
# Keep raise_delivery_errors true (the default): false drops SES's refusals (454, 535) unseen.
# Links in mails (Devise's reset link) take their host from default_url_options: set your app's,
# config.action_mailer.default_url_options = { host: "app.example.com", protocol: "https" }
# Devise: config.mailer_sender = ENV["DEFAULT_FROM_EMAIL"] in config/initializers/devise.rb
# app/mailers/application_mailer.rb: \`rails new\` wrote default from: "from@example.com" there, which
# overrides default_options and which SES refuses: remove that line (or use ENV["DEFAULT_FROM_EMAIL"]).
`;

/**
 * One variable as a dotenv line writes it (`--format dotenv`, and `--write` into a file). A value
 * with a backslash goes in single quotes, which the dotenv gem and the shell read literally: in
 * double quotes, dotenv before 3.0 (and 3.x with DOTENV_LINEBREAK_MODE=legacy) turns "\n" into a
 * line break however it is escaped. One that also holds a "'" cannot be quoted so for them.
 */
const dotenvDefinition = (name: string, value: string) =>
  `${name}=${value.includes('\\') && !value.includes("'") ? `'${value}'` : doubleQuote(value)}`;

/**
 * The variables in a format. With `masked`, the password's line is commented out (or the whole
 * command, for heroku): masked output never runs as something that sets the password to a mask.
 */
export function renderEnv(
  vars: Record<string, string>,
  format: Exclude<EnvFormat, 'kamal' | 'rails'>,
  masked = false,
): string {
  const entries = Object.entries(vars);
  const hidden = (k: string) => masked && k === PASSWORD;
  switch (format) {
    case 'dotenv':
      return entries
        .map(([k, v]) => (hidden(k) ? `# ${k}= ${MASKED}\n` : `${dotenvDefinition(k, v)}\n`))
        .join('');
    case 'shell':
      return entries
        .map(([k, v]) => (hidden(k) ? `# export ${k}= ${MASKED}\n` : `export ${k}=${singleQuote(v)}\n`))
        .join('');
    case 'heroku': {
      // One command: every config:set restarts the dynos. It prints each value it set on stdout,
      // the password too, which a CI job's log (`--reveal | sh`) would keep: sent to /dev/null
      // (its errors go to stderr).
      const args = entries.map(([k, v]) => `  ${k}=${hidden(k) ? '<masked>' : singleQuote(v)}`);
      const command = `heroku config:set \\\n${args.join(' \\\n')} >/dev/null\n`;
      if (!masked) return command;
      return `# the password is ${MASKED.slice(1, -1)}: the command is commented out\n${command
        .split('\n')
        .filter(Boolean)
        .map((l) => `# ${l}\n`)
        .join('')}`;
    }
    case 'docker': {
      // docker run --env-file: KEY=VALUE, the value taken literally to the end of the line.
      const multiline = entries.find(([, v]) => /[\r\n\0]/.test(v));
      if (multiline) {
        throw new CheckFailed(
          `${multiline[0]} holds a line break, which a docker env-file cannot carry: use --format json, or pass it with docker run -e`,
        );
      }
      return entries.map(([k, v]) => (hidden(k) ? `# ${k}= ${MASKED}\n` : `${k}=${v}\n`)).join('');
    }
    case 'json':
      return `${JSON.stringify(masked ? { ...vars, [PASSWORD]: null } : vars, null, 2)}\n`;
  }
}

/**
 * A variable's definition in a dotenv file: `KEY=`, `export KEY=`, spaces around "=" allowed, or
 * `KEY: ` (the dotenv gem reads both).
 */
const DOTENV_DEFINITION = /^[ \t]*(export[ \t]+)?([A-Za-z_][A-Za-z0-9_.]*)(?:[ \t]*=[ \t]*|:[ \t]+)(.?)/;
const BOM = '\xEF\xBB\xBF';

/**
 * `vars` written into a dotenv file's bytes: each one's first definition replaced in place (its
 * `export ` kept), later ones of the same name dropped (dotenv takes the last), missing ones
 * appended; every other byte (the app's other settings, comments, blank lines, a byte-order mark,
 * text in any encoding) as it was. A quoted value may span lines (dotenv reads "..." and '...'
 * across line breaks): its lines are one definition. `kept` counts the other variables.
 */
export function mergeDotenv(
  existing: Buffer | undefined,
  vars: Record<string, string>,
): {
  bytes: Buffer;
  kept: number;
  /** The number of the first line that marks another format (JSON, XML, INI, YAML), if any. */
  foreign?: number;
} {
  // As Latin-1, one character per byte: every marker is ASCII, and the rest goes back unchanged.
  const text = existing?.toString('latin1') ?? '';
  const bom = text.startsWith(BOM) ? BOM : '';
  // Each line with its own line end (none for a last line without one), so that it goes back as it was.
  // A lone CR ends a line too (old Mac files; dotenv reads it so).
  const lines = text.slice(bom.length).match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
  const content = (l: string) => l.replace(/(?:\r\n|\r|\n)$/, '');
  const ending = (l: string | undefined) => /(?:\r\n|\r|\n)$/.exec(l ?? '')?.[0];
  const usual = ending(lines[0]) ?? '\n';
  const line = (name: string, prefix = '', end = usual) =>
    `${Buffer.from(`${prefix}${dotenvDefinition(name, vars[name])}`, 'utf8').toString('latin1')}${end}`;
  const out: string[] = [];
  const written = new Set<string>();
  const others = new Set<string>();
  let foreign: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    const definition = DOTENV_DEFINITION.exec(content(lines[i]));
    // The dotenv gem skips a line it cannot read: only what no env file starts a line with (a JSON
    // or XML document, an INI section as in .git/config, a YAML document marker) makes a file foreign.
    if (!definition && /^[ \t]*(?:[{[<]|---[ \t]*$)/.test(content(lines[i]))) foreign ??= i + 1;
    let end = i;
    const quote = definition?.[3];
    if (quote === '"' || quote === "'") {
      // The closing quote: the first unescaped one after the opening (no escapes in '...'). A
      // value never closed is read as one line, so no later line is taken for part of it.
      const closing = quote === '"' ? /(?<!\\)(?:\\\\)*"/ : /'/;
      const rest = (n: number) => content(lines[n]).slice(n === i ? definition![0].length : 0);
      while (end < lines.length && !closing.test(rest(end))) end++;
      if (end === lines.length) end = i;
    }
    const name = definition?.[2];
    if (name === undefined || !(name in vars)) {
      if (name !== undefined) others.add(name);
      out.push(...lines.slice(i, end + 1));
    } else if (!written.has(name)) {
      written.add(name);
      out.push(line(name, definition![1], ending(lines[end]) ?? ''));
    }
    i = end;
  }
  const missing = Object.keys(vars).filter((name) => !written.has(name));
  // A last line without a line end gets one before anything is appended after it.
  if (missing.length && out.length && ending(out.at(-1)) === undefined) out.push(usual);
  out.push(...missing.map((name) => line(name)));
  return { bytes: Buffer.from(`${bom}${out.join('')}`, 'latin1'), kept: others.size, foreign };
}

/** An AWS CLI profile name that goes through .kamal/secrets unchanged (see envCommand). */
const KAMAL_PROFILE_RE = /^[A-Za-z0-9 _.,:/+=@%-]+$/;

/**
 * Lines for Kamal 2's `.kamal/secrets`: one `kamal secrets fetch` of the secret (adapter
 * aws_secrets_manager, which runs `aws secretsmanager batch-get-secret-value` at deploy time) and
 * one `kamal secrets extract` per variable. The file holds no credential. The port is a number in
 * the secret, which `extract` cannot return inline: it is written as is (it is not secret).
 */
export function renderKamal(options: {
  secretId: string;
  region: string;
  port: string;
  /** AWS_PROFILE when set: without it the AWS CLI signs in as it would (environment, instance role). */
  profile?: string;
  /** What the secret belongs to, for the header: "environment prod", "stack Mail". */
  subject: string;
}): string {
  // Kamal 2.5 and later: without --account (the AWS CLI's --profile), the CLI's own order of
  // credentials, which a job with OIDC credentials (environment variables) or an instance role needs.
  const account = options.profile ? ` --account ${shellWord(options.profile)}` : '';
  const fetch = `kamal secrets fetch --adapter aws_secrets_manager${account} ${shellWord(options.secretId)}`;
  const lines = Object.entries(SMTP_VARIABLES).map(([name, key]) =>
    key === 'port' ? `${name}=${options.port}` : `${name}=$(kamal secrets extract ${key} $SES_SMTP_SECRETS)`,
  );
  const needs = options.profile
    ? `Needs the AWS CLI signed in with profile\n# "${options.profile}" in ${options.region} (the profile's Region, or AWS_REGION=${options.region} for kamal).`
    : `Needs Kamal 2.5+ (no --account:\n# the AWS CLI signs in as it would) and the Region: AWS_REGION=${options.region} for kamal.`;
  return `# .kamal/secrets (${options.subject}): the SMTP credentials, fetched from AWS Secrets Manager
# when kamal deploys; no password is stored here. ${needs}
# List these names under env: secret: in config/deploy.yml. After a rotation, kamal deploy again.
# With kamal -d NAME, these lines go into .kamal/secrets.NAME: Kamal reads no .kamal/secrets then.
SES_SMTP_SECRETS=$(${fetch})
${lines.join('\n')}
`;
}

export async function envCommand(ctx: CliContext, options: EnvOptions): Promise<number> {
  const format = options.format ?? 'dotenv';
  if (!ENV_FORMATS.includes(format))
    throw new UsageError(
      `--format: got ${JSON.stringify(format)}, expected one of: ${ENV_FORMATS.join(', ')}`,
    );
  // Combinations one of whose options would be ignored: kamal's promise of no password in the file
  // included (--write writes the dotenv format, with the password).
  if (options.write && options.format !== undefined && format !== 'dotenv')
    throw new UsageError(
      `--format ${format} with --write: --write writes a dotenv file; drop --format ${format}, or print that format into a file only you can read: (umask 077; ${ctx.rerun('env')} --format ${format} > FILE)`,
    );
  if (ctx.out.json && options.write)
    throw new UsageError('--json with --write: --write writes a dotenv file and prints nothing; drop --json');
  if (ctx.out.json && options.format !== undefined && format !== 'json')
    throw new UsageError(
      `--json with --format ${format}: --json prints the variables as JSON (as --format json does); drop one of them`,
    );
  if (options.force && !options.write)
    throw new UsageError(
      '--force without --write: it only lets --write write a file git tracks; drop --force',
    );
  if (options.reveal && options.write)
    throw new UsageError('--reveal with --write: the file always holds the password; drop --reveal');
  if (options.reveal && (format === 'kamal' || format === 'rails'))
    throw new UsageError(`--reveal with --format ${format}: it prints no password to reveal; drop --reveal`);
  // A CI job's log keeps what a step prints, and GitHub masks only the secrets it was given: in CI
  // the password goes to stdout only when asked for, for output that goes into a command or file.
  const printsPassword = !options.write && format !== 'kamal' && format !== 'rails';
  if (options.ci !== undefined && printsPassword && !ctx.out.interactive && !options.reveal)
    throw new UsageError(
      `env in CI (${options.ci}): the job's log would keep the SMTP password it prints; pass --reveal where the output goes into a command or a file (| sh, > FILE), or use --write FILE`,
    );
  if (options.write) {
    // Checked before anything is read or written: a refusal leaves everything as it was.
    // The file that holds the password (through a symbolic link, the one it points to) is the
    // one git must not track and must ignore.
    const file = writeTarget(options.write);
    const named =
      file === path.resolve(options.write)
        ? shownPath(options.write)
        : `${shownPath(options.write)} (a link to ${shownPath(file)})`;
    // git's own ignore file would hold the password and lose its rules (and be committed).
    if (path.basename(file) === '.gitignore')
      throw new UsageError(
        `--write ${named}: that is git's ignore file, not an env file; write another file`,
      );
    // A repository's own files (.git/config): git would stop reading them.
    if (file.split(path.sep).includes('.git'))
      throw new UsageError(
        `--write ${named}: that is inside git's own directory (.git), not an env file; write another file`,
      );
    const repo = findGitRoot(path.dirname(file));
    const tracked = repo !== undefined && isTracked(repo, file);
    if (tracked && !options.force) {
      throw new UsageError(
        `--write ${named}: git tracks this file, so the password would be committed; untrack it (git rm --cached ${shellWord(file)}; adding it to .gitignore does not untrack it), write another file, or pass --force`,
      );
    }
    // The repository whose .gitignore gets the file: git would add it otherwise.
    const ignoreIn = repo && !tracked && !isIgnored(repo, file) ? repo : undefined;
    const gitignore = ignoreIn && path.join(ignoreIn, '.gitignore');
    if (gitignore && fs.existsSync(gitignore) && !fs.statSync(gitignore).isFile()) {
      throw new UsageError(
        `--write ${named}: ${shownPath(gitignore)} is not a file, so git could not be told to ignore ${shownPath(file)}; make it a file, or write to a path git ignores already`,
      );
    }
    // The app's other settings in the file stay: only these variables' lines change.
    const existing = fs.existsSync(file) ? fs.readFileSync(file) : undefined;
    // UTF-16 (what Windows PowerShell 5's ">" writes): dotenv reads UTF-8, and so does the merge.
    if (existing && /^(?:\xFF\xFE|\xFE\xFF)/.test(existing.subarray(0, 2).toString('latin1'))) {
      throw new UsageError(
        `--write ${named}: the file is UTF-16 (its byte-order mark), which dotenv does not read; save it as UTF-8, or write another file`,
      );
    }
    // Not an env file (JSON, YAML, INI): the lines appended would break it for its reader.
    const { foreign } = mergeDotenv(existing, {});
    if (foreign)
      throw new UsageError(
        `--write ${named}: line ${foreign} starts as JSON, XML, INI or YAML do, not as a dotenv line (NAME=value), so this is no env file the variables could join; write another file`,
      );
    const merged = mergeDotenv(existing, appVariables(await currentCredentials(ctx)));
    // Ignored before the password is on disk, in the file or its temporary one: no failure, and no
    // Ctrl+C while git answers, leaves it in a file git would add; a write that fails puts
    // .gitignore back as it was.
    let restoreGitignore: (() => void) | undefined;
    try {
      writeFileAtomically(file, named, merged.bytes, () => {
        if (ignoreIn) restoreGitignore = addToGitignore(ignoreIn, file, named);
      });
    } catch (e) {
      restoreGitignore?.();
      throw e;
    }
    const kept = merged.kept
      ? `, kept its ${merged.kept} other ${merged.kept === 1 ? 'variable' : 'variables'}`
      : '';
    ctx.out.warn(
      `wrote ${named} (mode 0600${kept})${gitignore ? `; added it to ${shownPath(gitignore)}` : ''}`,
    );
    if (tracked)
      ctx.out.warn(`git tracks ${named}: the password goes into your next commit unless you untrack it`);
    return 0;
  }
  if (format === 'rails') {
    ctx.out.raw(RAILS_SMTP_SETTINGS);
    return 0;
  }
  if (format === 'kamal') {
    const profile = options.awsProfile || undefined;
    // Kamal reads .kamal/secrets with the dotenv gem before it runs a line's command: an unquoted
    // value ends at "#", a backslash is dropped, "$NAME" is expanded (inside single quotes too),
    // and the command ends at its first unbalanced ")". A name of these characters passes as is.
    if (profile !== undefined && !KAMAL_PROFILE_RE.test(profile))
      throw new UsageError(
        `AWS_PROFILE: got ${JSON.stringify(profile)}, expected for --format kamal a profile name of letters, digits, spaces and "_.,:/+=@%-" (the dotenv gem that reads .kamal/secrets would change a quote, "\\", "$", "#" or a parenthesis); use such a profile (aws configure list-profiles)`,
      );
    const [secretId, outputs] = [await ctx.resource('secretId'), await ctx.stackOutputs()];
    const port = outputs?.SmtpPort;
    ctx.out.raw(
      renderKamal({
        secretId,
        region: ctx.region,
        port: port ?? '587',
        profile,
        subject: ctx.subject,
      }),
    );
    // Kamal's inline extract cannot return the secret's port (a number): it comes from the stack.
    if (port === undefined)
      ctx.out.warn(
        'no stack output SmtpPort to read the port from: wrote AWS_SES_SMTP_PORT=587; if the secret holds another port, change that line',
      );
    return 0;
  }
  const vars = appVariables(await currentCredentials(ctx));
  // On a terminal the password is masked unless asked for; piped output carries the real value.
  const masked = ctx.out.interactive && !options.reveal;
  ctx.out.raw(renderEnv(vars, ctx.out.json ? 'json' : format, masked));
  if (masked) ctx.out.warn('password masked on a terminal: add --reveal, or pipe the output');
  return 0;
}

/**
 * The file `--write` writes, as the file system will find it: the path given, through every
 * symbolic link on the way (the link stays), as realpath resolves it; a link to a file not there
 * yet leads to that file, made in the directory the link names. A UsageError, before anything is
 * read, when the path names something other than a file, a parent is not a directory, or a link
 * on the way loops or names a directory that does not exist; missing parents of a path without
 * links are created when writing.
 */
function writeTarget(given: string): string {
  const option = shownPath(given);
  const broken = () =>
    new UsageError(
      `--write ${option}: a symbolic link on the way loops or names a directory that does not exist; point it at a file or directory that exists, or pass the file's own path`,
    );
  let target = path.resolve(given);
  let stat: fs.Stats | undefined;
  for (let hops = 0; ; hops++) {
    try {
      stat = fs.statSync(target);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ELOOP' || hops === 40) throw broken();
      if (!isLink(target)) break;
      // A link to a file not there yet: its target, read from where the link really is.
      target = path.resolve(fs.realpathSync(path.dirname(target)), fs.readlinkSync(target));
      if (!fs.existsSync(path.dirname(target))) throw broken();
    }
  }
  if (stat?.isDirectory())
    throw new UsageError(
      `--write ${option}: a directory, not a file; pass the path of the file to write, like ${shownPath(path.join(given, '.env.production'))}`,
    );
  if (stat && !stat.isFile())
    throw new UsageError(
      `--write ${option}: not a regular file (a device, pipe or socket); pass the path of a file to write, like .env.production`,
    );
  if (stat) {
    const file = fs.realpathSync(target);
    checkWritable(option, path.dirname(file));
    return file;
  }
  // A new file: its path under the real location of its nearest existing parent (a linked directory).
  let parent = path.dirname(target);
  while (!fs.existsSync(parent) && path.dirname(parent) !== parent) {
    if (isLink(parent)) throw broken();
    parent = path.dirname(parent);
  }
  if (!fs.statSync(parent).isDirectory())
    throw new UsageError(
      `--write ${option}: ${shownPath(parent)} is a file, not a directory, so nothing can be written under it; pass another path`,
    );
  checkWritable(option, parent);
  return path.join(fs.realpathSync(parent), path.relative(parent, target));
}

/** Why a file could not be written, for a failure of this user's or the disk's; else undefined. */
function whyNotWritten(e: unknown): string | undefined {
  switch ((e as NodeJS.ErrnoException).code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'a read-only file system';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'no space left';
    case 'ENAMETOOLONG':
      return 'the name is longer than the file system takes';
    default:
      return undefined;
  }
}

/**
 * Refuses, before the secret is read, a directory this user cannot write in: the file is written
 * next to its target and renamed over it, so the directory is what must take a new file.
 */
function checkWritable(option: string, dir: string): void {
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (e) {
    const why = whyNotWritten(e);
    if (why === undefined) throw e;
    throw new UsageError(
      `--write ${option}: cannot write in ${shownPath(dir)} (${why}); pass a path in a directory you may write to`,
    );
  }
}

function isLink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Writes `text` to `file` with mode 0600: into a new file in the same directory, renamed over
 * `file` at once, so a failure leaves the old file or none, never a part of one or a file readable
 * by others. `beforeWrite` runs first (once the directory exists): the temporary file, which git
 * does not ignore, exists only between two calls with nothing in between.
 */
function writeFileAtomically(
  file: string,
  named: string,
  text: string | Buffer,
  beforeWrite: () => void,
): void {
  // A short name of its own: one made from the file's would pass the 255 bytes a name may have.
  const temp = path.join(path.dirname(file), `.ses-smtp-${process.pid}.tmp`);
  /** A failure of the file's own writing, named by the file asked for, not its temporary one. */
  const writing = <T>(step: () => T): T => {
    try {
      return step();
    } catch (e) {
      const why = whyNotWritten(e);
      if (why === undefined) throw e;
      throw new CheckFailed(
        `--write ${named}: cannot write it (${why}); nothing was written: pass another path`,
      );
    }
  };
  let made: string | undefined;
  try {
    // The first directory it made, if any: a write that fails takes it away again.
    made = writing(() => fs.mkdirSync(path.dirname(file), { recursive: true }));
    // Its own failures (.gitignore's) name .gitignore.
    beforeWrite();
    writing(() => fs.writeFileSync(temp, text, { mode: 0o600, flag: 'wx' }));
    writing(() => fs.renameSync(temp, file));
  } catch (e) {
    try {
      fs.rmSync(made ?? temp, { recursive: true, force: true });
    } catch {
      // The failure that matters is the first one.
    }
    throw e;
  }
}

/**
 * Adds `target` (a path in `repo`) to the repository's .gitignore, made if missing, then asks git
 * whether it now ignores it: a deeper .gitignore can take it back with "!", and a name with a line
 * break has no pattern. If not, puts .gitignore back and refuses. Returns what puts .gitignore
 * back as it was.
 */
function addToGitignore(repo: string, target: string, named: string): () => void {
  const gitignore = path.join(repo, '.gitignore');
  const entry = `/${gitignoreLiteral(path.relative(repo, target).split(path.sep).join('/'))}`;
  // As bytes: put back exactly as it was, whatever its encoding.
  const existing = fs.existsSync(gitignore) ? fs.readFileSync(gitignore) : undefined;
  const newline = existing?.length && existing[existing.length - 1] !== 0x0a ? '\n' : '';
  try {
    fs.appendFileSync(gitignore, `${newline}${entry}\n`);
  } catch (e) {
    const why = whyNotWritten(e);
    if (why === undefined) throw e;
    throw new UsageError(
      `--write ${named}: cannot add it to ${shownPath(gitignore)} (${why}), so git would add the password; make that file writable, or write to a path git ignores already`,
    );
  }
  const restore = () =>
    existing === undefined ? fs.rmSync(gitignore) : fs.writeFileSync(gitignore, existing);
  // Exit 1 is git's "not ignored"; without git, or when git cannot read the repository (another
  // user's, a broken worktree link: exit 128), there is nothing to ask, as before the entry.
  if (git(repo, ['check-ignore', '-q', '--', target]) === 1) {
    restore();
    throw new UsageError(
      `--write ${named}: git would not ignore ${shownPath(target)} even with ${JSON.stringify(entry)} in ${shownPath(gitignore)} (a .gitignore nearer to it takes it back with "!", or its name has a line break); write to a path git ignores, or fix that rule`,
    );
  }
  return restore;
}

/**
 * A path as a .gitignore pattern that matches that path only: "\\" escapes the wildcards `*`, `?`
 * and `[`, itself, and trailing spaces, which git would drop (gitignore(5), "PATTERN FORMAT").
 */
export function gitignoreLiteral(relativePath: string): string {
  return relativePath.replace(/[\\*?[]/g, '\\$&').replace(/ +$/, (spaces) => spaces.replace(/ /g, '\\ '));
}

function findGitRoot(dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, '.git'))) return d;
    if (path.dirname(d) === d) return undefined;
  }
}

/** git ignores the path (which need not exist yet). */
function isIgnored(repo: string, file: string): boolean {
  return git(repo, ['check-ignore', '-q', '--', file]) === 0;
}

/** git tracks the file (in the index): .gitignore does not apply to it. */
function isTracked(repo: string, file: string): boolean {
  return git(repo, ['ls-files', '--error-unmatch', '--', file]) === 0;
}

/** Runs git quietly: its exit code, or undefined when it could not start (not installed). */
function git(repo: string, args: string[]): number | undefined {
  try {
    execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
    return 0;
  } catch (e) {
    const { status } = e as { status?: number | null };
    return typeof status === 'number' ? status : undefined;
  }
}
