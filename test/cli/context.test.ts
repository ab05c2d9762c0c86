import { IAMClient } from '@aws-sdk/client-iam';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { CliContext } from '../../lib/cli/context';
import { Output } from '../../lib/cli/output';
import { writeConfig } from './harness';

const out = () =>
  new Output(
    { stdout: { write: () => true }, stderr: { write: () => true } },
    { json: false, noColour: true, env: {} },
  );

test('clients are made on first use, one per class, in the environment Region (or --region)', async () => {
  const ctx = new CliContext({ config: writeConfig() }, out());
  const ses = ctx.client(SESv2Client);
  expect(ctx.client(SESv2Client)).toBe(ses);
  expect(ctx.client(IAMClient)).not.toBe(ses);
  expect(await ses.config.region()).toBe('eu-west-1');
  const other = new CliContext({ config: writeConfig(), region: 'us-east-1' }, out());
  expect(await other.client(SESv2Client).config.region()).toBe('us-east-1');
});

test.each(['ap-southeast-7', 'us-isob-east-1', 'eusc-de-east-1', 'us-gov-west-1'])(
  '--region %s: a Region of any partition is taken, for the clients and the SMTP endpoint',
  async (region) => {
    const ctx = new CliContext({ config: writeConfig(), region }, out());
    expect(await ctx.client(SESv2Client).config.region()).toBe(region);
    expect((await ctx.smtp()).host).toBe(`email-smtp.${region}.amazonaws.com`);
  },
);
