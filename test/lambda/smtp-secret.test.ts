import { missingKeys, parseSecret, SmtpSecret } from '../../lambda/shared/smtp-secret';

const COMPLETE: SmtpSecret = {
  username: 'AKIAEXAMPLEKEY000001',
  password: 'BExampleSmtpPassword',
  host: 'email-smtp.eu-west-1.amazonaws.com',
  port: 587,
  region: 'eu-west-1',
  fromAddress: 'no-reply@example.com',
};

describe('parseSecret', () => {
  test('the credentials the rotation writes', () => {
    expect(parseSecret(JSON.stringify(COMPLETE))).toEqual(COMPLETE);
  });

  test.each([undefined, '', JSON.stringify({ placeholder: 'No SMTP credentials yet' }), '{"username":"a"}'])(
    '%j: no credentials (the placeholder before the first rotation)',
    (text) => {
      expect(parseSecret(text)).toBeUndefined();
    },
  );

  test('a username and a password are enough (what the rotation itself reads)', () => {
    expect(parseSecret('{"username":"a","password":"b"}')).toEqual({ username: 'a', password: 'b' });
  });

  // JSON's null parses, and has no keys to read.
  test('null: an error that says so', () => {
    expect(() => parseSecret('null')).toThrow(
      new Error('The secret value is null; it must hold the SMTP credentials object'),
    );
  });

  test('not JSON: an error that holds no part of the value', () => {
    expect(() => parseSecret('username=a password=secret')).toThrow(
      new Error('The secret value is not JSON; it must hold the SMTP credentials object'),
    );
  });
});

describe('missingKeys', () => {
  test('none for the credentials the rotation writes', () => {
    expect(missingKeys(COMPLETE)).toEqual([]);
  });

  test('the keys missing, empty or of another type, in the order of the secret', () => {
    const { host: _host, fromAddress: _from, ...partial } = COMPLETE;
    expect(missingKeys(partial as SmtpSecret)).toEqual(['host', 'fromAddress']);
    expect(missingKeys({ ...COMPLETE, port: '587', region: '' } as unknown as SmtpSecret)).toEqual([
      'port',
      'region',
    ]);
  });
});
