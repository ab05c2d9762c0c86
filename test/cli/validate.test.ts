import { UsageError } from '../../lib/cli/errors';
import {
  checkAlarmName,
  checkConfigurationSetName,
  checkDomainName,
  checkEmailAddress,
  checkHost,
  checkIamUserName,
  checkRegion,
  checkStackName,
} from '../../lib/cli/validate';
import { SES_REGIONS } from '../../lib/config/smtp-regions';
import { envConfig } from '../helpers';

/** The environments file takes the address in verifiedEmailAddresses. */
const configAccepts = (address: string) => {
  try {
    envConfig({ verifiedEmailAddresses: [address] });
    return true;
  } catch {
    return false;
  }
};

describe('checkEmailAddress', () => {
  test.each([
    'dev@example.com',
    '"john doe"@example.com',
    '"a@b"@example.com',
    '"quote\\"d"@example.com',
    "o'brien+tag@mail.example.co.uk",
    'Dev.Ops@EXAMPLE.com',
    `${'a'.repeat(64)}@example.com`,
  ])('accepts %s, as the environments file does', (address) => {
    expect(configAccepts(address)).toBe(true);
    expect(() => checkEmailAddress('--to', address)).not.toThrow();
  });

  test.each([
    'nobody',
    'a..b@x.y',
    'a..b@example.com',
    '.a@example.com',
    'a.@example.com',
    'john doe@example.com',
    'a@example',
    'a@-example.com',
    'a@[192.0.2.1]',
    `${'a'.repeat(65)}@example.com`,
    '',
  ])('refuses %j, as the environments file does: one line naming the option and the value', (address) => {
    expect(configAccepts(address)).toBe(false);
    expect(() => checkEmailAddress('--contact', address)).toThrow(UsageError);
    expect(() => checkEmailAddress('--contact', address)).toThrow(
      `--contact: got ${JSON.stringify(address)}, expected an email address like "no-reply@example.com" (RFC 5321: local part of at most 64 characters)`,
    );
  });

  test.each([
    ['user@bücher.example', 'user@xn--bcher-kva.example'],
    ['"john doe"@Bücher.Example', '"john doe"@xn--bcher-kva.example'],
    ['Dev.Ops@EXAMPLE.com', 'Dev.Ops@EXAMPLE.com'],
  ])(
    '%s is taken as %s: a non-ASCII domain in its punycode form, the local part as written',
    (value, address) => {
      expect(checkEmailAddress('--to', value)).toBe(address);
    },
  );

  test.each(['jürgen@example.com', 'user@bü cher.example'])(
    'refuses %j, naming the address as given',
    (value) => {
      expect(() => checkEmailAddress('--to', value)).toThrow(
        `--to: got ${JSON.stringify(value)}, expected an email address`,
      );
    },
  );
});

// The names AWS takes, up to the last character its API documents, and not one more.
describe.each<[string, (option: string, value: string) => void, string[], string[]]>([
  [
    'checkConfigurationSetName (SESv2: 1-64 of A-Z a-z 0-9 _ -)',
    checkConfigurationSetName,
    ['a', 'x'.repeat(64), 'Sending_Feedback-1'],
    ['', 'x'.repeat(65), 'a.b'],
  ],
  [
    'checkIamUserName (IAM: 1-64 of letters, digits and + = , . @ _ -)',
    checkIamUserName,
    ['a', 'x'.repeat(64), 'ses+smtp=a,b.c@d_e-f'],
    ['', 'x'.repeat(65), 'a b', 'a/b'],
  ],
  [
    'checkAlarmName (CloudWatch: 1-255 characters, no control character)',
    checkAlarmName,
    ['x'.repeat(255), '\u00e9'.repeat(255), 'prod: bounce rate (critical)', 'a\x20b'],
    ['', 'x'.repeat(256), 'a\x1fb', 'a\x00b', 'a\x7fb', 'a\nb'],
  ],
])('%s', (_name, check, accepted, refused) => {
  test.each(accepted.map((v) => [v.length, v]))('takes a name of %i characters', (_length, value) => {
    expect(() => check('--name', value)).not.toThrow();
  });
  test.each(refused.map((v) => [v.length, JSON.stringify(v).slice(0, 40), v]))(
    'refuses a name of %i characters: %s',
    (_length, _shown, value) => {
      expect(() => check('--name', value)).toThrow(UsageError);
    },
  );
});

describe('checkRegion', () => {
  /** Every Region in the AWS SDK's endpoint data (@aws-sdk/core 3.1164), all partitions. */
  const SDK_REGIONS = [
    ...['af-south-1', 'ap-east-1', 'ap-east-2', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3'],
    ...['ap-south-1', 'ap-south-2', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3'],
    ...['ap-southeast-4', 'ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7', 'ca-central-1'],
    ...['ca-west-1', 'eu-central-1', 'eu-central-2', 'eu-north-1', 'eu-south-1', 'eu-south-2'],
    ...['eu-west-1', 'eu-west-2', 'eu-west-3', 'il-central-1', 'me-central-1', 'me-south-1'],
    ...['me-west-1', 'mx-central-1', 'sa-east-1', 'sa-west-1', 'us-east-1', 'us-east-2', 'us-west-1'],
    ...['us-west-2', 'cn-north-1', 'cn-northwest-1', 'eusc-de-east-1', 'us-iso-east-1'],
    ...['us-iso-west-1', 'us-isob-east-1', 'us-isob-west-1', 'eu-isoe-west-1', 'us-isof-east-1'],
    ...['us-isof-south-1', 'us-gov-east-1', 'us-gov-west-1'],
  ];

  test.each([
    ...SDK_REGIONS,
    ...Object.keys(SES_REGIONS),
    'ap-southeast-12',
    'eusc-de-west-2',
    'xy-central-1',
  ])(
    'accepts %s (every Region AWS and the environments file know, and later ones of the same form, in a new area too)',
    (region) => {
      expect(() => checkRegion('--region', region)).not.toThrow();
    },
  );

  test.each(['eu-west', 'EU-WEST-1', 'eu-west-1a', ' eu-west-1', 'euwest1', 'eu--1', ''])(
    'refuses %j: one line naming the option, the value and the form',
    (region) => {
      expect(() => checkRegion('--region', region)).toThrow(
        new UsageError(
          `--region: got ${JSON.stringify(region)}, expected an AWS Region name like "eu-west-1" or "us-gov-west-1" (area, direction, number)`,
        ),
      );
    },
  );
});

describe('checkStackName', () => {
  test('a stack ARN gives the name cdk deploy and DescribeStacks take, and its Region', () => {
    expect(
      checkStackName(
        '--stack',
        'arn:aws:cloudformation:eu-west-1:123456789012:stack/SesSmtp-prod/5e3c9a10-8f2b',
      ),
    ).toEqual({ name: 'SesSmtp-prod', region: 'eu-west-1' });
    expect(checkStackName('--stack', 'SesSmtp-prod')).toEqual({ name: 'SesSmtp-prod' });
  });

  test.each([
    'SesSmtp-prod',
    'Mail',
    'a',
    `A${'b'.repeat(127)}`,
    'arn:aws:cloudformation:eu-west-1:123456789012:stack/SesSmtp-prod/5e3c9a10-8f2b-11ef-9a3c-0a1b2c3d4e5f',
    'arn:aws-iso:cloudformation:us-iso-east-1:123456789012:stack/SesSmtp-prod/5e3c9a10',
    'arn:aws-iso-b:cloudformation:us-isob-east-1:123456789012:stack/SesSmtp-prod/5e3c9a10',
  ])('accepts %s', (name) => {
    expect(() => checkStackName('--stack', name)).not.toThrow();
  });

  test.each([
    '1stack',
    '-a',
    'my_stack',
    'a b',
    `A${'b'.repeat(128)}`,
    '',
    'arn:aws:cloudformation:eu-west-1:1234:stack/SesSmtp-prod/5e3c9a10',
    'arn:awsbogus:cloudformation:eu-west-1:123456789012:stack/SesSmtp-prod/5e3c9a10',
  ])('refuses %j: one line with the rule', (name) => {
    expect(() => checkStackName('--stack', name)).toThrow(
      new UsageError(
        `--stack: got ${JSON.stringify(name)}, expected a CloudFormation stack name like "SesSmtp-prod" (a letter, then letters, digits and "-", at most 128 characters) or its stack ARN`,
      ),
    );
  });

  // `cdk ls` in a CDK Pipelines app prints "Staging/Mail (Staging-Mail)": the path is what the
  // alarm texts' `cdk deploy` takes, the name what --stack does.
  test.each(['SesSmtp/prod', 'Staging/Mail', 'Pipeline/Staging/Mail'])(
    'refuses the construct path %j and says where the name is',
    (path) => {
      expect(() => checkStackName('--stack', path)).toThrow(
        new UsageError(
          `--stack: got ${JSON.stringify(path)}, expected a CloudFormation stack name like "SesSmtp-prod" (a letter, then letters, digits and "-", at most 128 characters) or its stack ARN; that is a construct path: npx cdk ls prints each stack's name after its path, in parentheses`,
        ),
      );
    },
  );
});

describe('checkDomainName', () => {
  test.each([
    ['example.com', 'example.com'],
    ['Mail.Example.COM.', 'mail.example.com'],
    ['qa.example.x', 'qa.example.x'],
    ['bücher.example', 'xn--bcher-kva.example'],
    // ZERO WIDTH NON-JOINER where IDNA takes it (RFC 5892, Appendix A.1): part of the name.
    ['می\u200cخواهم.ir', 'xn--mgbn2ecje63gr19l.ir'],
    // ZERO WIDTH JOINER after a virama (Appendix A.2).
    ['क्\u200dष.in', 'xn--11b2ezcw70k.in'],
  ])('accepts %s as the identity %s', (value, identity) => {
    expect(checkDomainName('--identity', value)).toBe(identity);
  });

  test('a joiner IDNA takes is kept in an address too; one out of its context is named', () => {
    expect(checkEmailAddress('--to', 'dev@می\u200cخواهم.ir')).toBe('dev@xn--mgbn2ecje63gr19l.ir');
    expect(() => checkEmailAddress('--to', 'dev@exa\u200cmple.com')).toThrow(
      /remove the invisible character U\+200C at character 8/,
    );
    expect(() => checkDomainName('--identity', 'exa\u200dmple.com')).toThrow(
      /remove the invisible character U\+200D at character 4/,
    );
  });

  test.each([
    'example',
    'ops@example.com',
    'https://example.com',
    'exa mple.com',
    '-a.example.com',
    '1.2.3.4',
  ])('refuses %j, as the environments file refuses it as domain', (value) => {
    expect(() => checkDomainName('--identity', value)).toThrow(
      new UsageError(
        `--identity: got ${JSON.stringify(value)}, expected a domain name like "example.com" or "bücher.example" (letters, digits and "-" per label; a non-ASCII name is taken in its punycode form, "xn--...")`,
      ),
    );
  });
});

/** A host name of 253 characters: three labels of 63 and one of 61. */
const HOST_253 = [...Array(3).fill('a'.repeat(63)), 'b'.repeat(61)].join('.');

describe('checkHost', () => {
  test.each([
    ['email-smtp.eu-west-1.amazonaws.com', 'email-smtp.eu-west-1.amazonaws.com'],
    ['localhost', 'localhost'],
    ['smtp_relay', 'smtp_relay'],
    [
      'vpce-0abc.email-smtp.eu-west-1.vpce.amazonaws.com.',
      'vpce-0abc.email-smtp.eu-west-1.vpce.amazonaws.com.',
    ],
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['fe80::1%eth0', 'fe80::1%eth0'],
    ['smtp.bücher.example', 'smtp.xn--bcher-kva.example'],
    // 253 characters, the most a name has written without its final dot (RFC 1035 §2.3.4), and with it.
    [HOST_253, HOST_253],
    [`${HOST_253}.`, `${HOST_253}.`],
  ])('accepts %s (connects to %s)', (value, host) => {
    expect(checkHost('--smtp-host', value)).toBe(host);
  });

  test.each([
    'smtp://mail.example.com',
    'mail.example.com:587',
    '[::1]',
    '1.2.3.256',
    'a..b',
    '-a',
    'a b',
    '',
    `${HOST_253}b`,
  ])('refuses %j: one line saying what it takes', (value) => {
    expect(() => checkHost('--smtp-host', value)).toThrow(
      new UsageError(
        `--smtp-host: got ${JSON.stringify(value)}, expected a host name or an IP address, like email-smtp.eu-west-1.amazonaws.com, localhost, 10.0.0.5 or ::1 (no scheme, port or brackets: the port is --smtp-port)`,
      ),
    );
  });
});
