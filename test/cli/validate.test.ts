import { UsageError } from '../../lib/cli/errors';
import { checkEmailAddress } from '../../lib/cli/validate';
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
});
