import { execFileSync } from 'node:child_process';
import {
  GetAccountCommand,
  GetConfigurationSetCommand,
  GetEmailIdentityCommand,
  PutAccountSendingAttributesCommand,
  PutConfigurationSetSendingOptionsCommand,
} from '@aws-sdk/client-sesv2';
import { shellWord } from '../../lib/cli/shell';
import { awsError } from '../support/fake-aws';
import { CONFIGURATION_SET, healthyAws, run, ses, writeConfig } from './harness';

/** SES's sending switches, as GetAccount/GetConfigurationSet report and the Put calls change them. */
class FakeSending {
  account = true;
  enforcement = 'HEALTHY';
  readonly sets = new Map<string, boolean>([[CONFIGURATION_SET, true]]);

  wire(): void {
    ses.on(GetAccountCommand).callsFake(() => ({
      SendingEnabled: this.account,
      EnforcementStatus: this.enforcement,
      ProductionAccessEnabled: true,
    }));
    ses.on(PutAccountSendingAttributesCommand).callsFake((input) => {
      this.account = input.SendingEnabled ?? false;
      return {};
    });
    ses.on(GetConfigurationSetCommand).callsFake((input) => {
      const enabled = this.sets.get(input.ConfigurationSetName);
      if (enabled === undefined)
        throw awsError(
          'NotFoundException',
          `Configuration set <${input.ConfigurationSetName}> does not exist.`,
          404,
        );
      return {
        ConfigurationSetName: input.ConfigurationSetName,
        SendingOptions: { SendingEnabled: enabled },
      };
    });
    ses.on(PutConfigurationSetSendingOptionsCommand).callsFake((input) => {
      if (!this.sets.has(input.ConfigurationSetName))
        throw awsError(
          'NotFoundException',
          `Configuration set <${input.ConfigurationSetName}> does not exist.`,
          404,
        );
      this.sets.set(input.ConfigurationSetName, input.SendingEnabled ?? false);
      return {};
    });
  }
}

let config: string;
let aws: FakeSending;
beforeEach(() => {
  healthyAws();
  config = writeConfig();
  aws = new FakeSending();
  aws.wire();
});
const cli = (args: string[], options = {}) => run([...args, '--config', config], options);
const setCalls = () => ses.commandCalls(PutConfigurationSetSendingOptionsCommand).map((c) => c.args[0].input);
const accountCalls = () => ses.commandCalls(PutAccountSendingAttributesCommand).map((c) => c.args[0].input);

describe('pause', () => {
  test("by default pauses the stack's configuration set, after asking; resume undoes it", async () => {
    const r = await cli(['pause'], { answer: true });
    expect(r.code).toBe(0);
    expect(r.questions).toEqual([
      `Pause sending for configuration set ${CONFIGURATION_SET} (mail of environment prod)? [y/N] `,
    ]);
    expect(setCalls()).toEqual([{ ConfigurationSetName: CONFIGURATION_SET, SendingEnabled: false }]);
    expect(accountCalls()).toEqual([]);
    expect(r.stdout).toContain(
      `✓ paused sending for configuration set ${CONFIGURATION_SET} (mail of environment prod): sends are refused until you run: ses-smtp resume --scope configuration-set --env prod`,
    );

    const back = await cli(['resume', '--yes']);
    expect(back.code).toBe(0);
    expect(back.questions).toEqual([]);
    expect(setCalls()).toEqual([
      { ConfigurationSetName: CONFIGURATION_SET, SendingEnabled: false },
      { ConfigurationSetName: CONFIGURATION_SET, SendingEnabled: true },
    ]);
    expect(back.stdout).toContain(`✓ resumed sending for configuration set ${CONFIGURATION_SET}`);
  });

  test('--scope account pauses the whole account in the Region', async () => {
    const r = await cli(['pause', '--scope', 'account', '-y']);
    expect(r.code).toBe(0);
    expect(accountCalls()).toEqual([{ SendingEnabled: false }]);
    expect(setCalls()).toEqual([]);
    expect(r.stdout).toContain(
      'paused sending for the whole account in eu-west-1 (every sender, not only this app)',
    );
    expect(r.stdout).toContain('ses-smtp resume --scope account --env prod');
  });

  // SES sends unless told not to: a switch its answer leaves out is on.
  test('a configuration set or account whose answer has no sending switch counts as sending: pause pauses it', async () => {
    ses.on(GetConfigurationSetCommand).resolves({ ConfigurationSetName: CONFIGURATION_SET });
    ses.on(GetAccountCommand).resolves({ EnforcementStatus: 'HEALTHY', ProductionAccessEnabled: true });
    expect((await cli(['pause', '--yes'])).code).toBe(0);
    expect((await cli(['pause', '--scope', 'account', '--yes'])).code).toBe(0);
    expect(setCalls()).toEqual([{ ConfigurationSetName: CONFIGURATION_SET, SendingEnabled: false }]);
    expect(accountCalls()).toEqual([{ SendingEnabled: false }]);
  });

  test('--configuration-set replaces the stack output', async () => {
    aws.sets.set('other-set', true);
    const r = await cli(['pause', '--configuration-set', 'other-set', '--yes']);
    expect(r.code).toBe(0);
    expect(setCalls()).toEqual([{ ConfigurationSetName: 'other-set', SendingEnabled: false }]);
  });

  test('"no" changes nothing, exit 1 (with --json, a document that says so)', async () => {
    const r = await cli(['pause'], { answer: false });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nothing changed (pause not confirmed)');
    const json = await cli(['pause', '--json'], { answer: false });
    expect([json.code, JSON.parse(json.stdout)]).toEqual([
      1,
      { ok: false, error: 'nothing changed (pause not confirmed)' },
    ]);
    expect(setCalls()).toEqual([]);
  });

  test('not on a terminal and no --yes: refused before any change, exit 2', async () => {
    const r = await cli(['pause', '--scope', 'account'], { interactive: false, answer: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'ses-smtp: pause: not on a terminal, so it cannot ask for confirmation: add --yes\n',
    );
    expect(r.questions).toEqual([]);
    expect(accountCalls()).toEqual([]);
  });

  test('already paused: says so and sends nothing', async () => {
    aws.sets.set(CONFIGURATION_SET, false);
    const r = await cli(['pause', '--yes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`✓ sending is already paused for configuration set ${CONFIGURATION_SET}`);
    expect(setCalls()).toEqual([]);
  });

  test('--json: what changed', async () => {
    const r = await cli(['pause', '--yes', '--json']);
    expect(JSON.parse(r.stdout)).toEqual({
      changed: true,
      scope: 'configuration-set',
      sendingEnabled: false,
    });
  });

  test('a bad --scope is one line, exit 2', async () => {
    const r = await cli(['pause', '--scope', 'region', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'ses-smtp: pause: --scope: got "region", expected one of: configuration-set, account (ses-smtp help pause)\n',
    );
  });

  test('AWS refusing the change is one line, exit 1', async () => {
    ses
      .on(PutConfigurationSetSendingOptionsCommand)
      .rejects(
        awsError(
          'AccessDeniedException',
          'not authorized to perform: ses:PutConfigurationSetSendingOptions',
          403,
        ),
      );
    const r = await cli(['pause', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^ses-smtp: AWS denied pause \(AccessDeniedException: .*\): run it as an identity allowed/,
    );
  });
});

describe('resume', () => {
  test('an account AWS paused (SHUTDOWN) cannot be resumed here: says where to go, sends nothing', async () => {
    aws.account = false;
    aws.enforcement = 'SHUTDOWN';
    const r = await cli(['resume', '--scope', 'account', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /AWS itself paused sending for the account in eu-west-1 .*answer the review case/,
    );
    expect(accountCalls()).toEqual([]);
  });

  // Only a resume is refused there: a pause of an account AWS shut down is a pause already.
  test('pause --scope account of an account AWS paused (SHUTDOWN): already paused, exit 0', async () => {
    aws.account = false;
    aws.enforcement = 'SHUTDOWN';
    const r = await cli(['pause', '--scope', 'account', '--yes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('✓ sending is already paused for the whole account in eu-west-1');
    expect(accountCalls()).toEqual([]);
  });

  test('an account the operator paused is resumed', async () => {
    aws.account = false;
    const r = await cli(['resume', '--scope', 'account'], { answer: true });
    expect(r.code).toBe(0);
    expect(r.questions[0]).toMatch(/^Resume sending for the whole account in eu-west-1/);
    expect(accountCalls()).toEqual([{ SendingEnabled: true }]);
    expect(aws.account).toBe(true);
  });
});

// SES refuses a send while either switch is off: resuming one leaves the other's pause.
describe('resume: the other switch', () => {
  const still = (r: { stderr: string }) => r.stderr.split('\n').filter((l) => l.includes('still'));

  test.each([
    ['resumes the set', false],
    ['finds the set already sending', true],
  ])(
    'the account paused too: the default resume %s and warns that the account still refuses every send',
    async (_what, setEnabled) => {
      aws.account = false;
      aws.sets.set(CONFIGURATION_SET, setEnabled);
      const r = await cli(['resume', '--yes']);
      expect(r.code).toBe(0);
      expect(still(r)).toEqual([
        `! sending is still disabled for the whole account in eu-west-1: SES refuses every send, this configuration set's too, until you run: ses-smtp resume --scope account --env prod --config ${shellWord(config)}`,
      ]);
      expect(aws.sets.get(CONFIGURATION_SET)).toBe(true);
      expect(accountCalls()).toEqual([]);
    },
  );

  test('an account AWS shut down: the warning says that only AWS lifts it', async () => {
    aws.account = false;
    aws.enforcement = 'SHUTDOWN';
    aws.sets.set(CONFIGURATION_SET, false);
    const r = await cli(['resume', '--yes']);
    expect(r.code).toBe(0);
    expect(still(r)).toEqual([
      "! sending is still disabled for the whole account in eu-west-1, by AWS (enforcement status SHUTDOWN): SES refuses every send, this configuration set's too, until AWS lifts it; answer the review case in the SES console (Account dashboard)",
    ]);
  });

  test("resume --scope account with the environment's set paused: warns that the set still refuses its mail", async () => {
    aws.account = false;
    aws.sets.set(CONFIGURATION_SET, false);
    const r = await cli(['resume', '--scope', 'account', '--yes']);
    expect(r.code).toBe(0);
    expect(aws.account).toBe(true);
    expect(still(r)).toEqual([
      `! sending is still paused for configuration set ${CONFIGURATION_SET}: SES refuses the mail sent through it until you run: ses-smtp resume --scope configuration-set --env prod --config ${shellWord(config)}`,
    ]);
  });

  test('both switches on after the resume: no warning', async () => {
    aws.sets.set(CONFIGURATION_SET, false);
    const set = await cli(['resume', '--yes']);
    aws.account = false;
    const account = await cli(['resume', '--scope', 'account', '--yes']);
    expect([set.code, set.stderr, account.code, account.stderr]).toEqual([0, '', 0, '']);
  });

  test('the other switch unreadable: said, with the command that checks both; the resume stands', async () => {
    aws.sets.set(CONFIGURATION_SET, false);
    ses.on(GetAccountCommand).rejects(awsError('AccessDeniedException', 'not authorized', 403));
    const r = await cli(['resume', '--yes']);
    expect(r.code).toBe(0);
    expect(aws.sets.get(CONFIGURATION_SET)).toBe(true);
    expect(r.stderr).toBe(
      `! could not read whether the account still refuses sends (AccessDeniedException); ses-smtp doctor --env prod --config ${shellWord(config)} checks both\n`,
    );
  });
});

// SMTP mail goes through the identity's default set: a pause of another set stops none of it.
describe("pause: the identity's default configuration set", () => {
  const identityDefault = (set: string | undefined) =>
    ses
      .on(GetEmailIdentityCommand, { EmailIdentity: 'example.com' })
      .resolves({ VerifiedForSendingStatus: true, ConfigurationSetName: set });
  const fix = () =>
    `to stop it: ses-smtp pause --scope account --env prod --config ${shellWord(config)} (every sender in eu-west-1) or ses-smtp revoke --env prod --config ${shellWord(config)}, and make ${CONFIGURATION_SET} its default again: aws sesv2 put-email-identity-configuration-set-attributes --email-identity example.com --configuration-set-name ${CONFIGURATION_SET} --region eu-west-1`;

  test.each([
    ['no configuration set', undefined],
    ['configuration set other-set', 'other-set'],
  ])(
    'the identity sends through %s: the pause warns that it stops none of its SMTP mail, with what does',
    async (what, actual) => {
      identityDefault(actual);
      const r = await cli(['pause', '--yes']);
      expect(r.code).toBe(0);
      expect(aws.sets.get(CONFIGURATION_SET)).toBe(false);
      expect(r.stderr).toBe(
        `! identity example.com sends through ${what} by default, not ${CONFIGURATION_SET}: this pause does not stop its SMTP mail; ${fix()}\n`,
      );
      // Said again when it was paused already: the mail still flows.
      const again = await cli(['pause', '--yes']);
      expect(again.stderr).toBe(r.stderr);
    },
  );

  test('the identity sends through the paused set: no warning', async () => {
    identityDefault(CONFIGURATION_SET);
    const r = await cli(['pause', '--yes']);
    expect([r.code, r.stderr]).toEqual([0, '']);
  });

  test('the identity unreadable: said, with the command that checks it; the pause stands', async () => {
    ses
      .on(GetEmailIdentityCommand)
      .rejects(awsError('AccessDeniedException', 'not authorized to perform: ses:GetEmailIdentity', 403));
    const r = await cli(['pause', '--yes']);
    expect(r.code).toBe(0);
    expect(aws.sets.get(CONFIGURATION_SET)).toBe(false);
    expect(r.stderr).toBe(
      `! could not read whether identity example.com sends through ${CONFIGURATION_SET} by default (AccessDeniedException): if it does not, this pause does not stop its SMTP mail; ses-smtp doctor --env prod --config ${shellWord(config)} checks it\n`,
    );
  });
});

// A set may be named "-set": "--configuration-set -set" would be read as two options.
test('the undo of a pause of a set whose name starts with "-" runs as printed', async () => {
  aws.sets.set('-set', true);
  const r = await cli(['pause', '--configuration-set=-set', '--yes']);
  expect(r.code).toBe(0);
  const undo = /until you run: (ses-smtp resume .*)$/m.exec(r.stdout)?.[1] ?? '';
  // No stdin: bash reads ~/.bashrc when its stdin is a socket (as under rshd); Node's pipes are.
  const argv = execFileSync('bash', ['-c', `printf '%s\\0' ${undo}`], {
    encoding: 'utf8',
    env: {},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
    .split('\0')
    .slice(1, -1);
  const back = await run(argv, { answer: true });
  expect([back.code, back.stderr]).toEqual([0, '']);
  expect(aws.sets.get('-set')).toBe(true);
});
