import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { NormalizedSchema } from '@smithy/core/schema';
import { smtpPasswordFromSecretKey } from '../../lambda/shared/smtp-password';
import { startSmtpServer, TestSmtpServer } from '../support/smtp-server';

/*
 * The bundles scripts/build.mjs ships (jest's global setup builds them), run as Lambda runs them:
 * in a fresh Node process, credentials in the environment, the AWS APIs behind local endpoints
 * (AWS_ENDPOINT_URL_<SERVICE>). What the build changes in the AWS SDK and the files it splits off
 * exist only there: the handler tests run the TypeScript sources.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const BUNDLES = path.join(ROOT, 'dist', 'lambda-bundles');
const ROLE = { key: 'ASIABUNDLETESTROLE01', secret: 'bundle-test-role-secret', token: 'bundle-test-session' };
const REGION = 'eu-west-1';

interface SeenRequest {
  readonly method: string;
  readonly path: string;
  /** X-Amz-Target (JSON protocols) or the Action of a query request. */
  readonly operation: string;
  readonly body: string;
  readonly authorization: string;
  readonly securityToken: string;
}

interface Reply {
  readonly status?: number;
  readonly contentType: string;
  readonly body: string;
}

/** A local HTTP endpoint standing in for AWS APIs: `reply` answers each request, all are recorded. */
async function fakeAws(reply: (request: SeenRequest) => Reply) {
  const requests: SeenRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const seen: SeenRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        operation: String(req.headers['x-amz-target'] ?? new URLSearchParams(body).get('Action') ?? ''),
        body,
        authorization: String(req.headers.authorization ?? ''),
        securityToken: String(req.headers['x-amz-security-token'] ?? ''),
      };
      requests.push(seen);
      const { status = 200, contentType, body: out } = reply(seen);
      res.writeHead(status, { 'content-type': contentType }).end(out);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Each step of a run: what the handler returned or threw, and which files of the asset were loaded. */
interface Step {
  readonly result?: unknown;
  readonly error?: string;
  readonly loaded: string[];
}

const DRIVER = `
const path = require('node:path');
const [bundle, events] = [process.argv[1], JSON.parse(process.argv[2])];
const loaded = () => Object.keys(require.cache).filter((f) => path.dirname(f) === path.dirname(bundle)).map((f) => path.basename(f)).sort();
(async () => {
  const { handler } = require(bundle);
  const steps = [{ loaded: loaded() }];
  for (const event of events) {
    try {
      const result = await handler(event, { getRemainingTimeInMillis: () => 30000 });
      steps.push({ result: result ?? null, loaded: loaded() });
    } catch (error) {
      steps.push({ error: error.message, loaded: loaded() });
    }
  }
  process.stdout.write('RESULT ' + JSON.stringify(steps) + '\\n');
})();
`;

/**
 * Loads a function's bundle in a fresh Node process and calls its handler with each event in
 * turn; the first step is the load itself.
 */
async function runBundle(name: string, env: Record<string, string>, events: unknown[]): Promise<Step[]> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-home-'));
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['-e', DRIVER, path.join(BUNDLES, name, 'index.js'), JSON.stringify(events)],
      {
        // Only what Lambda would set, and an empty home: no shared AWS config of this machine.
        env: {
          PATH: process.env.PATH,
          HOME: home,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          AWS_REGION: REGION,
          AWS_ACCESS_KEY_ID: ROLE.key,
          AWS_SECRET_ACCESS_KEY: ROLE.secret,
          AWS_SESSION_TOKEN: ROLE.token,
          ...env,
        },
        timeout: 60_000,
      },
    );
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`no result from the ${name} bundle:\n${stdout}`);
    return JSON.parse(line.slice('RESULT '.length)) as Step[];
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/** Signed with the execution role's credentials from the environment. */
const signedByRole = (r: SeenRequest) =>
  r.authorization.includes(`Credential=${ROLE.key}/`) && r.securityToken === ROLE.token;

describe('ses-feedback bundle', () => {
  test('a permanent bounce puts the address on the suppression list, signed with the role from the environment', async () => {
    const ses = await fakeAws(() => ({ contentType: 'application/json', body: '{}' }));
    try {
      const bounce = fs.readFileSync(
        path.join(__dirname, '..', 'fixtures', 'ses-events', 'ses_event_bounce_permanent.json'),
        'utf8',
      );
      const body = JSON.stringify(JSON.parse(bounce).payload);
      const steps = await runBundle(
        'ses-feedback',
        { ENVIRONMENT_NAME: 'test', AWS_ENDPOINT_URL_SESV2: ses.url },
        [{ Records: [{ messageId: 'm1', body, attributes: { ApproximateReceiveCount: '1' } }] }],
      );
      expect(steps[1]).toMatchObject({ result: { batchItemFailures: [] } });
      expect(ses.requests).toHaveLength(1);
      const [put] = ses.requests;
      expect(put).toMatchObject({ method: 'PUT', path: '/v2/email/suppression/addresses' });
      expect(JSON.parse(put.body)).toEqual({ EmailAddress: 'nobody@example.net', Reason: 'BOUNCE' });
      expect(signedByRole(put)).toBe(true);
    } finally {
      await ses.close();
    }
  });
});

describe('rotate-smtp-credentials bundle', () => {
  const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:SmtpCredentials-AbCdEf';
  const TOKEN = 'rotation-token-1';
  const NEW_KEY = { id: 'AKIABUNDLETESTNEWKEY', secret: 'bundle-test-new-secret-access-key' };
  let smtp: TestSmtpServer;
  let caFile: string;
  beforeAll(async () => {
    smtp = await startSmtpServer({
      accept: (u, p) => u === NEW_KEY.id && p === smtpPasswordFromSecretKey(NEW_KEY.secret, REGION),
    });
    caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-ca-')), 'ca.pem');
    fs.writeFileSync(caFile, smtp.ca);
  });
  afterAll(async () => {
    await smtp.close();
    fs.rmSync(path.dirname(caFile), { recursive: true, force: true });
  });

  test('createSecret and setSecret run without the SMTP client; testSecret loads it and logs in with the new key', async () => {
    let pending: string | undefined;
    const json = (body: unknown, status = 200): Reply => ({
      status,
      contentType: 'application/x-amz-json-1.1',
      body: JSON.stringify(body),
    });
    const secrets = await fakeAws((r) => {
      const input = JSON.parse(r.body || '{}') as { VersionStage?: string; SecretString?: string };
      switch (r.operation) {
        case 'secretsmanager.DescribeSecret':
          return json({
            ARN: SECRET,
            RotationEnabled: true,
            VersionIdsToStages: { [TOKEN]: ['AWSPENDING'], 'version-0': ['AWSCURRENT'] },
          });
        case 'secretsmanager.GetSecretValue':
          if (input.VersionStage === 'AWSCURRENT') return json({ ARN: SECRET, SecretString: '{}' });
          return pending
            ? json({ ARN: SECRET, SecretString: pending })
            : json({ __type: 'ResourceNotFoundException', message: 'no AWSPENDING version' }, 400);
        case 'secretsmanager.PutSecretValue':
          pending = input.SecretString;
          return json({ ARN: SECRET, VersionId: TOKEN });
        default:
          return json({ __type: 'InvalidRequestException', message: r.operation }, 400);
      }
    });
    const xml = (action: string, result: string): Reply => ({
      contentType: 'text/xml',
      body: `<${action}Response xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></${action}Response>`,
    });
    // IAM as it is: a created key is listed from then on.
    let created = false;
    const iam = await fakeAws((r) => {
      if (r.operation === 'ListAccessKeys')
        return xml(
          'ListAccessKeys',
          created
            ? `<AccessKeyMetadata><member><UserName>SmtpUser</UserName><AccessKeyId>${NEW_KEY.id}</AccessKeyId><Status>Active</Status></member></AccessKeyMetadata><IsTruncated>false</IsTruncated>`
            : '<AccessKeyMetadata/><IsTruncated>false</IsTruncated>',
        );
      if (r.operation === 'CreateAccessKey' && (created = true))
        return xml(
          'CreateAccessKey',
          `<AccessKey><UserName>SmtpUser</UserName><AccessKeyId>${NEW_KEY.id}</AccessKeyId><Status>Active</Status><SecretAccessKey>${NEW_KEY.secret}</SecretAccessKey></AccessKey>`,
        );
      return {
        status: 400,
        contentType: 'text/xml',
        body: `<ErrorResponse><Error><Code>InvalidAction</Code><Message>${r.operation}</Message></Error></ErrorResponse>`,
      };
    });
    try {
      const step = (Step: string) => ({ Step, SecretId: SECRET, ClientRequestToken: TOKEN });
      const steps = await runBundle(
        'rotate-smtp-credentials',
        {
          AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
          AWS_ENDPOINT_URL_IAM: iam.url,
          NODE_EXTRA_CA_CERTS: caFile,
          SMTP_USER_NAME: 'SmtpUser',
          SES_REGION: REGION,
          FROM_ADDRESS: 'no-reply@example.com',
          PUBLISHED_SMTP_PORT: '587',
          SMTP_HOST: 'localhost',
          SMTP_PORT: String(smtp.port),
          ENVIRONMENT_NAME: 'test',
          PREVIOUS_KEY_QUIET_DAYS: '7',
          REPLACED_KEY_HOLD_DAYS: '7',
          ROTATE_WHILE_PREVIOUS_KEY_IN_USE: 'false',
        },
        [step('createSecret'), step('setSecret'), step('testSecret')],
      );
      expect(steps.map((s) => s.error)).toEqual([undefined, undefined, undefined, undefined]);
      // Loaded with the module: index.js only; the SMTP client file comes with testSecret.
      expect(steps.map((s) => s.loaded)).toEqual([
        ['index.js'],
        ['index.js'],
        ['index.js'],
        ['index.js', 'smtp-connection.js'],
      ]);
      // createSecret lists and creates; testSecret logs in without asking IAM.
      expect(iam.requests.map((r) => r.operation)).toEqual(['ListAccessKeys', 'CreateAccessKey']);
      expect(JSON.parse(pending!)).toMatchObject({ username: NEW_KEY.id, region: REGION });
      expect(smtp.authAttempts).toEqual([{ username: NEW_KEY.id, accepted: true }]);
      expect([...secrets.requests, ...iam.requests].every(signedByRole)).toBe(true);
    } finally {
      await Promise.all([secrets.close(), iam.close()]);
    }
  });
});

describe('event streams, which the bundles leave out', () => {
  /** The AWS SDK clients the Lambda code imports, each with the operations it sends (its Commands). */
  const lambdaCalls = () => {
    const files = fs.readdirSync(path.join(ROOT, 'lambda'), { recursive: true }).map(String);
    const calls = new Map<string, Set<string>>();
    for (const file of files.filter((f) => f.endsWith('.ts'))) {
      const source = fs.readFileSync(path.join(ROOT, 'lambda', file), 'utf8');
      for (const [, names, client] of source.matchAll(
        /import \{([^}]*)\} from '(@aws-sdk\/client-[\w-]+)'/g,
      )) {
        const operations = calls.get(client) ?? new Set<string>();
        for (const name of names.split(',').map((n) => n.trim().replace(/^type /, '')))
          if (name.endsWith('Command')) operations.add(name.slice(0, -'Command'.length));
        calls.set(client, operations);
      }
    }
    return calls;
  };

  /** The operations of a client's schemas (exported as `<Name>$`) whose input or output streams events. */
  const eventStreamOperations = (exports: Record<string, unknown>) =>
    Object.entries(exports)
      .filter(([name, value]) => name.endsWith('$') && Array.isArray(value) && value[0] === 9)
      .filter(([, op]) =>
        [(op as unknown[])[4], (op as unknown[])[5]].some(
          (io) => NormalizedSchema.of(io as never).getEventStreamMember() !== '',
        ),
      )
      .map(([name]) => name.slice(0, -1));

  // CloudWatch Logs' StartLiveTail streams; the credentials-ready function calls FilterLogEvents.
  test('no operation the Lambda functions call streams events', () => {
    const calls = lambdaCalls();
    expect([...calls.keys()]).toEqual(
      expect.arrayContaining([
        '@aws-sdk/client-sesv2',
        '@aws-sdk/client-iam',
        '@aws-sdk/client-cloudwatch-logs',
      ]),
    );
    for (const [client, called] of calls) {
      const exports = jest.requireActual<Record<string, unknown>>(client);
      const operations = Object.entries(exports)
        .filter(([name, v]) => name.endsWith('$') && Array.isArray(v) && v[0] === 9)
        .map(([name]) => name.slice(0, -1));
      // Every Command the code names is an operation of its client: the check sees what is called.
      expect({ client, unknown: [...called].filter((op) => !operations.includes(op)) }).toEqual({
        client,
        unknown: [],
      });
      expect(called.size).toBeGreaterThan(0);
      const streaming = eventStreamOperations(exports).filter((op) => called.has(op));
      expect({ client, streaming }).toEqual({ client, streaming: [] });
    }
    expect(eventStreamOperations(jest.requireActual('@aws-sdk/client-cloudwatch-logs'))).toContain(
      'StartLiveTail',
    );
  });

  test('the check finds an operation that streams events', () => {
    const tick = [3, 'test', 'Tick', 0, [], []];
    const events = [4, 'test', 'Events', { streaming: 1 }, ['tick'], [tick]];
    const input = [3, 'test', 'SubscribeInput', 0, ['events'], [events]];
    const output = [3, 'test', 'SubscribeOutput', 0, [], []];
    expect(
      eventStreamOperations({
        Subscribe$: [9, 'test', 'Subscribe', 0, () => input, () => output],
        Get$: [9, 'test', 'Get', 0, () => output, () => output],
      }),
    ).toEqual(['Subscribe']);
  });
});
