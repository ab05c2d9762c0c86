import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { gitignoreLiteral, mergeDotenv } from '../../lib/cli/commands/env';
import { shellWord } from '../../lib/cli/shell';
import {
  ALARM_TOPIC_ARN,
  CONFIGURATION_SET,
  CREDENTIALS,
  expectNoAwsCalls,
  healthyAws,
  run,
  SECRET_ARN,
  sm,
  stackWithOutputs,
  tmp,
  USER_NAME,
  writeConfig,
} from './harness';

// A rename that fails once: a full disk at the last step of --write.
jest.mock('node:fs', () => {
  const actual = jest.requireActual<typeof import('node:fs')>('node:fs');
  return {
    ...actual,
    renameSync: jest.fn(actual.renameSync),
    accessSync: jest.fn(actual.accessSync),
    appendFileSync: jest.fn(actual.appendFileSync),
  };
});

let config: string;
beforeEach(() => {
  healthyAws();
  config = writeConfig();
});
const cli = (args: string[], options = {}) => run([...args, '--config', config], options);
const expected = {
  AWS_SES_SMTP_USERNAME: CREDENTIALS.username,
  AWS_SES_SMTP_PASSWORD: CREDENTIALS.password,
  AWS_SES_SMTP_ADDRESS: CREDENTIALS.host,
  AWS_SES_SMTP_PORT: '587',
  AWS_SES_REGION: CREDENTIALS.region,
  DEFAULT_FROM_EMAIL: CREDENTIALS.fromAddress,
};

/** Reads an env-file by Docker's documented rules: `#` lines and blank lines skipped, VAR=VAL literal. */
function dockerEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    vars[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return vars;
}

/**
 * Ruby's Shellwords.shellsplit, which Kamal gives an inline `kamal secrets` command to: no
 * expansion, quotes and backslashes only; an unmatched quote is an error.
 */
function shellsplit(line: string): string[] {
  const words: string[] = [];
  let field = '';
  // Ruby's (\s|\z)?: a JavaScript group that matches nothing does not count, so the end is told apart.
  const word = /\s*(?:([^\s\\'"]+)|'([^']*)'|"((?:[^"\\]|\\.)*)"|(\\.?)|(\S))(\s)?/sy;
  for (let m = word.exec(line); m && m[0] !== ''; m = word.exec(line)) {
    const [, bare, single, double, escaped, garbage, separator] = m;
    if (garbage !== undefined) throw new Error(`Unmatched quote: ${line}`);
    field +=
      bare ??
      single ??
      (double !== undefined ? double.replace(/\\([$`"\\\n])/g, '$1') : escaped!.replace(/\\(.)/s, '$1'));
    if (separator !== undefined || word.lastIndex === line.length) {
      words.push(field);
      field = '';
    }
  }
  return words;
}

describe('docker', () => {
  test('an env-file docker run --env-file reads back to the secret: no quotes in values', async () => {
    const r = await cli(['env', '--format', 'docker']);
    expect(r.code).toBe(0);
    expect(dockerEnvFile(r.stdout)).toEqual(expected);
    expect(r.stdout).toContain(`AWS_SES_SMTP_PASSWORD=${CREDENTIALS.password}\n`);
    expect(r.stdout).not.toMatch(/["']/);
  });

  // A CI job's log keeps stdout, and GitHub masks only the secrets it was given.
  test.each([
    [{ CI: 'true' }, 'CI=true'],
    [{ CI: '1' }, 'CI=1'],
    [{ CI: 'woodpecker' }, 'CI=woodpecker'],
    // Services that do not set CI.
    [{ JENKINS_URL: 'https://ci.example.com/', BUILD_ID: '7' }, 'JENKINS_URL is set'],
    [{ TF_BUILD: 'True' }, 'TF_BUILD is set'],
    [{ CODEBUILD_BUILD_ARN: 'arn:aws:codebuild:eu-west-1:1:build/p:1' }, 'CODEBUILD_BUILD_ARN is set'],
    [{ TEAMCITY_VERSION: '2025.07' }, 'TEAMCITY_VERSION is set'],
  ])(
    'in CI (%j) the password is printed only with --reveal: one line, exit 2, nothing read',
    async (ci, signal) => {
      const message = `env in CI (${signal}): the job's log would keep the SMTP password it prints; pass --reveal where the output goes into a command or a file (| sh, > FILE), or use --write FILE`;
      for (const format of [[], ['--format', 'shell'], ['--format', 'heroku'], ['--format', 'docker']]) {
        const r = await cli(['env', ...format], { env: ci });
        expect(r).toMatchObject({ code: 2, stdout: '', stderr: `ses-smtp: ${message}\n` });
      }
      const json = await cli(['env', '--json'], { env: ci });
      expect([json.code, JSON.parse(json.stdout)]).toEqual([2, { ok: false, error: message }]);
      expectNoAwsCalls();
      const revealed = await cli(['env', '--reveal'], { env: ci });
      expect(revealed.code).toBe(0);
      expect(revealed.stdout).toContain(CREDENTIALS.password);
    },
  );

  test('in CI, what prints no password is printed as anywhere; CI=false or empty is no CI', async () => {
    for (const format of ['kamal', 'rails'])
      expect((await cli(['env', '--format', format], { env: { CI: 'true' } })).code).toBe(0);
    // On a terminal (a CI job's interactive shell): masked, as on any terminal.
    const tty = await cli(['env'], { env: { CI: 'true' }, tty: true });
    expect([tty.code, tty.stdout.includes(CREDENTIALS.password)]).toEqual([0, false]);
    for (const ci of ['false', ''])
      expect((await cli(['env'], { env: { CI: ci } })).stdout).toContain(CREDENTIALS.password);
    const file = path.join(fs.mkdtempSync(path.join(tmp, 'ci-')), '.env');
    expect((await cli(['env', '--write', file], { env: { CI: 'true' } })).code).toBe(0);
  });

  test('on a terminal the password line is a comment: docker sees no password at all', async () => {
    const r = await cli(['env', '--format', 'docker'], { tty: true });
    expect(dockerEnvFile(r.stdout)).toEqual({ ...expected, AWS_SES_SMTP_PASSWORD: undefined });
    expect(Object.keys(dockerEnvFile(r.stdout))).not.toContain('AWS_SES_SMTP_PASSWORD');
    expect(r.stdout + r.stderr).not.toContain(CREDENTIALS.password);
  });

  // Docker's env-file reader splits at "\n" and drops a "\r" that ends a line.
  test.each([['\n'], ['\r']])(
    'a value with a line break (%j) cannot be carried: one line naming the variable, nothing printed, exit 1',
    async (lineBreak) => {
      sm.on(GetSecretValueCommand).resolves({
        SecretString: JSON.stringify({ ...CREDENTIALS, fromAddress: `no-reply@example.com${lineBreak}` }),
      });
      const r = await cli(['env', '--format', 'docker']);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        'ses-smtp: DEFAULT_FROM_EMAIL holds a line break, which a docker env-file cannot carry: use --format json, or pass it with docker run -e\n',
      );
    },
  );
});

test('mid-rotation it prints the AWSCURRENT credentials, not the pending ones SES may not take yet', async () => {
  const pending = { ...CREDENTIALS, username: 'AKIAEXAMPLEKEY000002', password: 'BPendingPassword' };
  sm.on(GetSecretValueCommand, { VersionStage: 'AWSPENDING' }).resolves({
    SecretString: JSON.stringify(pending),
  });
  const r = await cli(['env', '--format', 'json']);
  expect(JSON.parse(r.stdout)).toEqual(expected);
  expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([
    { SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT' },
  ]);
});

describe('kamal', () => {
  /**
   * Resolves the lines as Kamal 2 does: `kamal secrets fetch --adapter aws_secrets_manager` gives
   * each JSON key of the secret as "<secret name>/<key>"; `kamal secrets extract KEY` takes the
   * entry whose name ends in "/KEY".
   */
  function resolveAsKamal(text: string, secretName: string, secret: Record<string, unknown>) {
    const fetched = Object.fromEntries(Object.entries(secret).map(([k, v]) => [`${secretName}/${k}`, v]));
    const fetches: string[][] = [];
    const vars: Record<string, string> = {};
    // The deployer's environment, which the dotenv gem's $NAME reads too.
    const env: Record<string, string> = { HOME: '/home/deployer' };
    /** The variables that hold what a fetch returned (the app's are `vars`). */
    const fetchedAs: Record<string, string> = {};
    for (const line of text.split('\n')) {
      // dotenv's LINE: KEY=, then an unquoted value that ends at "#" (our lines quote none).
      const match = /^([\w.]+)=([^#\r\n]*)/.exec(line.trim());
      if (!match) continue;
      const [, name, raw] = match;
      // parse_value: backslashes dropped (but before "$"), then $NAME and ${NAME} expanded.
      const value = raw
        .trim()
        .replace(/\\([^$])/g, '$1')
        .replace(/(\\)?\$(?!\()\{?([A-Za-z0-9_]+)?\}?/g, (whole, escaped, key) =>
          escaped
            ? whole.slice(1)
            : key !== undefined
              ? (vars[key] ?? fetchedAs[key] ?? env[key] ?? '')
              : whole,
        );
      // Kamal's InlineCommandSubstitution: the $( ... ) of balanced parentheses, shellsplit.
      let command: string | undefined;
      if (value.startsWith('$(')) {
        let depth = 0;
        let end = 1;
        for (; end < value.length; end++) {
          depth += value[end] === '(' ? 1 : value[end] === ')' ? -1 : 0;
          if (depth === 0) break;
        }
        expect(end).toBe(value.length - 1);
        command = value.slice(2, end);
      }
      if (command === undefined) {
        vars[name] = value;
        continue;
      }
      const argv = shellsplit(command);
      if (argv[2] === 'fetch') {
        fetches.push(argv);
        fetchedAs[name] = 'FETCHED';
        continue;
      }
      expect(argv.slice(0, 3)).toEqual(['kamal', 'secrets', 'extract']);
      expect(argv[4]).toBe('FETCHED');
      const hit = Object.entries(fetched).find(([k]) => k.endsWith(`/${argv[3]}`));
      vars[name] = String(hit?.[1]);
    }
    return { fetches, vars };
  }

  test('.kamal/secrets lines fetch from Secrets Manager at deploy time; no credential in them', async () => {
    const r = await cli(['env', '--format', 'kamal']);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(CREDENTIALS.password);
    expect(r.stdout).not.toContain(CREDENTIALS.username);
    // The secret value is not even read: only where it is.
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    const { fetches, vars } = resolveAsKamal(r.stdout, 'SmtpCredentials', CREDENTIALS);
    // No --account (the AWS CLI's --profile): its own credentials order, which a CI job with
    // OIDC credentials in environment variables, or a host with an instance role, needs.
    expect(fetches).toEqual([['kamal', 'secrets', 'fetch', '--adapter', 'aws_secrets_manager', SECRET_ARN]]);
    expect(vars).toEqual(expected);
    expect(r.stdout).toMatch(/^# \.kamal\/secrets \(environment prod\)/);
    // Kamal with a destination reads .kamal/secrets.NAME (and secrets-common), not .kamal/secrets.
    expect(r.stdout).toContain('# With kamal -d NAME, these lines go into .kamal/secrets.NAME');
    expect(r.stdout).toContain(
      'Needs Kamal 2.5+ (no --account:\n# the AWS CLI signs in as it would) and the Region: AWS_REGION=eu-west-1 for kamal.\n',
    );
    expect(r.stderr).toBe('');
  });

  test('a stack without the SmtpPort output: 587, and a line saying so', async () => {
    stackWithOutputs('SesSmtp-prod', {
      SmtpSecretArn: SECRET_ARN,
      IdentityName: 'example.com',
      ConfigurationSetName: CONFIGURATION_SET,
      SmtpUserName: USER_NAME,
      OperatorAlarmTopicArn: ALARM_TOPIC_ARN,
    });
    const r = await cli(['env', '--format', 'kamal']);
    expect(r.code).toBe(0);
    expect(resolveAsKamal(r.stdout, 'SmtpCredentials', CREDENTIALS).vars.AWS_SES_SMTP_PORT).toBe('587');
    expect(r.stderr).toBe(
      '! no stack output SmtpPort to read the port from: wrote AWS_SES_SMTP_PORT=587; if the secret holds another port, change that line\n',
    );
  });

  test.each([['ops-admin'], ['ops admin'], ['team.prod@acme:eu/1+2=3,%_']])(
    'the AWS CLI profile comes from AWS_PROFILE, quoted when it needs it (%s)',
    async (profile) => {
      const r = await cli(['env', '--format', 'kamal'], { env: { AWS_PROFILE: profile } });
      const { fetches } = resolveAsKamal(r.stdout, 'SmtpCredentials', CREDENTIALS);
      expect(fetches[0].slice(5, 7)).toEqual(['--account', profile]);
      // Any Kamal 2 takes --account: the header asks for no version then.
      expect(r.stdout).toContain(`Needs the AWS CLI signed in with profile\n# "${profile}" in eu-west-1`);
      expect(r.stdout).not.toContain('2.5+');
    },
  );

  // What the dotenv gem would change on the way to kamal: refused, not written wrong.
  test.each([["ops admin's"], ['ops$HOME'], ['ops#1'], ['ops\\1'], ['ops)'], ['"ops"']])(
    'a profile the dotenv gem would change (%s): one line, exit 2, nothing read',
    async (profile) => {
      const r = await cli(['env', '--format', 'kamal'], { env: { AWS_PROFILE: profile } });
      expect([r.code, r.stdout]).toEqual([2, '']);
      expect(r.stderr).toBe(
        `ses-smtp: AWS_PROFILE: got ${JSON.stringify(profile)}, expected for --format kamal a profile name of letters, digits, spaces and "_.,:/+=@%-" (the dotenv gem that reads .kamal/secrets would change a quote, "\\", "$", "#" or a parenthesis); use such a profile (aws configure list-profiles)\n`,
      );
      expectNoAwsCalls();
    },
  );

  test("the port is the stack's (SmtpPort): what the app was deployed to use", async () => {
    stackWithOutputs('SesSmtp-prod', {
      SmtpSecretArn: SECRET_ARN,
      IdentityName: 'example.com',
      ConfigurationSetName: CONFIGURATION_SET,
      SmtpUserName: USER_NAME,
      SmtpPort: '2587',
      OperatorAlarmTopicArn: ALARM_TOPIC_ARN,
    });
    const r = await cli(['env', '--format', 'kamal']);
    expect(resolveAsKamal(r.stdout, 'SmtpCredentials', CREDENTIALS).vars.AWS_SES_SMTP_PORT).toBe('2587');
  });

  test('on a terminal it prints the same lines: there is nothing to mask', async () => {
    const piped = await cli(['env', '--format', 'kamal']);
    const tty = await cli(['env', '--format', 'kamal'], { tty: true });
    expect(tty.stdout).toBe(piped.stdout);
    expect(tty.stderr).toBe('');
  });
});

describe('--write', () => {
  function repoWith(file: string, options: { track: boolean; ignore?: boolean }) {
    const repo = fs.mkdtempSync(path.join(tmp, 'repo-'));
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo });
    git('init', '-q');
    const target = path.join(repo, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, 'OLD=1\n');
    if (options.track) git('add', file);
    if (options.ignore) fs.writeFileSync(path.join(repo, '.gitignore'), `/${file}\n`);
    return { repo, target };
  }

  test.each([
    ['tracked', false],
    ['tracked and listed in .gitignore (which does not untrack it)', true],
  ])('refuses a file git %s: one line, exit 2, file untouched, secret not read', async (_, ignore) => {
    const { target } = repoWith('.env.production', { track: true, ignore });
    const r = await cli(['env', '--write', target]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `ses-smtp: --write ${target}: git tracks this file, so the password would be committed; untrack it (git rm --cached ${target}; adding it to .gitignore does not untrack it), write another file, or pass --force\n`,
    );
    expect(fs.readFileSync(target, 'utf8')).toBe('OLD=1\n');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  // A path a shell would split or expand: the command in the line, pasted, untracks that file.
  test('the git rm it suggests, run as printed, untracks a file whose path a shell would change', async () => {
    const { repo, target } = repoWith('my app/.env $(touch pwned)', { track: true });
    const r = await cli(['env', '--write', target]);
    expect(r.code).toBe(2);
    const command = /\((git rm --cached .*); adding it to/.exec(r.stderr)?.[1] ?? '';
    expect(command).toBe(`git rm --cached '${target}'`);
    execFileSync('bash', ['-c', command], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(execFileSync('git', ['ls-files'], { cwd: repo, encoding: 'utf8' })).toBe('');
    expect(fs.existsSync(path.join(repo, 'pwned'))).toBe(false);
  });

  test('--force writes it anyway, and warns', async () => {
    const { repo, target } = repoWith('config/.env', { track: true });
    const r = await cli(['env', '--write', target, '--force']);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(target, 'utf8')).toContain(CREDENTIALS.password);
    expect(r.stderr).toContain('the password goes into your next commit unless you untrack it');
    // Useless for a tracked file: .gitignore is not touched.
    expect(fs.existsSync(path.join(repo, '.gitignore'))).toBe(false);
  });

  // The README sends operators back to --write after every rotation: the app's other settings in
  // the file must survive it.
  test("an existing file keeps the app's other settings: only these variables' lines change", async () => {
    const { target } = repoWith('.env.production', { track: false, ignore: true });
    fs.writeFileSync(
      target,
      [
        '# production settings',
        'DATABASE_URL=postgres://db.example.com/app',
        'export AWS_SES_SMTP_PASSWORD="old-password"',
        'PRIVATE_KEY="-----BEGIN KEY-----',
        'AWS_SES_SMTP_USERNAME=not-a-definition-but-part-of-the-key',
        '-----END KEY-----"',
        '',
        'AWS_SES_REGION = us-east-1',
        'SECRET_KEY_BASE=abc123',
        'AWS_SES_REGION=us-west-2',
      ].join('\n'),
    );
    const r = await cli(['env', '--write', target]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`! wrote ${target} (mode 0600, kept its 3 other variables)\n`);
    expect(fs.readFileSync(target, 'utf8')).toBe(
      [
        '# production settings',
        'DATABASE_URL=postgres://db.example.com/app',
        `export AWS_SES_SMTP_PASSWORD="${CREDENTIALS.password}"`,
        'PRIVATE_KEY="-----BEGIN KEY-----',
        'AWS_SES_SMTP_USERNAME=not-a-definition-but-part-of-the-key',
        '-----END KEY-----"',
        '',
        `AWS_SES_REGION="${CREDENTIALS.region}"`,
        'SECRET_KEY_BASE=abc123',
        `AWS_SES_SMTP_USERNAME="${CREDENTIALS.username}"`,
        `AWS_SES_SMTP_ADDRESS="${CREDENTIALS.host}"`,
        'AWS_SES_SMTP_PORT="587"',
        `DEFAULT_FROM_EMAIL="${CREDENTIALS.fromAddress}"`,
        '',
      ].join('\n'),
    );
  });

  test.each([
    [
      'CRLF line ends stay CRLF',
      'A=1\r\nAWS_SES_SMTP_PORT=25\r\n',
      'A=1\r\nAWS_SES_SMTP_PORT="587"\r\nB="2"\r\n',
    ],
    [
      'a quote never closed is one line',
      'A="open\nAWS_SES_SMTP_PORT=25\nC=3',
      'A="open\nAWS_SES_SMTP_PORT="587"\nC=3\nB="2"\n',
    ],
    [
      'an escaped quote does not close a value',
      'A="x\\"\nAWS_SES_SMTP_PORT=25"\n',
      'A="x\\"\nAWS_SES_SMTP_PORT=25"\nAWS_SES_SMTP_PORT="587"\nB="2"\n',
    ],
    [
      'single quotes have no escapes',
      "A='x\\'\nAWS_SES_SMTP_PORT=25\n",
      'A=\'x\\\'\nAWS_SES_SMTP_PORT="587"\nB="2"\n',
    ],
    ['an empty file', '', 'AWS_SES_SMTP_PORT="587"\nB="2"\n'],
    ['"KEY: value", which dotenv reads too', 'AWS_SES_SMTP_PORT: 25\n', 'AWS_SES_SMTP_PORT="587"\nB="2"\n'],
    [
      'each line keeps its own line end, and a last line without one stays so',
      'A=1\r\nC=2\nAWS_SES_SMTP_PORT=25\nB=1',
      'A=1\r\nC=2\nAWS_SES_SMTP_PORT="587"\nB="2"',
    ],
    [
      'a line appended after a last line without a line end starts on a line of its own',
      'A=1\r\nAWS_SES_SMTP_PORT=25',
      'A=1\r\nAWS_SES_SMTP_PORT="587"\r\nB="2"\r\n',
    ],
    [
      'a lone CR ends a line (old Mac files, as dotenv reads them): the other lines stay',
      'AWS_SES_SMTP_PORT=25\rOTHER=keep\rSECRET_KEY_BASE=abc\r',
      'AWS_SES_SMTP_PORT="587"\rOTHER=keep\rSECRET_KEY_BASE=abc\rB="2"\r',
    ],
    [
      'an indented definition, and one with spaces around "=", are replaced on their own line (dotenv reads both)',
      'A=1\n  AWS_SES_SMTP_PORT=25\n\tB = 1\nC=3\n',
      'A=1\nAWS_SES_SMTP_PORT="587"\nB="2"\nC=3\n',
    ],
    [
      'a byte-order mark stays, and the first line is still read',
      '\uFEFFAWS_SES_SMTP_PORT=25\n',
      '\uFEFFAWS_SES_SMTP_PORT="587"\nB="2"\n',
    ],
  ])('mergeDotenv: %s', (_case, existing, merged) => {
    const vars = { AWS_SES_SMTP_PORT: '587', B: '2' };
    expect(mergeDotenv(Buffer.from(existing), vars).bytes.toString()).toBe(merged);
  });

  test('a UTF-16 file (PowerShell 5\'s ">"): one line, exit 2, nothing read or written', async () => {
    const { target } = repoWith('.env.production', { track: false, ignore: true });
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('A=1\r\n', 'utf16le')]);
    fs.writeFileSync(target, utf16);
    const r = await cli(['env', '--write', target]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `ses-smtp: --write ${target}: the file is UTF-16 (its byte-order mark), which dotenv does not read; save it as UTF-8, or write another file\n`,
    );
    expect(fs.readFileSync(target)).toEqual(utf16);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  test('mergeDotenv: the bytes of other lines come back as they were, in any encoding', () => {
    const latin1 = Buffer.from([
      ...Buffer.from('GREETING=caf'),
      0xe9,
      ...Buffer.from('\nAWS_SES_SMTP_PORT=25\n'),
    ]);
    expect(mergeDotenv(latin1, { AWS_SES_SMTP_PORT: '587' }).bytes).toEqual(
      Buffer.from([...Buffer.from('GREETING=caf'), 0xe9, ...Buffer.from('\nAWS_SES_SMTP_PORT="587"\n')]),
    );
    // A value of ours beyond ASCII is written as UTF-8.
    expect(mergeDotenv(Buffer.from('A=é\n'), { B: 'ü' }).bytes.toString('utf8')).toBe('A=é\nB="ü"\n');
  });

  test('an untracked file is written and git-ignored', async () => {
    const { repo, target } = repoWith('.env.production', { track: false });
    const r = await cli(['env', '--write', target]);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(repo, '.gitignore'), 'utf8')).toBe('/.env.production\n');
  });

  test.each([
    ['.env[prod]', '/.env\\[prod]'],
    ['.env*', '/.env\\*'],
    ['config/a?b.env', '/config/a\\?b.env'],
    ['back\\slash.env', '/back\\\\slash.env'],
    ['trailing.env  ', '/trailing.env\\ \\ '],
  ])(
    'a name with a character .gitignore reads as a pattern (%s) is git-ignored as written: %s',
    async (name, entry) => {
      const { repo, target } = repoWith(name, { track: false });
      const r = await cli(['env', '--write', target]);
      expect(r.code).toBe(0);
      expect(fs.readFileSync(path.join(repo, '.gitignore'), 'utf8')).toBe(`${entry}\n`);
      // git would not add it: `git add --dry-run` lists only .gitignore.
      const added = execFileSync('git', ['add', '--all', '--dry-run'], { cwd: repo, encoding: 'utf8' });
      expect(added).toBe("add '.gitignore'\n");
    },
  );

  test('git failing to read the repository (a worktree whose link is broken: exit 128) is no refusal: written and git-ignored, as before the check', async () => {
    const repo = fs.mkdtempSync(path.join(tmp, 'broken-'));
    fs.writeFileSync(path.join(repo, '.git'), 'gitdir: /nonexistent/worktree\n');
    const target = path.join(repo, '.env.production');
    const r = await cli(['env', '--write', target]);
    expect([r.code, r.stderr]).toEqual([
      0,
      expect.stringContaining(`added it to ${path.join(repo, '.gitignore')}`),
    ]);
    expect(fs.readFileSync(path.join(repo, '.gitignore'), 'utf8')).toBe('/.env.production\n');
    expect(fs.readFileSync(target, 'utf8')).toContain('AWS_SES_SMTP_PASSWORD=');
  });

  test("git's own ignore file is not an env file: refused, nothing written", async () => {
    const { repo } = repoWith('.env', { track: false });
    fs.writeFileSync(path.join(repo, '.gitignore'), 'node_modules/\n');
    const r = await cli(['env', '--write', path.join(repo, '.gitignore')]);
    expect([r.code, r.stderr]).toEqual([
      2,
      `ses-smtp: --write ${path.join(repo, '.gitignore')}: that is git's ignore file, not an env file; write another file\n`,
    ]);
    expect(fs.readFileSync(path.join(repo, '.gitignore'), 'utf8')).toBe('node_modules/\n');
  });

  test("a file inside git's own directory is not an env file: refused, nothing written", async () => {
    const { repo } = repoWith('.env', { track: false });
    const config = path.join(repo, '.git', 'config');
    const before = fs.readFileSync(config, 'utf8');
    const r = await cli(['env', '--write', config]);
    expect([r.code, r.stderr]).toEqual([
      2,
      `ses-smtp: --write ${config}: that is inside git's own directory (.git), not an env file; write another file\n`,
    ]);
    expect(fs.readFileSync(config, 'utf8')).toBe(before);
    expect(fs.existsSync(path.join(repo, '.gitignore'))).toBe(false);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  test('a file with a line that is no dotenv line (JSON, YAML) is refused, naming the line; nothing written', async () => {
    const { repo, target } = repoWith('config/environments.json', { track: false });
    fs.writeFileSync(target, '{\n  "environments": {}\n}\n');
    const r = await cli(['env', '--write', target]);
    expect([r.code, r.stderr]).toEqual([
      2,
      `ses-smtp: --write ${target}: line 1 starts as JSON, XML, INI or YAML do, not as a dotenv line (NAME=value), so this is no env file the variables could join; write another file\n`,
    ]);
    expect(fs.readFileSync(target, 'utf8')).toBe('{\n  "environments": {}\n}\n');
    expect(fs.existsSync(path.join(repo, '.gitignore'))).toBe(false);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  test.each([
    ['definitions, comments and blank lines', 'A=1\n# note\n\n  \texport B = 2\nC: 3\n', undefined],
    ['a quoted value over several lines', 'KEY="-----BEGIN\n[abc]\n-----END"\nB=1\n', undefined],
    // What the dotenv gem reads or skips: a key with a leading digit, a bare export, anything else.
    ['lines the dotenv gem skips', '2FA_ISSUER=x\nFOO=1\nexport FOO\nMY-VAR=1\nB=`multi\nline`\n', undefined],
    ['a JSON document', '{\n  "environments": {}\n}\n', 1],
    ['an INI section (.git/config)', '[core]\n\trepositoryformatversion = 0\n', 1],
    ['a YAML document marker after a comment', '# settings\n---\nkey: value\n', 2],
    ['an XML document', '<?xml version="1.0"?>\n<a/>\n', 1],
    ['a value left open is one line: the next is read on its own', 'A="open\n{\n', 2],
    ['CRLF line ends', 'A=1\r\n[section]\r\n', 2],
  ])('mergeDotenv finds the first line of another format: %s', (_case, text, line) => {
    expect(mergeDotenv(Buffer.from(text), {}).foreign).toBe(line);
  });

  test('a long file name (250 bytes, the file system takes 255) is written; a longer one is one line, nothing left', async () => {
    const { repo } = repoWith('.env', { track: false });
    const long = path.join(repo, `.env.${'n'.repeat(245)}`);
    const r = await cli(['env', '--write', long]);
    expect([r.code, fs.readFileSync(long, 'utf8')]).toEqual([
      0,
      expect.stringContaining('AWS_SES_SMTP_PASSWORD='),
    ]);
    const tooLong = path.join(repo, `.env.${'n'.repeat(300)}`);
    const refused = await cli(['env', '--write', tooLong]);
    expect([refused.code, refused.stderr]).toEqual([
      1,
      `ses-smtp: --write ${tooLong}: cannot write it (the name is longer than the file system takes); nothing was written: pass another path\n`,
    ]);
    expect(fs.readdirSync(repo).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('the pattern matches that path only: a wildcard in the name is not one', () => {
    expect(gitignoreLiteral('a*b?[c]\\d ')).toBe('a\\*b\\?\\[c]\\\\d\\ ');
    expect(gitignoreLiteral('dir/.env.production')).toBe('dir/.env.production');
  });

  test('a .gitignore nearer the file that takes it back with "!" is reported, and nothing is written', async () => {
    const { repo, target } = repoWith('app/.env.production', { track: false });
    fs.writeFileSync(path.join(repo, 'app', '.gitignore'), '!.env.production\n');
    const r = await cli(['env', '--write', target]);
    expect(r.code).toBe(2);
    const entry = '"/app/.env.production"';
    expect(r.stderr).toBe(
      `ses-smtp: --write ${target}: git would not ignore ${target} even with ${entry} in ${path.join(repo, '.gitignore')} (a .gitignore nearer to it takes it back with "!", or its name has a line break); write to a path git ignores, or fix that rule\n`,
    );
    expect(fs.existsSync(path.join(repo, '.gitignore'))).toBe(false);
    expect(fs.readFileSync(target, 'utf8')).toBe('OLD=1\n');
    expect(fs.readdirSync(path.join(repo, 'app')).sort()).toEqual(['.env.production', '.gitignore']);
  });

  test.each<[string, () => { path: string; line: (path: string) => string; untouched: () => void }]>([
    [
      'an existing directory',
      () => {
        const dir = fs.mkdtempSync(path.join(tmp, 'dir-'));
        fs.chmodSync(dir, 0o755);
        return {
          path: dir,
          line: (p) =>
            `--write ${p}: a directory, not a file; pass the path of the file to write, like ${path.join(p, '.env.production')}`,
          untouched: () => expect(fs.statSync(dir).mode & 0o777).toBe(0o755),
        };
      },
    ],
    [
      'a path under a file',
      () => {
        const file = path.join(fs.mkdtempSync(path.join(tmp, 'parent-')), 'notes.txt');
        fs.writeFileSync(file, 'notes\n');
        return {
          path: path.join(file, 'sub', '.env'),
          line: () =>
            `--write ${path.join(file, 'sub', '.env')}: ${file} is a file, not a directory, so nothing can be written under it; pass another path`,
          untouched: () => expect(fs.readFileSync(file, 'utf8')).toBe('notes\n'),
        };
      },
    ],
    [
      'a file in a repository whose .gitignore is a directory',
      () => {
        const repo = fs.mkdtempSync(path.join(tmp, 'repo-'));
        execFileSync('git', ['init', '-q', repo]);
        fs.mkdirSync(path.join(repo, '.gitignore'));
        const file = path.join(repo, '.env.production');
        return {
          path: file,
          line: (p) =>
            `--write ${p}: ${path.join(repo, '.gitignore')} is not a file, so git could not be told to ignore ${p}; make it a file, or write to a path git ignores already`,
          untouched: () => expect(fs.existsSync(file)).toBe(false),
        };
      },
    ],
  ])('%s: one line, exit 2, nothing read or written', async (_, setup) => {
    const { path: target, line, untouched } = setup();
    const r = await cli(['env', '--write', target]);
    expect(r.stderr).toBe(`ses-smtp: ${line(target)}\n`);
    expect(r.code).toBe(2);
    expectNoAwsCalls();
    untouched();
  });

  // A test that ends before its rename would leave the failure queued for the next test.
  afterEach(() =>
    jest.mocked(fs.renameSync).mockReset().mockImplementation(jest.requireActual('node:fs').renameSync),
  );
  afterEach(() =>
    jest.mocked(fs.accessSync).mockReset().mockImplementation(jest.requireActual('node:fs').accessSync),
  );
  afterEach(() =>
    jest
      .mocked(fs.appendFileSync)
      .mockReset()
      .mockImplementation(jest.requireActual('node:fs').appendFileSync),
  );
  /** The next rename fails as on a full disk: after the new file is written, before it is in place. */
  const failNextRename = () =>
    jest.mocked(fs.renameSync).mockImplementationOnce(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    });

  test('a write that fails half-way leaves the old file as it was, and no other file', async () => {
    const { repo, target } = repoWith('.env.production', { track: false, ignore: true });
    failNextRename();
    const r = await cli(['env', '--write', target]);
    expect(r.code).toBe(1);
    // The file asked for, not the temporary one the failure happened to.
    expect(r.stderr).toBe(
      `ses-smtp: --write ${target}: cannot write it (no space left); nothing was written: pass another path\n`,
    );
    expect(fs.readFileSync(target, 'utf8')).toBe('OLD=1\n');
    expect(fs.readdirSync(repo).sort()).toEqual(['.env.production', '.git', '.gitignore']);
  });

  // A Ctrl+C ends the process at once, wherever it is: while .gitignore gets the file and git is
  // asked about it, no file git would add (the temporary one) may hold the password.
  test('the password is on disk only once git ignores the file', async () => {
    const { repo, target } = repoWith('.env.production', { track: false });
    const holding: string[][] = [];
    const actual = jest.requireActual<typeof import('node:fs')>('node:fs');
    jest.mocked(fs.appendFileSync).mockImplementationOnce((...args) => {
      holding.push(
        actual.readdirSync(repo).filter((name) => {
          const file = path.join(repo, name);
          return (
            actual.statSync(file).isFile() && actual.readFileSync(file, 'utf8').includes(CREDENTIALS.password)
          );
        }),
      );
      return actual.appendFileSync(...args);
    });
    const r = await cli(['env', '--write', target]);
    expect(r.code).toBe(0);
    expect(holding).toEqual([[]]);
    expect(fs.readFileSync(target, 'utf8')).toContain(CREDENTIALS.password);
    expect(fs.readdirSync(repo).sort()).toEqual(['.env.production', '.git', '.gitignore']);
  });

  // The tests may run as root: appendFileSync answers as for another user's .gitignore.
  test('.gitignore that cannot be written: the line names .gitignore, not the env file; nothing written', async () => {
    const { repo, target } = repoWith('.env.production', { track: false });
    const gitignore = path.join(repo, '.gitignore');
    jest.mocked(fs.appendFileSync).mockImplementationOnce(() => {
      throw Object.assign(new Error(`EACCES: permission denied, open '${gitignore}'`), { code: 'EACCES' });
    });
    const r = await cli(['env', '--write', target]);
    expect(r.stderr).toBe(
      `ses-smtp: --write ${target}: cannot add it to ${gitignore} (permission denied), so git would add the password; make that file writable, or write to a path git ignores already\n`,
    );
    expect(r.code).toBe(2);
    expect(fs.readFileSync(target, 'utf8')).toBe('OLD=1\n');
    expect(fs.readdirSync(repo).sort()).toEqual(['.env.production', '.git']);
  });

  test('a write that fails takes away the directories it made for the file', async () => {
    const { repo } = repoWith('.env.production', { track: false, ignore: true });
    failNextRename();
    const r = await cli(['env', '--write', path.join(repo, 'deploy', 'production', '.env')]);
    expect(r.code).toBe(1);
    expect(fs.readdirSync(repo).sort()).toEqual(['.env.production', '.git', '.gitignore']);
  });

  // The tests may run as root, who may write anywhere: accessSync answers as for another user.
  test.each(['EACCES', 'EROFS'])(
    'a directory this user cannot write in (%s): one line naming it, exit 2, before the secret is read',
    async (code) => {
      const { repo } = repoWith('.env.production', { track: false, ignore: true });
      const dir = path.join(repo, 'deploy');
      fs.mkdirSync(dir);
      jest.mocked(fs.accessSync).mockImplementationOnce((p) => {
        if (p !== dir) throw new Error(`accessSync(${String(p)}): the check asked elsewhere`);
        throw Object.assign(new Error(`${code}: denied`), { code });
      });
      const r = await cli(['env', '--write', path.join(dir, 'production', '.env')]);
      const why = code === 'EROFS' ? 'a read-only file system' : 'permission denied';
      expect(r.stderr).toBe(
        `ses-smtp: --write ${path.join(dir, 'production', '.env')}: cannot write in ${dir} (${why}); pass a path in a directory you may write to\n`,
      );
      expect(r.code).toBe(2);
      expectNoAwsCalls();
    },
  );

  test('a path with a line break is one line, quoted', async () => {
    const { repo } = repoWith('.env.production', { track: false, ignore: true });
    const target = path.join(repo, 'dir\nname');
    fs.mkdirSync(target);
    const r = await cli(['env', '--write', target]);
    expect(r.stderr).toBe(
      `ses-smtp: --write ${JSON.stringify(target)}: a directory, not a file; pass the path of the file to write, like ${JSON.stringify(path.join(target, '.env.production'))}\n`,
    );
    expect(r.code).toBe(2);
  });

  test.each([
    ['no .gitignore', undefined],
    ['a .gitignore of its own', Buffer.from('node_modules/\n')],
    ['a .gitignore in Latin-1, without a final line break', Buffer.from([0x23, 0x20, 0xe9])],
  ])('a write that fails after .gitignore got the file puts .gitignore back (%s)', async (_, before) => {
    const { repo, target } = repoWith('.env.production', { track: false });
    const gitignore = path.join(repo, '.gitignore');
    if (before !== undefined) fs.writeFileSync(gitignore, before);
    failNextRename();
    const r = await cli(['env', '--write', target]);
    expect(r.code).toBe(1);
    expect(fs.existsSync(gitignore) ? fs.readFileSync(gitignore) : undefined).toEqual(before);
    expect(fs.readFileSync(target, 'utf8')).toBe('OLD=1\n');
  });

  test('a symbolic link to a file git tracks is refused, naming both: the password would be committed', async () => {
    const { repo, target } = repoWith('shared/.env', { track: true });
    const link = path.join(repo, '.env.production');
    fs.symlinkSync(target, link);
    const r = await cli(['env', '--write', link]);
    expect(r.stderr).toBe(
      `ses-smtp: --write ${link} (a link to ${target}): git tracks this file, so the password would be committed; untrack it (git rm --cached ${target}; adding it to .gitignore does not untrack it), write another file, or pass --force\n`,
    );
    expect(r.code).toBe(2);
    expect(fs.readFileSync(target, 'utf8')).toBe('OLD=1\n');
    expectNoAwsCalls();
  });

  test('a symbolic link to a file git does not ignore: .gitignore gets the file written', async () => {
    const { repo, target } = repoWith('shared/.env', { track: false });
    const link = path.join(repo, '.env.production');
    fs.symlinkSync(target, link);
    const r = await cli(['env', '--write', link]);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(repo, '.gitignore'), 'utf8')).toBe('/shared/.env\n');
  });

  test.each<[string, (repo: string) => string]>([
    [
      'a link into a directory that does not exist',
      (repo) => {
        fs.symlinkSync(path.join('missing', '.env'), path.join(repo, '.env.production'));
        return path.join(repo, '.env.production');
      },
    ],
    [
      'a loop of links',
      (repo) => {
        fs.symlinkSync('.env.b', path.join(repo, '.env.a'));
        fs.symlinkSync('.env.a', path.join(repo, '.env.b'));
        return path.join(repo, '.env.a');
      },
    ],
    [
      'a new file under a link to nothing',
      (repo) => {
        fs.symlinkSync('nowhere', path.join(repo, 'conf'));
        return path.join(repo, 'conf', '.env');
      },
    ],
  ])('%s: one line, exit 2, nothing read or written', async (_, setup) => {
    const { repo } = repoWith('README', { track: true });
    const link = setup(repo);
    const before = fs.readdirSync(repo).sort();
    const r = await cli(['env', '--write', link]);
    expect(r.stderr).toBe(
      `ses-smtp: --write ${link}: a symbolic link on the way loops or names a directory that does not exist; point it at a file or directory that exists, or pass the file's own path\n`,
    );
    expect(r.code).toBe(2);
    expectNoAwsCalls();
    expect(fs.readdirSync(repo).sort()).toEqual(before);
  });

  test('a link to a file not there yet: the link stays, and its target is written and ignored', async () => {
    const { repo } = repoWith('shared/README', { track: true });
    const link = path.join(repo, '.env.production');
    fs.symlinkSync(path.join('shared', '.env'), link);
    const r = await cli(['env', '--write', link]);
    expect(r.code).toBe(0);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(repo, 'shared', '.env'), 'utf8')).toContain(CREDENTIALS.password);
    expect(fs.readFileSync(path.join(repo, '.gitignore'), 'utf8')).toBe('/shared/.env\n');
  });

  test("a link's relative target is read where the link really is (the link under a linked directory)", async () => {
    const { repo } = repoWith('deep/sub/README', { track: true });
    // deep/sub/.env -> ../.env means deep/.env, wherever the path to the link came from.
    fs.symlinkSync('../.env', path.join(repo, 'deep', 'sub', '.env'));
    fs.symlinkSync(path.join('deep', 'sub'), path.join(repo, 'conf'));
    const r = await cli(['env', '--write', path.join(repo, 'conf', '.env')]);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(repo, 'deep', '.env'), 'utf8')).toContain(CREDENTIALS.password);
    expect(fs.existsSync(path.join(repo, '.env'))).toBe(false);
    expect(fs.readFileSync(path.join(repo, '.gitignore'), 'utf8')).toBe('/deep/.env\n');
  });

  test('a new file under a linked directory: the file where it lands is the one ignored', async () => {
    const { repo } = repoWith('shared/README', { track: true });
    fs.symlinkSync('shared', path.join(repo, 'conf'));
    const r = await cli(['env', '--write', path.join(repo, 'conf', '.env')]);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(repo, '.gitignore'), 'utf8')).toBe('/shared/.env\n');
    expect(
      execFileSync('git', ['status', '--porcelain', '--ignored'], { cwd: repo, encoding: 'utf8' }),
    ).toMatch(/^!! shared\/\.env$/m);
  });

  test('a symbolic link: the file it points to is written, the link stays', async () => {
    const { repo, target } = repoWith('shared/.env', { track: false, ignore: true });
    const link = path.join(repo, '.env.production');
    fs.symlinkSync(target, link);
    fs.appendFileSync(path.join(repo, '.gitignore'), '/.env.production\n');
    const r = await cli(['env', '--write', link]);
    expect(r.code).toBe(0);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(target, 'utf8')).toContain(CREDENTIALS.password);
    expect(fs.statSync(target).mode & 0o777).toBe(0o600);
  });
});

describe('options that cannot go together: one line saying what works, exit 2, nothing read or written', () => {
  // The redirect a user pastes makes a file only they can read: under umask 022 "> FILE" is 0644.
  const umask = (format: string) =>
    `(umask 077; ses-smtp env --env prod --config ${shellWord(config)} --format ${format} > FILE)`;
  test.each<[string[], () => string]>([
    [
      ['--format', 'kamal'],
      () =>
        `--format kamal with --write: --write writes a dotenv file; drop --format kamal, or print that format into a file only you can read: ${umask('kamal')}`,
    ],
    [
      ['--format', 'shell'],
      () =>
        `--format shell with --write: --write writes a dotenv file; drop --format shell, or print that format into a file only you can read: ${umask('shell')}`,
    ],
    [['--json'], () => '--json with --write: --write writes a dotenv file and prints nothing; drop --json'],
    [['--reveal'], () => '--reveal with --write: the file always holds the password; drop --reveal'],
  ])('--write FILE %j', async (flags, message) => {
    const file = path.join(fs.mkdtempSync(path.join(tmp, 'combo-')), '.env');
    const r = await cli(['env', '--write', file, ...flags]);
    expect(r.stderr).toBe(`ses-smtp: ${message()}\n`);
    expect(r.code).toBe(2);
    expect(fs.existsSync(file)).toBe(false);
    expectNoAwsCalls();
  });

  test.each(['kamal', 'rails', 'dotenv', 'docker'])('--json --format %s', async (format) => {
    const r = await cli(['env', '--json', '--format', format]);
    const message = `--json with --format ${format}: --json prints the variables as JSON (as --format json does); drop one of them`;
    expect(r.stderr).toBe(`ses-smtp: ${message}\n`);
    expect(JSON.parse(r.stdout)).toEqual({ ok: false, error: message });
    expect(r.code).toBe(2);
    expectNoAwsCalls();
  });

  test.each<[string[], string]>([
    [['--force'], '--force without --write: it only lets --write write a file git tracks; drop --force'],
    [
      ['--reveal', '--format', 'kamal'],
      '--reveal with --format kamal: it prints no password to reveal; drop --reveal',
    ],
    [
      ['--reveal', '--format', 'rails'],
      '--reveal with --format rails: it prints no password to reveal; drop --reveal',
    ],
  ])('%j', async (flags, message) => {
    const r = await cli(['env', ...flags]);
    expect(r.stderr).toBe(`ses-smtp: ${message}\n`);
    expect(r.code).toBe(2);
    expectNoAwsCalls();
  });

  test('what goes together still works: --write with --format dotenv, --json with --format json', async () => {
    const file = path.join(fs.mkdtempSync(path.join(tmp, 'combo-')), '.env');
    expect((await cli(['env', '--write', file, '--format', 'dotenv'])).code).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toContain(CREDENTIALS.password);
    const json = await cli(['env', '--json', '--format', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ AWS_SES_SMTP_PASSWORD: CREDENTIALS.password });
  });
});
