import * as fs from 'node:fs';
import * as path from 'node:path';
import { GetEmailIdentityCommand } from '@aws-sdk/client-sesv2';
import { diagnose, diagnoseRefusal } from '../../lambda/shared/smtp-diagnosis';
import { startSmtpServer, TestSmtpServer } from '../support/smtp-server';
import { CREDENTIALS, healthyAws, localSmtpOptions, run, ses, tmp, writeConfig } from './harness';

const USER_ARN = 'arn:aws:iam::123456789012:user/SesSmtp-prod-SmtpCredentialsUserB2C70464-1ABCDEF2GHIJ';
/** SES's reply when the SMTP user's policy does not allow ses:SendRawEmail on an identity. */
const accessDenied = (identity: string) =>
  `Access denied: User \`${USER_ARN}' is not authorized to perform \`ses:SendRawEmail' on resource \`arn:aws:ses:eu-west-1:123456789012:identity/${identity}'`;
const MESSAGE = { from: 'no-reply@example.com', to: 'dev@example.org' };

describe('diagnoseRefusal', () => {
  test('not authorized on the sender identity: the From address is outside credentials.allowedFromAddresses', () => {
    const d = diagnoseRefusal(`554 ${accessDenied('example.com')}`, {
      from: 'billing@example.com',
      to: 'dev@example.org',
    });
    expect(d).toEqual({
      stage: 'send',
      detail: `554 ${accessDenied('example.com')}`,
      fix: 'the SMTP user may not send as this From address (billing@example.com): add it, or "*@example.com", to credentials.allowedFromAddresses in the config and deploy',
    });
  });

  test.each(['dev@example.org', 'example.org'])(
    'not authorized on the recipient identity %s: the sandbox, verifiedEmailAddresses or production access',
    (identity) => {
      const d = diagnoseRefusal(`554 ${accessDenied(identity)}`, MESSAGE);
      expect(d?.fix).toMatch(
        /^the account is in the SES sandbox, where SES authorizes recipients too: add the recipient to verifiedEmailAddresses in the config and deploy, or request production access/,
      );
    },
  );

  // The sandbox authorizes the recipient's identity too; at the sender's own domain that identity
  // is the sender's, which the sandbox does not refuse: the From address is outside the list.
  test('not authorized on the sender domain, the recipient at that domain too: the From address', () => {
    const d = diagnoseRefusal(`554 ${accessDenied('example.com')}`, {
      from: 'billing@example.com',
      to: 'dev@example.com',
    });
    expect(d?.fix).toMatch(/^the SMTP user may not send as this From address \(billing@example\.com\)/);
  });

  test('not authorized on the configuration set: the header names another set', () => {
    const reply = `554 Access denied: User \`${USER_ARN}' is not authorized to perform \`ses:SendRawEmail' on resource \`arn:aws:ses:eu-west-1:123456789012:configuration-set/other'`;
    expect(diagnoseRefusal(reply, MESSAGE)?.fix).toMatch(/X-SES-CONFIGURATION-SET header/);
  });

  test('not authorized, resource not named: both settings are named', () => {
    const d = diagnoseRefusal('554 Access denied: not authorized to perform ses:SendRawEmail', MESSAGE);
    expect(d?.fix).toMatch(/credentials\.allowedFromAddresses.*verifiedEmailAddresses/);
  });

  test('"Email address is not verified" for the recipient: the sandbox', () => {
    const reply =
      '554 Message rejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: dev@example.org';
    expect(diagnoseRefusal(reply, MESSAGE)?.fix).toMatch(/^the account is in the SES sandbox/);
  });

  test('"Email address is not verified" for the sender: its identity, not the sandbox', () => {
    const reply =
      '554 Message rejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: no-reply@example.com, example.com';
    expect(diagnoseRefusal(reply, MESSAGE)?.fix).toBe(
      "the sender's identity (no-reply@example.com) is not verified in this Region: run ses-smtp doctor to see why (DKIM records), or check fromAddress and region in the config",
    );
  });

  test('"Email address is not verified" for the sender and the recipient: the sandbox first', () => {
    const reply =
      '554 Message rejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: no-reply@example.com, dev@example.org';
    expect(diagnoseRefusal(reply, MESSAGE)?.fix).toMatch(/^the account is in the SES sandbox/);
  });

  test('other replies are not refusals of this kind', () => {
    expect(
      diagnoseRefusal('454 Throttling failure: Maximum sending rate exceeded.', MESSAGE),
    ).toBeUndefined();
  });

  test('diagnose uses it for a send error from nodemailer', () => {
    const error = Object.assign(
      new Error(`Can't send mail - all recipients were rejected: 554 ${accessDenied('example.com')}`),
      {
        code: 'EENVELOPE',
        responseCode: 554,
        response: `554 ${accessDenied('example.com')}`,
      },
    );
    const d = diagnose(
      error,
      { host: 'email-smtp.eu-west-1.amazonaws.com', port: 587 },
      'eu-west-1',
      MESSAGE,
    );
    expect(d.fix).toMatch(/credentials\.allowedFromAddresses/);
  });
});

// SES's 554 while a sending switch is off (the account's, or the set's the mail goes through).
test.each([
  '554 Message rejected: Sending paused for this account. For more information, please check the inbox of the email address associated with your AWS account.',
  '554 Message rejected: Configuration set sending paused',
])('diagnose: "%s" names the pause and its undo', (response) => {
  const error = Object.assign(new Error(`Message failed: ${response}`), {
    code: 'EMESSAGE',
    responseCode: 554,
    response,
  });
  const d = diagnose(error, { host: 'email-smtp.eu-west-1.amazonaws.com', port: 587 }, 'eu-west-1', MESSAGE);
  expect([d.stage, d.fix]).toEqual([
    'send',
    expect.stringMatching(
      /^sending is paused for the account or for the configuration set .*ses-smtp resume/,
    ),
  ]);
});

// nodemailer reports any answer to AUTH but a 2xx as EAUTH; SES's guide says to retry a 4xx.
describe('a 4xx answer to the login: try again later, not a refusal of the credentials', () => {
  const response = '454 Throttling failure: Maximum SigV4 authentication rate exceeded';

  test('diagnose', () => {
    const error = Object.assign(new Error(`Invalid login: ${response}`), {
      code: 'EAUTH',
      responseCode: 454,
      response,
    });
    const d = diagnose(error, { host: 'email-smtp.eu-west-1.amazonaws.com', port: 587 }, 'eu-west-1');
    expect(d).toEqual({
      stage: 'auth',
      detail: `login deferred (${response})`,
      fix: 'SES asks to try again later (a 4xx reply: throttling or a temporary failure), it did not refuse the credentials: try again in a few minutes',
    });
  });

  test('doctor: no advice to rotate the credentials', async () => {
    const smtp = await startSmtpServer({
      accept: () => false,
      refusal: () => response.slice(4),
      refusalCode: 454,
    });
    try {
      healthyAws();
      const r = await run(['doctor', '--config', writeConfig(), ...localSmtpOptions(smtp)]);
      expect(r.stdout).toMatch(/✗ SMTP 127\.0\.0\.1:\d+: .*: auth: login deferred \(454 Throttling failure/);
      expect(r.stdout).toContain('→ SES asks to try again later');
      expect(r.stdout).not.toContain('is not the SMTP password of its key');
    } finally {
      await smtp.close();
    }
  });
});

describe('diagnose: a 535 names the Region of the credentials when the endpoint is in another', () => {
  const refused = Object.assign(new Error('Invalid login: 535 Authentication Credentials Invalid'), {
    code: 'EAUTH',
    responseCode: 535,
    response: '535 Authentication Credentials Invalid',
  });
  const endpoint = { host: 'email-smtp.eu-west-1.amazonaws.com', port: 587 };

  test('another Region', () => {
    expect(diagnose(refused, endpoint, 'us-east-1').fix).toContain(
      'The credentials are for us-east-1 but the endpoint is email-smtp.eu-west-1.amazonaws.com: SMTP passwords are per Region.',
    );
  });

  test('the same Region', () => {
    expect(diagnose(refused, endpoint, 'eu-west-1').fix).toMatch(
      / SMTP passwords are per Region: the endpoint must be in the Region the password was made for\.$/,
    );
  });
});

describe('diagnose: TLS before the firewall', () => {
  const endpoint = { host: 'email-smtp.eu-west-1.amazonaws.com', port: 465, implicitTls: true };
  const socketError = (message: string) => Object.assign(new Error(message), { code: 'ESOCKET' });

  test('TLS from the first byte on a port that speaks STARTTLS: names which port speaks which', () => {
    const d = diagnose(socketError('C0F7:error:0A00010B:SSL routines:ssl3_get_record:wrong version number'), {
      ...endpoint,
      port: 587,
      implicitTls: true,
    });
    expect([d.stage, d.fix]).toEqual([
      'tls',
      'port 587 does not speak TLS from the first byte: SES speaks STARTTLS on 25, 587 and 2587 and TLS from the first byte on 465 and 2465',
    ]);
  });

  test('"packet length too long" (an answer that is not TLS): names which port speaks which', () => {
    const d = diagnose(socketError('C0F7:error:0A0000C6:SSL routines::packet length too long'), endpoint);
    expect(d.fix).toMatch(/^port 465 does not speak TLS from the first byte: /);
  });

  test.each([
    ['self-signed certificate in certificate chain', 'tls'],
    ['unable to verify the first certificate', 'tls'],
    ['connect ECONNREFUSED 192.0.2.1:465', 'connect'],
    ['read ECONNRESET', 'connect'],
  ])('ESOCKET "%s" is a %s failure', (message, stage) => {
    expect(diagnose(socketError(message), endpoint).stage).toBe(stage);
  });
});

// nodemailer reports a failed lookup of the host as EDNS (smtp-connection: _onError(err, 'EDNS')).
describe('diagnose: a host name that does not resolve', () => {
  const endpoint = { host: 'email-smtp.eu-west-1.amazonaws.com', port: 587 };

  test.each(['ENOTFOUND', 'EAI_AGAIN'])(
    'EDNS "getaddrinfo %s": the host name and this machine\'s DNS',
    (cause) => {
      const error = Object.assign(new Error(`getaddrinfo ${cause} ${endpoint.host}`), { code: 'EDNS' });
      expect(diagnose(error, endpoint)).toEqual({
        stage: 'connect',
        detail: `cannot resolve ${endpoint.host}`,
        fix: 'check the host name (email-smtp.<region>.amazonaws.com) and the DNS of this machine',
      });
    },
  );
});

describe('send-test against a server that refuses like SES', () => {
  let smtp: TestSmtpServer;
  let caFile: string;
  let config: string;
  beforeAll(async () => {
    smtp = await startSmtpServer({
      accept: (u, p) => u === CREDENTIALS.username && p === CREDENTIALS.password,
      rejectRecipient: (address) => {
        if (address === 'sandboxed@example.org') return { code: 554, message: accessDenied(address) };
        if (address === 'anyone@example.org') return { code: 554, message: accessDenied('example.com') };
        return undefined;
      },
    });
    caFile = path.join(tmp, 'smtp-test-ca.pem');
    fs.writeFileSync(caFile, smtp.ca);
  });
  afterAll(() => smtp.close());
  beforeEach(() => {
    healthyAws();
    config = writeConfig();
    ses.on(GetEmailIdentityCommand).resolves({ VerifiedForSendingStatus: true });
  });
  /** send-test against the local server, trusting its CA unless `trust` is false. */
  const send = (to: string, trust = true) =>
    run([
      'send-test',
      '--to',
      to,
      '--config',
      config,
      '--smtp-host',
      '127.0.0.1',
      '--smtp-port',
      String(smtp.port),
      ...(trust ? ['--smtp-ca', caFile] : []),
    ]);

  // nodemailer reports an untrusted certificate as ESOCKET, like a connection that never opened:
  // the advice is the CA to trust, not a firewall.
  test('a certificate not trusted (no --smtp-ca): a TLS failure, with the CA to trust', async () => {
    const r = await send('dev@example.org', false);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ sending to dev@example.org failed at tls: STARTTLS failed: .*certificate/);
    expect(r.stdout).toContain('→ a proxy or firewall may intercept TLS; trust its CA with --smtp-ca FILE');
    expect(r.stdout).not.toContain('blocked by a firewall');
  });

  test('a sender the policy does not allow: names credentials.allowedFromAddresses', async () => {
    const r = await send('anyone@example.org');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /✗ sending to anyone@example.org failed at send: .*not authorized to perform `ses:SendRawEmail'/,
    );
    expect(r.stdout).toContain(
      '→ the SMTP user may not send as this From address (no-reply@example.com): add it, or "*@example.com", to credentials.allowedFromAddresses in the config and deploy',
    );
    expect(r.stdout + r.stderr).not.toContain(CREDENTIALS.password);
  });

  test('a sandbox recipient: names verifiedEmailAddresses and production access', async () => {
    const r = await send('sandboxed@example.org');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /→ the account is in the SES sandbox, where SES authorizes recipients too: add the recipient to verifiedEmailAddresses/,
    );
  });
});

// A server on the way that quotes the AUTH line it refuses (SES does not; a relay that intercepts
// TLS, trusted with --smtp-ca, may): the reply reaches the output, the password in it does not.
describe('send-test and doctor against a server whose refusal quotes the AUTH PLAIN line', () => {
  const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  const authPlain = base64(`\0${CREDENTIALS.username}\0${CREDENTIALS.password}`);
  let smtp: TestSmtpServer;
  let smtpOptions: () => string[];
  beforeAll(async () => {
    smtp = await startSmtpServer({
      accept: () => false,
      authMethods: ['PLAIN'],
      refusal: (u, p) => `Unrecognized command AUTH PLAIN ${base64(`\0${u}\0${p}`)}`,
    });
    const options = localSmtpOptions(smtp);
    smtpOptions = () => options;
  });
  afterAll(() => smtp.close());
  beforeEach(() => healthyAws());

  test.each([[[]], [['--json']]])('send-test %j', async (extra) => {
    const r = await run([
      'send-test',
      '--to',
      'dev@example.org',
      '--config',
      writeConfig(),
      ...smtpOptions(),
      ...extra,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('535 Unrecognized command AUTH PLAIN [redacted]');
    for (const secret of [CREDENTIALS.password, authPlain, base64(CREDENTIALS.password)])
      expect(r.stdout + r.stderr).not.toContain(secret);
  });

  test('doctor', async () => {
    const r = await run(['doctor', '--config', writeConfig(), ...smtpOptions()]);
    expect(r.stdout).toMatch(
      /✗ SMTP 127\.0\.0\.1:\d+: .*: auth: authentication rejected \(535 Unrecognized command AUTH PLAIN \[redacted\]\)/,
    );
    for (const secret of [CREDENTIALS.password, authPlain, base64(CREDENTIALS.password)])
      expect(r.stdout + r.stderr).not.toContain(secret);
  });
});
