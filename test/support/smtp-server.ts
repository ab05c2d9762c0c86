import { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection';
import { testCertificate } from './certificate';

// smtp-server waits 100 ms after accepting a connection before it greets, to catch clients that
// talk first (spam bots). No client here does, and the suites open dozens of connections: greet
// at once. (Each test file loads its own copy of smtp-server, so this reaches only these servers.)
// The original init also checks `maxClients`, which these servers do not set. smtp-server is
// pinned (package.json); test/support/smtp-server.test.ts fails if an upgrade brings the wait back.
SMTPConnection.prototype.init = function init(this: SMTPConnection) {
  this._setListeners(() => this.connectionReady());
};

export interface TestSmtpServer {
  readonly port: number;
  /** The server certificate, to trust as a CA in the client. */
  readonly ca: string;
  /** Usernames of every AUTH attempt, accepted or not. */
  readonly authAttempts: { username: string; accepted: boolean }[];
  /** Raw messages received. */
  readonly messages: { from: string; to: string[]; raw: string }[];
  /** Client connections still open (a client that closes its socket is no longer counted). */
  openConnections(): Promise<number>;
  close(): Promise<void>;
}

export interface TestSmtpServerOptions {
  /** Decides whether a login is accepted (SES: the key exists, the password matches, the key has propagated). */
  readonly accept: (username: string, password: string) => boolean;
  /**
   * The text of the 535 for a login it refuses, from what the client sent (a server that quotes
   * the AUTH line it refuses puts the credentials into its reply); undefined for SES's.
   * @default - 'Authentication Credentials Invalid' (SES's)
   */
  readonly refusal?: (username: string, password: string) => string | undefined;
  /** The code of that reply: SES's 454 when it throttles logins. @default 535 */
  readonly refusalCode?: number;
  /** An SES error reply ("554 Message rejected: ...") for a recipient, or undefined to accept it. */
  readonly rejectRecipient?: (address: string) => { code: number; message: string } | undefined;
  /** Reply to DATA, like SES's "Ok <message-id>". @default 'Ok 010001test-message-id-000000' */
  readonly dataReply?: string;
  /** AUTH mechanisms the server offers. @default ['PLAIN', 'LOGIN'] (as SES) */
  readonly authMethods?: string[];
  /** Commands the server refuses ('STARTTLS', 'AUTH'), as a misconfigured relay might. @default - none */
  readonly disabledCommands?: string[];
  /** TLS from the first byte, as SES's ports 465 and 2465. @default false (STARTTLS) */
  readonly implicitTls?: boolean;
}

/**
 * A real SMTP server on 127.0.0.1 that behaves like the SES SMTP interface where it matters:
 * STARTTLS required before AUTH, AUTH PLAIN and LOGIN, and
 * "535 Authentication Credentials Invalid" for credentials it does not accept.
 */
export async function startSmtpServer(options: TestSmtpServerOptions): Promise<TestSmtpServer> {
  const { cert, private: key } = testCertificate();
  const authAttempts: TestSmtpServer['authAttempts'] = [];
  const messages: TestSmtpServer['messages'] = [];
  const server = new SMTPServer({
    secure: options.implicitTls ?? false,
    key,
    cert,
    authMethods: options.authMethods ?? ['PLAIN', 'LOGIN'],
    disabledCommands: options.disabledCommands ?? [],
    allowInsecureAuth: false,
    // SES greets without a reverse lookup; asking the machine's resolver about 127.0.0.1 can take
    // smtp-server's full 1.5 s on a CI runner whose DNS is slow.
    disableReverseLookup: true,
    logger: false,
    onAuth(auth, _session, callback) {
      const accepted = options.accept(auth.username ?? '', auth.password ?? '');
      authAttempts.push({ username: auth.username ?? '', accepted });
      if (accepted) return callback(null, { user: auth.username });
      const text = options.refusal?.(auth.username ?? '', auth.password ?? '');
      const error = Object.assign(new Error(text ?? 'Authentication Credentials Invalid'), {
        responseCode: options.refusalCode ?? 535,
      });
      return callback(error);
    },
    onRcptTo(address, _session, callback) {
      const rejection = options.rejectRecipient?.(address.address);
      if (rejection)
        return callback(Object.assign(new Error(rejection.message), { responseCode: rejection.code }));
      return callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback(null, options.dataReply ?? 'Ok 010001test-message-id-000000');
      });
    },
  });
  // A client that gives up mid-handshake (a STARTTLS client on an implicit-TLS port) makes the
  // server emit an error: the client's result is what a test checks.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    ca: cert,
    authAttempts,
    messages,
    openConnections: () =>
      new Promise<number>((resolve, reject) =>
        server.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
      ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
