import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import * as net from 'node:net';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { CheckFailed, describeError, EXIT, isAccessDenied, UsageError } from '../../lib/cli/errors';
import { testCertificate } from '../support/certificate';
import { awsError, serviceUnavailable, throttling } from '../support/fake-aws';
import {
  cfn,
  cw,
  healthyAws,
  iam,
  lambda,
  run,
  SECRET_ARN,
  ses,
  sm,
  sns,
  tmp,
  trail,
  writeConfig,
} from './harness';

const withRequestId = (error: Error, requestId = 'req-1234') =>
  Object.assign(error, { $metadata: { ...(error as { $metadata?: object }).$metadata, requestId } });
const credentialsError = (message: string) =>
  Object.assign(new Error(message), { name: 'CredentialsProviderError', tryNextLink: false });

// preflight takes a refusal of a call for "this check needs a permission you lack"; expired or
// invalid credentials (also HTTP 403) must fail as what they are, not pass as a missing permission.
describe('isAccessDenied', () => {
  test.each([
    ['AccessDeniedException', 400, true],
    ['SomethingForbidden', 403, true],
    ['ExpiredToken', 403, false],
    ['InvalidClientTokenId', 403, false],
    ['ValidationError', 400, false],
  ] as const)('%s (HTTP %d): %s', (name, status, denied) => {
    expect(isAccessDenied(awsError(name, 'refused', status))).toBe(denied);
  });

  test('an error that is not an AWS answer is no refusal', () => {
    expect(isAccessDenied(Object.assign(new Error('connect ECONNREFUSED'), { name: 'AccessDenied' }))).toBe(
      false,
    );
  });
});

describe('describeError', () => {
  test.each<[string, unknown, number, RegExp]>([
    [
      'UsageError as it is',
      new UsageError('--to: got "x", expected an address'),
      EXIT.usage,
      /^--to: got "x"/,
    ],
    [
      'CheckFailed as it is',
      new CheckFailed('rotation not finished'),
      EXIT.failed,
      /^rotation not finished$/,
    ],
    [
      'no credentials (CredentialsProviderError)',
      credentialsError('Could not load credentials from any providers'),
      EXIT.usage,
      /^no AWS credentials found: set AWS_PROFILE, run aws sso login, or export AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY$/,
    ],
    [
      'an expired SSO session (CredentialsProviderError)',
      credentialsError('The SSO session associated with this profile has expired or is otherwise invalid.'),
      EXIT.usage,
      /^AWS credentials expired \(The SSO session .*\): sign in again \(aws sso login/,
    ],
    [
      'an expired SSO token (TokenProviderError)',
      Object.assign(
        new Error('The SSO session token has expired. To refresh this SSO session run aws sso login'),
        {
          name: 'TokenProviderError',
        },
      ),
      EXIT.usage,
      /^AWS credentials expired \(The SSO session token has expired\. .*\): sign in again/,
    ],
    [
      'an expired session token (ExpiredTokenException)',
      withRequestId(
        awsError('ExpiredTokenException', 'The security token included in the request is expired'),
      ),
      EXIT.usage,
      /^AWS credentials expired \(ExpiredTokenException: The security token .* is expired\): sign in again/,
    ],
    [
      'unknown keys (InvalidClientTokenId)',
      awsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403),
      EXIT.usage,
      /^AWS does not accept these credentials \(InvalidClientTokenId: .*\): check AWS_PROFILE/,
    ],
    [
      'AccessDeniedException',
      withRequestId(
        awsError(
          'AccessDeniedException',
          'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: secretsmanager:GetSecretValue on resource: x',
        ),
      ),
      EXIT.failed,
      /^AWS denied env \(AccessDeniedException: User: .* secretsmanager:GetSecretValue .*, request id req-1234\): run it as an identity allowed to do this/,
    ],
    [
      'IAM AccessDenied (403)',
      awsError('AccessDenied', 'User is not authorized to perform: iam:UpdateAccessKey', 403),
      EXIT.failed,
      /^AWS denied env \(AccessDenied: .*iam:UpdateAccessKey\)/,
    ],
    [
      'throttling after retries',
      withRequestId(throttling()),
      EXIT.failed,
      /^AWS throttled env after the SDK's retries \(ThrottlingException, request id req-1234\): wait a minute/,
    ],
    [
      'SESv2 TooManyRequestsException',
      awsError('TooManyRequestsException', 'Too many requests', 429),
      EXIT.failed,
      /^AWS throttled env/,
    ],
    [
      'a throttling error by its retry trait, whatever its name',
      Object.assign(awsError('LimitExceededException', 'Rate of requests exceeds the limit'), {
        $retryable: { throttling: true },
      }),
      EXIT.failed,
      /^AWS throttled env after the SDK's retries \(LimitExceededException\)/,
    ],
    [
      'a refusal by its HTTP status (403), whatever its name',
      awsError('ForbiddenException', 'Forbidden', 403),
      EXIT.failed,
      /^AWS denied env \(ForbiddenException: Forbidden\)/,
    ],
    [
      'no credentials, told by the message alone (an SDK error of another name)',
      new Error('Unable to locate credentials. You can configure credentials by running "aws configure".'),
      EXIT.usage,
      /^no AWS credentials found: set AWS_PROFILE/,
    ],
    [
      'a service error (5xx)',
      withRequestId(serviceUnavailable()),
      EXIT.failed,
      /^AWS failed during env \(ServiceUnavailable, HTTP 503, request id req-1234\): run it again/,
    ],
    [
      'a resource AWS does not have (a mistyped --secret-id)',
      awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.\nmore", 400),
      EXIT.failed,
      /^AWS has no such resource for env \(ResourceNotFoundException: Secrets Manager can't find the specified secret\.\): check the names given \(--secret-id, .*\), the Region \(--region\) and that the credentials are for the account that has it$/,
    ],
    [
      'another AWS refusal',
      awsError('InvalidParameterException', 'You provided a parameter value that is not valid.\nmore', 400),
      EXIT.failed,
      /^AWS refused env: InvalidParameterException: You provided a parameter value that is not valid\.$/,
    ],
    [
      'no network',
      Object.assign(new Error('getaddrinfo ENOTFOUND secretsmanager.eu-west-1.amazonaws.com'), {
        code: 'ENOTFOUND',
      }),
      EXIT.failed,
      /^cannot reach AWS \(ENOTFOUND: .*\): check the network/,
    ],
    [
      'no network, as the SDK throws it (with $metadata from its retries)',
      Object.assign(new Error('getaddrinfo ENOTFOUND cloudformation.us-east-1.amazonaws.com'), {
        code: 'ENOTFOUND',
        errno: -3008,
        syscall: 'getaddrinfo',
        $metadata: { attempts: 3, totalRetryDelay: 312 },
      }),
      EXIT.failed,
      /^cannot reach AWS \(ENOTFOUND: getaddrinfo ENOTFOUND cloudformation\.us-east-1\.amazonaws\.com\): check the network, proxy settings/,
    ],
    [
      'an endpoint of a Region SES has no SMTP endpoint in (a typo in --region) does not resolve',
      Object.assign(new Error('getaddrinfo ENOTFOUND secretsmanager.ue-west-1.amazonaws.com'), {
        code: 'ENOTFOUND',
        hostname: 'secretsmanager.ue-west-1.amazonaws.com',
      }),
      EXIT.failed,
      /^cannot reach AWS \(ENOTFOUND: getaddrinfo ENOTFOUND secretsmanager\.ue-west-1\.amazonaws\.com\): check that ue-west-1 is an AWS Region \(--region\), the network, proxy settings/,
    ],
    ...['ECONNREFUSED', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].map(
      (code): [string, unknown, number, RegExp] => [
        `${code} with $metadata`,
        Object.assign(new Error(`connect ${code} 203.0.113.1:443`), { code, $metadata: { attempts: 1 } }),
        EXIT.failed,
        new RegExp(`^cannot reach AWS \\(${code}: `),
      ],
    ),
    [
      "the SDK's connection timeout (TimeoutError, no code)",
      Object.assign(
        new Error(
          '@smithy/node-http-handler - the request socket did not establish a connection with the server within the configured timeout of 1000 ms.',
        ),
        { name: 'TimeoutError', $metadata: { attempts: 3 } },
      ),
      EXIT.failed,
      /^cannot reach AWS \(TimeoutError: @smithy\/node-http-handler - the request socket did not establish/,
    ],
    [
      // What the SDK throws for an HTML page in place of a JSON answer: its parser quotes the body.
      "an answer the SDK cannot parse (a proxy's page), its body left out",
      Object.assign(
        new SyntaxError(
          'Unexpected token \'<\', "<html>prox"... is not valid JSON\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.',
        ),
        { $metadata: { httpStatusCode: 200, attempts: 1 } },
      ),
      EXIT.failed,
      /^the answer to env is not one AWS gives \(the AWS SDK cannot read it, HTTP 200\): a proxy, a captive portal or an AWS_ENDPOINT_URL_\* variable may answer instead of AWS; check them, then run it again$/,
    ],
    [
      'anything else',
      new TypeError("Cannot read properties of undefined (reading 'x')\n    at somewhere"),
      EXIT.failed,
      /^env failed: Cannot read properties of undefined \(reading 'x'\) \(set SES_SMTP_DEBUG=1 for details\)$/,
    ],
    ['a thrown non-error', 'boom', EXIT.failed, /^env failed: /],
    [
      // What the SDK throws for AWS_ENDPOINT_URL='not a url': new URL's own error.
      'an endpoint URL the SDK cannot parse',
      (() => {
        try {
          new URL('not a url');
        } catch (e) {
          return e;
        }
        throw new Error('new URL took "not a url"');
      })(),
      EXIT.usage,
      /^the AWS SDK was given "not a url", which is not a URL: fix or unset the setting that holds it \(AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>, AWS_CONTAINER_CREDENTIALS_FULL_URI, or the profile's endpoint_url\)$/,
    ],
    [
      // A container credentials URI with a token in it: not repeated.
      'an SDK setting that is no URL and holds a password',
      Object.assign(new TypeError('Invalid URL'), {
        code: 'ERR_INVALID_URL',
        input: 'http://u:t0ken@bad host/',
      }),
      EXIT.usage,
      /^the AWS SDK was given "http:\/\/u:\*\*\*@bad host\/", which is not a URL/,
    ],
  ])('%s', (_, error, exit, message) => {
    const failure = describeError(error, 'env');
    expect(failure.exit).toBe(exit);
    expect(failure.message).toMatch(message);
    expect(failure.message).not.toContain('\n');
  });
});

describe('through the CLI: one line on stderr, the exit code, no stack trace', () => {
  let config: string;
  beforeEach(() => {
    healthyAws();
    config = writeConfig();
  });

  test.each<[string, Error, number]>([
    [
      'access denied',
      awsError('AccessDeniedException', 'not authorized to perform: secretsmanager:GetSecretValue'),
      1,
    ],
    ['throttled', throttling(), 1],
    ['a 500', awsError('InternalServiceError', 'internal', 500), 1],
    ['no credentials', credentialsError('Could not load credentials from any providers'), 2],
    [
      'an expired token',
      awsError('ExpiredToken', 'The security token included in the request is expired'),
      2,
    ],
    ['an unknown error', new RangeError('Invalid time value'), 1],
  ])('%s', async (_, error, code) => {
    sm.on(GetSecretValueCommand).rejects(error);
    const r = await run(['env', '--config', config]);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(/^ses-smtp: [^\n]+\n$/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  test('no credentials with AWS_PROFILE set: the line names the profile', async () => {
    sm.on(GetSecretValueCommand).rejects(credentialsError('Could not load credentials from any providers'));
    const r = await run(['env', '--config', config], { env: { AWS_PROFILE: 'prod-admni' } });
    expect(r.stderr).toBe(
      'ses-smtp: no AWS credentials found for profile "prod-admni" (AWS_PROFILE): check that it exists (aws configure list-profiles) and is signed in (aws sso login --profile prod-admni), or unset AWS_PROFILE\n',
    );
    expect(r.code).toBe(2);
  });

  test('a profile name a shell would split is quoted in the command the line suggests', async () => {
    sm.on(GetSecretValueCommand).rejects(credentialsError('Could not load credentials from any providers'));
    const r = await run(['env', '--config', config], { env: { AWS_PROFILE: 'prod admin' } });
    expect(r.stderr).toContain("(aws sso login --profile 'prod admin')");
    expect(r.code).toBe(2);
  });

  // Every check of doctor calls AWS: without credentials each one failed as "could not run"
  // (11 failures, exit 1) where one line and exit 2 say what to do. Wherever the first call that
  // meets them is: the stack's outputs, a shared check, or one of doctor's own (the trail).
  type Mock = { onAnyCommand(): { rejects(e: unknown): unknown } };
  const expired = () => awsError('ExpiredToken', 'The security token included in the request is expired');
  const SECRET_FLAGS = ['--secret-id', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x'];
  test.each<[string, Error, string[], Mock[]]>([
    [
      'no credentials, resources named by flags',
      credentialsError('Could not load credentials from any providers'),
      [...SECRET_FLAGS, '--identity', 'example.com'],
      [cfn, sm, ses, cw, iam, trail, lambda, sns],
    ],
    [
      'expired credentials, the environments file',
      expired(),
      [],
      [cfn, sm, ses, cw, iam, trail, lambda, sns],
    ],
    [
      'credentials that expire once the stack was read',
      expired(),
      [],
      [sm, ses, cw, iam, trail, lambda, sns],
    ],
    ['credentials that expire at the trail check, after the shared checks', expired(), [], [trail]],
    ['credentials that expire at the alarm-topic check', expired(), [], [sns]],
    [
      'credentials that expire at the stack read, resources named by flags',
      expired(),
      [...SECRET_FLAGS, '--identity', 'example.com'],
      [cfn],
    ],
  ])('doctor with %s: one line, exit 2', async (_, error, flags, failing) => {
    for (const mock of failing) mock.onAnyCommand().rejects(error);
    const r = await run(['doctor', '--config', config, ...flags]);
    // (Progress lines before it: stderr is not a terminal here.)
    expect(r.stderr).toMatch(/(^|\n)ses-smtp: (no AWS credentials found|AWS credentials expired)[^\n]+\n$/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(2);
    expect(r.stdout).not.toContain('could not run');
  });

  test('SES_SMTP_DEBUG=1 adds the stack trace of an unknown error', async () => {
    sm.on(GetSecretValueCommand).rejects(new RangeError('Invalid time value'));
    const r = await run(['env', '--config', config], { env: { SES_SMTP_DEBUG: '1' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^ses-smtp: env failed: Invalid time value .*\nRangeError: Invalid time value\n\s+at /,
    );
  });

  test("SES_SMTP_DEBUG=1 leaves a user's mistake and AWS's answers at one line", async () => {
    sm.on(GetSecretValueCommand).rejects(throttling());
    const aws = await run(['env', '--config', config], { env: { SES_SMTP_DEBUG: '1' } });
    // A UsageError the command throws (the option parser's own never reach that branch).
    const usage = await run(['env', '--config', config, '--force'], { env: { SES_SMTP_DEBUG: '1' } });
    expect([aws.code, usage.code]).toEqual([1, 2]);
    for (const r of [aws, usage]) expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  test('--json: the error is also a JSON document on stdout', async () => {
    sm.on(GetSecretValueCommand).rejects(throttling());
    const r = await run(['env', '--config', config, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({ ok: false, error: expect.stringMatching(/^AWS throttled env/) });
  });
});

describe('with the real AWS SDK (no mocks): a separate process', () => {
  test('AWS out of reach is "cannot reach AWS", not "AWS refused"', async () => {
    // A local port that was just free: connecting to it is refused (ECONNREFUSED).
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const result = spawnSync(
      process.execPath,
      // The bin bundled by the tests' global setup (no TypeScript loader to start).
      ['.build/ses-smtp.js', 'env', '--config', writeConfig()],
      {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          HOME: tmp,
          AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEFAKE00001',
          AWS_SECRET_ACCESS_KEY: 'fake',
          AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
          AWS_MAX_ATTEMPTS: '1',
        },
      },
    );
    expect(result.stderr).toMatch(
      new RegExp(
        `^ses-smtp: cannot reach AWS \\(ECONNREFUSED: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\): check the network, proxy settings and any AWS_ENDPOINT_URL_\\* variable\\n$`,
      ),
    );
    expect(result.status).toBe(1);
  });

  /** `ses-smtp env` (with `args`) against the AWS endpoint `endpoint`; the servers stay served meanwhile. */
  const envAgainst = (endpoint: string, args: string[] = []) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        ['.build/ses-smtp.js', 'env', '--config', writeConfig(), ...args],
        {
          env: {
            PATH: process.env.PATH,
            HOME: tmp,
            AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEFAKE00001',
            AWS_SECRET_ACCESS_KEY: 'fake',
            AWS_ENDPOINT_URL: endpoint,
            AWS_MAX_ATTEMPTS: '1',
          },
        },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      child.on('close', (code) => resolve({ code, stderr }));
    });

  test('a page in place of AWS\'s JSON answer (a captive portal): not "AWS refused", and no part of it shown', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>portal login</html>'),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const result = await envAgainst(`http://127.0.0.1:${port}`, ['--secret-id', SECRET_ARN]);
      expect(result.stderr).toBe(
        'ses-smtp: the answer to env is not one AWS gives (the AWS SDK cannot read it, HTTP 200): a proxy, a captive portal or an AWS_ENDPOINT_URL_* variable may answer instead of AWS; check them, then run it again\n',
      );
      expect(result.code).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('a web identity token file that is not there (OIDC set up wrong): one line naming the variable, exit 2', () => {
    const missing = `${tmp}/no-such-token`;
    const result = spawnSync(process.execPath, ['.build/ses-smtp.js', 'env', '--config', writeConfig()], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        HOME: tmp,
        AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/deploy',
        AWS_WEB_IDENTITY_TOKEN_FILE: missing,
        AWS_MAX_ATTEMPTS: '1',
      },
    });
    expect([result.status, result.stderr]).toEqual([
      2,
      `ses-smtp: AWS_WEB_IDENTITY_TOKEN_FILE names a token file that cannot be read (ENOENT: no such file or directory, open '${missing}'): fix the path, or unset AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN to use other credentials\n`,
    ]);
  });

  test('a certificate it does not trust (a TLS-inspecting proxy): NODE_EXTRA_CA_CERTS, not "AWS refused"', async () => {
    const { cert, private: key } = testCertificate();
    const server = createHttpsServer({ cert, key }, (_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const r = await envAgainst(`https://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
      // Node.js 24 adds its own hint to the error's message ("...; if the root CA is installed locally, ...").
      expect([r.code, r.stderr]).toEqual([
        1,
        expect.stringMatching(
          /^ses-smtp: cannot reach AWS over TLS \(DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate[^\n]*\): a proxy or firewall that intercepts TLS: trust its CA with NODE_EXTRA_CA_CERTS=FILE \(the AWS SDK for JavaScript does not read AWS_CA_BUNDLE\), or check any AWS_ENDPOINT_URL\* variable\n$/,
        ),
      ]);
    } finally {
      server.close();
    }
  });

  test('TLS spoken to a port that does not speak it (EPROTO): the endpoint settings', async () => {
    const server = net.createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const r = await envAgainst(`https://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^ses-smtp: cannot reach AWS over TLS \(EPROTO: [^\n]*\): an endpoint that does not speak TLS \(an https:\/\/ AWS_ENDPOINT_URL\* for a plain HTTP port, or a proxy setting\): check them\n$/,
      );
    } finally {
      server.close();
    }
  });
});
