import { createLogger, describeError } from '../../lambda/shared/logger';

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger({ function: 'f' }, (l) => lines.push(l)) };
}

describe('logger', () => {
  test('one JSON line per entry, with base and child fields', () => {
    const { lines, log } = capture();
    log
      .child({ secretId: 'arn:aws:secretsmanager:eu-west-1:1:secret:s' })
      .info('done', { step: 'createSecret' });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        level: 'INFO',
        message: 'done',
        function: 'f',
        secretId: 'arn:aws:secretsmanager:eu-west-1:1:secret:s',
        step: 'createSecret',
      },
    ]);
  });

  test.each([
    // nodemailer's auth option: { user, pass }.
    'pass',
    'smtpPass',
    'password',
    'Password',
    'secret',
    'SecretAccessKey',
    'SecretString',
    'credential',
    'credentials',
    'authorization',
    'token',
    // The word at the end of a longer name.
    'smtpPassword',
    'SmtpPassword',
    'smtp_password',
    'sessionToken',
    'awsCredentials',
    // A key that signs or unlocks, not one that names: secretKey, privateKey, apiKey, signingKey.
    'secretKey',
    'smtpSecretKey',
    'privateKey',
    'private_key',
    'apiKey',
    'signingKey',
  ])('a field named %s is redacted, also nested', (key) => {
    const { lines, log } = capture();
    log.warn('x', { [key]: 'hunter2', nested: { [key]: 'hunter2' }, list: [{ [key]: 'hunter2' }] });
    expect(lines[0]).not.toContain('hunter2');
    expect(JSON.parse(lines[0])[key]).toBe('[redacted]');
  });

  // A field given once for every entry (child, base) is a field like any other.
  test('a secret in the fields of a child logger is redacted', () => {
    const { lines, log } = capture();
    log.child({ smtpPassword: 'hunter2' }).info('x');
    expect(lines[0]).not.toContain('hunter2');
    expect(JSON.parse(lines[0]).smtpPassword).toBe('[redacted]');
  });

  test('a list stays a list, its entries redacted', () => {
    const { lines, log } = capture();
    log.info('x', { keys: [{ accessKeyId: 'AKIA1', secretAccessKey: 'hunter2' }, 'two'] });
    expect(JSON.parse(lines[0]).keys).toEqual([
      { accessKeyId: 'AKIA1', secretAccessKey: '[redacted]' },
      'two',
    ]);
  });

  test.each(['secretId', 'accessKeyId', 'passThrough', 'tokenCount', 'publicKey', 'kmsKeyId', 'keyName'])(
    '%s is not a secret and stays',
    (key) => {
      const { lines, log } = capture();
      log.error('x', { [key]: 'visible' });
      expect(JSON.parse(lines[0])[key]).toBe('visible');
    },
  );

  // Past the depth it reads, an object is not written unread: a secret could sit inside.
  test('an object nested deeper than redact looks is written as "[truncated]"', () => {
    const { lines, log } = capture();
    const deep = { a: { b: { c: { d: { e: { password: 'hunter2' } } } } } };
    const shallow = { a: { b: { c: { d: { password: 'hunter2', keep: 1 } } } } };
    log.info('x', { deep, shallow });
    expect(lines[0]).not.toContain('hunter2');
    expect(JSON.parse(lines[0])).toMatchObject({
      deep: { a: { b: { c: { d: { e: '[truncated]' } } } } },
      shallow: { a: { b: { c: { d: { password: '[redacted]', keep: 1 } } } } },
    });
  });

  test('describeError keeps name, code and message only', () => {
    const error = Object.assign(new Error('Invalid login: 535 Authentication Credentials Invalid'), {
      code: 'EAUTH',
      responseCode: 535,
      command: 'AUTH PLAIN',
      $metadata: { httpStatusCode: 400 },
    });
    expect(describeError(error)).toEqual({
      errorName: 'Error',
      errorMessage: 'Invalid login: 535 Authentication Credentials Invalid',
      errorCode: 'EAUTH',
      smtpResponseCode: 535,
      httpStatus: 400,
    });
  });
});
