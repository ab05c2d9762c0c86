import { createServer, Server, Socket } from 'node:net';
import { AddressInfo } from 'node:net';
import { setInterval as realSetInterval } from 'node:timers';
import { smtpConnectionOptions, smtpLogin } from '../../lambda/shared/smtp-login';
import { runtimeErrorRecord } from '../support/lambda-logs';
import { startSmtpServer, TestSmtpServer } from '../support/smtp-server';

const USER = 'AKIAEXAMPLEUSER00001';
const PASSWORD = 'BExamplePasswordValue0123456789';
const accept = (u: string, p: string) => u === USER && p === PASSWORD;

/**
 * A login with timeoutMs 30 s to `port` on a fake clock (only the timers: the socket's I/O and the
 * promises between its events run for real), once `ready` (or the login already ended): still
 * pending 1 ms before the timeout, ended at it; resolves with how it ended (an error, or 'logged in').
 */
async function outcomeAtTimeout(port: number, ready: Promise<unknown>): Promise<unknown> {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  let outcome: unknown;
  const login = smtpLogin(
    { host: '127.0.0.1', port, timeoutMs: 30_000 },
    { username: USER, password: PASSWORD },
  ).then(
    () => (outcome = 'logged in'),
    (e: Error) => (outcome = e),
  );
  // A login that fails first settles `login` instead: no wait for `ready`.
  await Promise.race([ready, login]);
  await jest.advanceTimersByTimeAsync(29_999);
  expect(outcome).toBeUndefined();
  await jest.advanceTimersByTimeAsync(1);
  expect(outcome).toBeDefined();
  await login;
  return outcome;
}

describe('smtpLogin against a real SMTP server on 127.0.0.1', () => {
  let server: TestSmtpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const endpoint = (s: TestSmtpServer) => ({ host: '127.0.0.1', port: s.port, tls: { ca: s.ca } });

  test.each([[['PLAIN']], [['LOGIN']], [['PLAIN', 'LOGIN']]])(
    'logs in with the mechanism the server offers (%j)',
    async (authMethods) => {
      server = await startSmtpServer({ accept, authMethods });
      await expect(
        smtpLogin(endpoint(server), { username: USER, password: PASSWORD }),
      ).resolves.toBeUndefined();
      expect(server.authAttempts).toEqual([{ username: USER, accepted: true }]);
    },
  );

  // `ses-smtp doctor` ends by setting process.exitCode: a timer left running keeps it waiting.
  test('a login that ends leaves no timer of its own running', async () => {
    server = await startSmtpServer({ accept });
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      await smtpLogin(endpoint(server), { username: USER, password: PASSWORD });
      expect(server.authAttempts).toEqual([{ username: USER, accepted: true }]);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  test('TLS from the first byte (SES ports 465 and 2465): logs in with implicitTls, and STARTTLS gets no answer', async () => {
    server = await startSmtpServer({ accept, implicitTls: true });
    await smtpLogin({ ...endpoint(server), implicitTls: true }, { username: USER, password: PASSWORD });
    expect(server.authAttempts).toEqual([{ username: USER, accepted: true }]);
    // A STARTTLS client waits for a greeting in clear text that never comes: the login's own timer
    // or nodemailer's greeting timer (the same 300 ms, started a moment later) ends it, whichever
    // a loaded machine runs first; both time out, and no credentials were sent.
    const error = await smtpLogin(
      { ...endpoint(server), timeoutMs: 300 },
      { username: USER, password: PASSWORD },
    ).catch((e: unknown) => e as Error & { code?: string });
    expect([error?.code, error?.message]).toEqual([
      'ETIMEDOUT',
      expect.stringMatching(
        new RegExp(
          `^(SMTP login to 127\\.0\\.0\\.1:${server.port} took over 300 ms|Greeting never received)$`,
        ),
      ),
    ]);
    expect(server.authAttempts).toHaveLength(1);
  });

  test('a server that offers no STARTTLS gets no credentials', async () => {
    server = await startSmtpServer({ accept, disabledCommands: ['STARTTLS'] });
    await expect(smtpLogin(endpoint(server), { username: USER, password: PASSWORD })).rejects.toThrow(
      /STARTTLS/,
    );
    expect(server.authAttempts).toHaveLength(0);
  });

  test('a server that offers no AUTH is no successful login (nodemailer verify() would pass it)', async () => {
    server = await startSmtpServer({ accept, disabledCommands: ['AUTH'] });
    // The server's answer to AUTH, which it does not know: nodemailer's verify() never sends AUTH.
    await expect(smtpLogin(endpoint(server), { username: USER, password: PASSWORD })).rejects.toThrow(
      /^Invalid login: 500 /,
    );
  });

  test('a refused login rejects with the server reply and no credentials in the error', async () => {
    server = await startSmtpServer({ accept });
    const error = (await smtpLogin(endpoint(server), {
      username: USER,
      password: 'BWrongPassword0000',
    }).catch((e: unknown) => e)) as Error & { responseCode?: number };
    expect(error.responseCode).toBe(535);
    expect(JSON.stringify({ ...error, message: error.message, stack: error.stack })).not.toContain(
      'BWrongPassword0000',
    );
  });

  // A refused login must not leave its socket open until the server or the socket timeout ends it:
  // testSecret retries every few seconds, each retry would add a connection.
  test('a refused login closes its connection at once', async () => {
    server = await startSmtpServer({ accept });
    await expect(
      smtpLogin(
        { ...endpoint(server), timeoutMs: 30_000 },
        { username: USER, password: 'BWrongPassword0000' },
      ),
    ).rejects.toThrow(/^Invalid login: 535 /);
    const started = Date.now();
    while ((await server.openConnections()) > 0 && Date.now() - started < 2_000)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await server.openConnections()).toBe(0);
  });

  // SES answers 535 without quoting the client, but a server on the way (a relay that intercepts
  // TLS, trusted with --smtp-ca; a misconfigured one) may quote the line it refuses. nodemailer puts
  // the reply into the error's message, response and stack: the rotation's log, what the Lambda
  // runtime logs of the error testSecret throws, the health check's detail and doctor carry them.
  describe('a server whose refusal quotes what the client sent', () => {
    const SECRET = 'BSecretPasswordThatMustNotLeak0123456789ab+/';
    const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
    const plainLine = (u: string, p: string) => b64(`\0${u}\0${p}`);
    // The password as it crosses: itself, AUTH LOGIN's line, AUTH PLAIN's, and a part of that one
    // past the user name (a quote cut short).
    const forms = [SECRET, b64(SECRET), plainLine(USER, SECRET), plainLine(USER, SECRET).slice(28, 60)];

    test.each<[string, string[], (u: string, p: string) => string]>([
      ['the AUTH PLAIN line', ['PLAIN'], (u, p) => `Unrecognized command AUTH PLAIN ${plainLine(u, p)}`],
      [
        'the AUTH PLAIN line cut short',
        ['PLAIN'],
        (u, p) => `Syntax error near ${plainLine(u, p).slice(0, 60)}`,
      ],
      ["AUTH LOGIN's password line", ['LOGIN'], (_u, p) => `Unrecognized command ${b64(p)}`],
      ['the password itself', ['LOGIN'], (_u, p) => `Bad password ${p} for this user`],
    ])(
      '%s: the error keeps the reply without the password in any form',
      async (_what, authMethods, refusal) => {
        server = await startSmtpServer({ accept, authMethods, refusal });
        const error = await smtpLogin(endpoint(server), { username: USER, password: SECRET }).catch(
          (e: unknown) => e as Error & { responseCode?: number; response?: string },
        );
        expect(server.authAttempts).toEqual([{ username: USER, accepted: false }]);
        expect(error).toMatchObject({
          responseCode: 535,
          message: expect.stringMatching(/^Invalid login: 535 /),
        });
        const record = runtimeErrorRecord(error);
        expect(record).toContain('[redacted]');
        for (const form of forms) expect(record).not.toContain(form);
      },
    );
  });

  describe('a server that accepts the connection and never greets', () => {
    let silent: Server;
    let port: number;
    const accepted: Socket[] = [];
    beforeAll(async () => {
      silent = createServer((socket) => void accepted.push(socket));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      port = (silent.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((r) => silent.close(() => r())));
    afterEach(() => {
      jest.useRealTimers();
      // A login that never gave up would keep its socket (and this server) open.
      for (const socket of accepted.splice(0)) socket.destroy();
    });

    test('the login gives up at timeoutMs, not before (fake clock; the socket is real)', async () => {
      const connected = new Promise<void>((r) => silent.once('connection', () => r()));
      const outcome = await outcomeAtTimeout(port, connected);
      expect(outcome).toBeInstanceOf(Error);
      expect((outcome as Error).message).toMatch(/Greeting never received|took over 30000 ms/);
    });
  });

  // nodemailer's own timers each wait for a silence: a server that keeps sending without ever
  // finishing a reply (here, EHLO continuation lines, one each 50 ms) passes them all, and only
  // the login's own timer over the whole dialogue ends it.
  describe('a server that greets, then never finishes its reply to EHLO', () => {
    let stalling: Server;
    let port: number;
    const accepted: Socket[] = [];
    let trickling: Promise<void>;
    beforeAll(async () => {
      stalling = createServer((socket) => {
        accepted.push(socket);
        socket.on('error', () => {});
        socket.write('220 smtp.example.test ESMTP\r\n');
        trickling = new Promise((started) =>
          socket.once('data', () => {
            // node:timers' own setInterval: the real clock, whatever the test's fake one does.
            const trickle = realSetInterval(() => socket.write('250-still here\r\n'), 50);
            socket.once('close', () => clearInterval(trickle));
            started();
          }),
        );
      });
      await new Promise<void>((r) => stalling.listen(0, '127.0.0.1', r));
      port = (stalling.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((r) => stalling.close(() => r())));
    afterEach(() => {
      jest.useRealTimers();
      for (const socket of accepted.splice(0)) socket.destroy();
    });

    test('the login ends with a timeout at timeoutMs, not before, though the server never goes silent (fake clock; the socket is real)', async () => {
      const connected = new Promise<void>((r) => stalling.once('connection', () => r()));
      // Ready once the trickle runs, so the fake clock starts with the dialogue under way.
      const outcome = await outcomeAtTimeout(
        port,
        connected.then(() => trickling),
      );
      expect(outcome).toMatchObject({
        code: 'ETIMEDOUT',
        message: `SMTP login to 127.0.0.1:${port} took over 30000 ms`,
      });
      expect(accepted).toHaveLength(1);
    });
  });
});

describe('smtpConnectionOptions', () => {
  test('STARTTLS required with TLS 1.2 or later, one timeout for every wait, no protocol log', () => {
    expect(smtpConnectionOptions({ host: 'h', port: 587, timeoutMs: 1234, tls: { ca: 'CA' } })).toEqual({
      host: 'h',
      port: 587,
      secure: false,
      requireTLS: true,
      tls: { minVersion: 'TLSv1.2', ca: 'CA' },
      connectionTimeout: 1234,
      greetingTimeout: 1234,
      socketTimeout: 1234,
      logger: false,
      debug: false,
    });
    expect(smtpConnectionOptions({ host: 'h', port: 587 }).socketTimeout).toBe(10_000);
  });

  test('implicit TLS: TLS from the start instead of STARTTLS, still TLS 1.2 or later', () => {
    expect(smtpConnectionOptions({ host: 'h', port: 465, implicitTls: true })).toMatchObject({
      secure: true,
      requireTLS: false,
      tls: { minVersion: 'TLSv1.2' },
    });
  });
});
