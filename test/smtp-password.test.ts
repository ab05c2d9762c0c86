import { smtpPasswordFromSecretKey } from '../lambda/shared/smtp-password';

/*
 * Known answers published by three independent projects, each checked in their own CI:
 * deriving the expectations from this code would only prove that it is stable.
 */
describe('SES SMTP password derivation', () => {
  // hashicorp/terraform-provider-aws, internal/service/iam/access_key_test.go,
  // TestSESSMTPPasswordFromSecretKeySigV4 (the aws_iam_access_key ses_smtp_password_v4 attribute).
  test.each([
    ['eu-central-1', 'some+secret+key', 'BMXhUYlu5Z3gSXVQORxlVa7XPaz91aGWdfHxvkOZdWZ2'],
    ['eu-central-1', 'another+secret+key', 'BBbphbrQmrKMx42d1N6+C7VINYEBGI5v9VsZeTxwskfh'],
    ['us-west-1', 'some+secret+key', 'BH+jbMzper5WwlwUar9E1ySBqHa9whi0GPo+sJ0mVYJj'],
    ['us-west-1', 'another+secret+key', 'BKVmjjMDFk/qqw8EROW99bjCS65PF8WKvK5bSr4Y6EqF'],
  ])('terraform-provider-aws vector %s %s', (region, secret, expected) => {
    expect(smtpPasswordFromSecretKey(secret, region)).toBe(expected);
  });

  // aws/aws-sdk-php, tests/Ses/SesClientTest.php, testCanGenerateSmtpPasswordV4FromCredentials
  // (AWS's documentation example secret key).
  test('aws-sdk-php vector', () => {
    expect(smtpPasswordFromSecretKey('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'us-east-2')).toBe(
      'BMPPgbAHoFVbze1Ud0oA5uNdXRwUXUZ+qOwphGJbl/cS',
    );
  });

  // onkbear/aws-iam-to-smtp (npm aws-iam-to-smtp), test.js, testCalculateKey.
  test('aws-iam-to-smtp vector', () => {
    expect(smtpPasswordFromSecretKey('VI092RGFOyQVq/JVX8MMQ9r6DrkxgNswDvTmKQPe', 'eu-west-1')).toBe(
      'BIqPwpED6VZn29wovbaBeCZHtyc74+UYWaXCJv2exhEQ',
    );
  });

  test('the password is Region-specific and starts with the version byte', () => {
    const a = smtpPasswordFromSecretKey('k', 'us-east-1');
    expect(a).not.toBe(smtpPasswordFromSecretKey('k', 'us-east-2'));
    expect(Buffer.from(a, 'base64')[0]).toBe(4);
    expect(Buffer.from(a, 'base64')).toHaveLength(33);
  });
});
