import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AWS_HTTP_OPTIONS, CliContext } from '../../lib/cli/context';
import { describeError } from '../../lib/cli/errors';
import { Output } from '../../lib/cli/output';

/*
 * The CLI's AWS clients against an endpoint that takes the connection and never answers (a stuck
 * proxy, a wrong AWS_ENDPOINT_URL): without a request timeout every command would hang. A real
 * socket on 127.0.0.1, no client mock (this file does not load the CLI harness).
 */

let server: net.Server;
let port: number;
const sockets = new Set<net.Socket>();
let connections = 0;
const saved = { ...process.env };
/** An environments file of its own: the project's (a team's, of several environments) needs --env. */
const CONFIG = path.resolve(__dirname, '../fixtures/config/single.json');
const home = process.cwd();

beforeAll(async () => {
  server = net.createServer((socket) => {
    connections++;
    sockets.add(socket); // read nothing, answer nothing
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  });
  delete process.env.AWS_PROFILE;
  // A project whose cdk.json names a file of two environments, as a team's does: the contexts
  // below must not read the working directory's file (CliContext refuses several without --env).
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-smtp-timeouts-'));
  fs.mkdirSync(path.join(project, 'config'));
  const { environments }: { environments: Record<string, { domain: string }> } = JSON.parse(
    fs.readFileSync(CONFIG, 'utf8'),
  );
  const [[name, env]] = Object.entries(environments);
  const other = { ...env, domain: `other.${env.domain}`, fromAddress: `no-reply@other.${env.domain}` };
  const two = { environments: { [name]: env, [`${name}-2`]: other } };
  fs.writeFileSync(path.join(project, 'config', 'team.json'), JSON.stringify(two));
  fs.writeFileSync(
    path.join(project, 'cdk.json'),
    JSON.stringify({ context: { config: 'config/team.json' } }),
  );
  process.chdir(project);
});

afterAll(async () => {
  process.chdir(home);
  process.env = saved;
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const out = () =>
  new Output(
    { stdout: { write: () => true }, stderr: { write: () => true } },
    { json: false, noColour: true, env: {} },
  );

test("a command's clients get the default timeouts: a connection within 5 s, an answer within 15 s", async () => {
  expect(AWS_HTTP_OPTIONS).toEqual({
    connectionTimeout: 5000,
    requestTimeout: 15000,
    throwOnRequestTimeout: true,
  });
  // The handler's settings, as the SDK resolved them for a call (to a port nothing listens on).
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as net.AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${closedPort}`;
  try {
    const client = new CliContext({ config: CONFIG, region: 'eu-west-1' }, out()).client(
      SecretsManagerClient,
    );
    await expect(client.send(new DescribeSecretCommand({ SecretId: 'x' }))).rejects.toThrow(/ECONNREFUSED/);
    const handler = client.config.requestHandler as { httpHandlerConfigs(): Record<string, unknown> };
    expect(handler.httpHandlerConfigs()).toMatchObject(AWS_HTTP_OPTIONS);
  } finally {
    process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${port}`;
  }
});

test('an endpoint that never answers fails the call with "cannot reach AWS" instead of hanging', async () => {
  const ctx = new CliContext(
    { config: CONFIG, region: 'eu-west-1' },
    out(),
    { name: 'env' },
    { ...AWS_HTTP_OPTIONS, requestTimeout: 200 },
  );
  const began = Date.now();
  const error = await ctx
    .client(SecretsManagerClient)
    .send(new DescribeSecretCommand({ SecretId: 'x' }))
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(error).toMatchObject({ name: 'TimeoutError' });
  expect(describeError(error, 'env').message).toMatch(
    /^cannot reach AWS \(ETIMEDOUT: .*200 ms requestTimeout.*\): check the network, proxy settings and any AWS_ENDPOINT_URL_\* variable$/,
  );
  // The SDK's 3 attempts of 200 ms each, with its backoff between them.
  expect(Date.now() - began).toBeLessThan(10_000);
  // It was this server that did not answer: the SDK's 3 attempts (a retry opens a new connection).
  expect(connections).toBe(3);
});
