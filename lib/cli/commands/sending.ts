import {
  GetAccountCommand,
  GetConfigurationSetCommand,
  PutAccountSendingAttributesCommand,
  PutConfigurationSetSendingOptionsCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import { readIdentity } from '../../../lambda/shared/checks';
import type { Scope } from '../command-table';
import { CliContext } from '../context';
import { CheckFailed, UsageError } from '../errors';
import { shellOption, shellWord } from '../shell';

export interface SetSendingOptions {
  /** false pauses sending, true resumes it. */
  readonly enabled: boolean;
  readonly scope: Scope;
  /** Asks the operator (true at once with --yes); resolves true to go ahead. */
  readonly confirm: (question: string) => Promise<boolean>;
}

/**
 * `pause` and `resume`: turns sending off or on for the stack's configuration set
 * (PutConfigurationSetSendingOptions) or for the whole account in the Region
 * (PutAccountSendingAttributes). Reads the state first: nothing to do is said, not sent. A resume
 * then reads the other switch, and warns while it still refuses the mail.
 * @see https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_PutAccountSendingAttributes.html
 */
export async function setSendingCommand(ctx: CliContext, options: SetSendingOptions): Promise<number> {
  const verb = options.enabled ? 'resume' : 'pause';
  if (options.scope === 'account' && ctx.options.configurationSet !== undefined) {
    throw new UsageError(
      `--configuration-set with --scope account: the account scope ${verb}s every sender in ${ctx.region}, not one configuration set; drop one of them`,
    );
  }
  const ses = ctx.client(SESv2Client);
  let target: string;
  let current: boolean;
  let apply: () => Promise<unknown>;
  /** The configuration set paused or resumed (undefined for the account scope). */
  let setName: string | undefined;
  if (options.scope === 'account') {
    const account = await ses.send(new GetAccountCommand({}));
    if (options.enabled && account.EnforcementStatus === 'SHUTDOWN') {
      throw new CheckFailed(
        `AWS itself paused sending for the account in ${ctx.region} (enforcement status SHUTDOWN), which resume cannot undo: answer the review case in the SES console (Account dashboard)`,
      );
    }
    target = `the whole account in ${ctx.region} (every sender, not only this app)`;
    current = account.SendingEnabled !== false;
    apply = () => ses.send(new PutAccountSendingAttributesCommand({ SendingEnabled: options.enabled }));
  } else {
    const name = await ctx.resource('configurationSet');
    setName = name;
    // Another set named by --configuration-set is not the environment's.
    target =
      ctx.environmentName && ctx.options.configurationSet === undefined
        ? `configuration set ${name} (mail of environment ${ctx.environmentName})`
        : `configuration set ${name}`;
    current = await setSendingEnabled(ses, name);
    apply = () =>
      ses.send(
        new PutConfigurationSetSendingOptionsCommand({
          ConfigurationSetName: name,
          SendingEnabled: options.enabled,
        }),
      );
  }
  const undo =
    options.scope === 'account'
      ? ctx.rerun('resume --scope account')
      : ctx.rerun('resume --scope configuration-set', ['configurationSet']);
  const after = options.enabled ? 'sending is on again' : `sends are refused until you run: ${undo}`;
  /** What the switch just set cannot show: the other switch, or the identity's default set. */
  const warnings = async () => {
    if (options.enabled) await warnIfStillPaused(ctx, options.scope);
    else if (setName !== undefined) await warnIfNotTheDefault(ctx, setName);
  };
  if (current === options.enabled) {
    if (ctx.out.json) ctx.out.document({ changed: false, scope: options.scope, sendingEnabled: current });
    ctx.out.check({
      id: verb,
      status: 'ok',
      title: `sending is already ${current ? 'enabled' : 'paused'} for ${target}`,
    });
    await warnings();
    return 0;
  }
  if (!(await options.confirm(`${options.enabled ? 'Resume' : 'Pause'} sending for ${target}? [y/N] `))) {
    throw new CheckFailed(`nothing changed (${verb} not confirmed)`);
  }
  await apply();
  if (ctx.out.json)
    ctx.out.document({ changed: true, scope: options.scope, sendingEnabled: options.enabled });
  ctx.out.check({
    id: verb,
    status: 'ok',
    title: `${options.enabled ? 'resumed' : 'paused'} sending for ${target}`,
    detail: after,
  });
  await warnings();
  return 0;
}

/** Whether a configuration set's own sending switch is on (SES: on unless it says false). */
export async function setSendingEnabled(ses: SESv2Client, name: string): Promise<boolean> {
  const set = await ses.send(new GetConfigurationSetCommand({ ConfigurationSetName: name }));
  return set?.SendingOptions?.SendingEnabled !== false;
}

/**
 * After a pause of a configuration set, the identity's default set: SMTP mail names no set (the
 * SMTP user may use the stack's only), so it goes through the identity's default, and a pause of
 * another set stops none of it. A warning with what does stop it; nothing without an identity
 * to read.
 * @see https://docs.aws.amazon.com/ses/latest/dg/managing-configuration-sets-default.html
 */
async function warnIfNotTheDefault(ctx: CliContext, setName: string): Promise<void> {
  let identity = ctx.options.identity ?? 'of the stack';
  try {
    if (ctx.stackName === undefined && ctx.options.identity === undefined) return;
    identity = await ctx.resource('identity');
    const found = await readIdentity(ctx.client(SESv2Client), identity);
    // No identity, no mail of it to stop.
    if (!found.found) return;
    const actual = found.defaultConfigurationSet;
    if (actual === setName) return;
    ctx.out.warn(
      `identity ${identity} sends through ${actual === undefined ? 'no configuration set' : `configuration set ${actual}`} by default, not ${setName}: this pause does not stop its SMTP mail; to stop it: ${ctx.rerun('pause --scope account')} (every sender in ${ctx.region}) or ${ctx.rerun('revoke')}, and make ${setName} its default again: aws sesv2 put-email-identity-configuration-set-attributes --email-identity ${shellWord(identity)} ${shellOption('--configuration-set-name', setName)} --region ${ctx.region}`,
    );
  } catch (e) {
    // A stack without the output: no identity to read.
    if (e instanceof UsageError) return;
    ctx.out.warn(
      `could not read whether identity ${identity} sends through ${setName} by default (${(e as Error).name}): if it does not, this pause does not stop its SMTP mail; ${ctx.rerun('doctor')} checks it`,
    );
  }
}

/**
 * After a resume of one switch, the other one: SES refuses a send while either the account's or
 * the configuration set's is off, so "resumed" alone would leave the mail stopped unseen (a pause
 * of both, undone by the default `resume`). A warning, with the command that turns it on; nothing
 * when it cannot be read.
 */
async function warnIfStillPaused(ctx: CliContext, resumed: Scope): Promise<void> {
  const ses = ctx.client(SESv2Client);
  try {
    if (resumed === 'configuration-set') {
      const account = await ses.send(new GetAccountCommand({}));
      if (account.SendingEnabled !== false) return;
      ctx.out.warn(
        account.EnforcementStatus === 'SHUTDOWN'
          ? `sending is still disabled for the whole account in ${ctx.region}, by AWS (enforcement status SHUTDOWN): SES refuses every send, this configuration set's too, until AWS lifts it; answer the review case in the SES console (Account dashboard)`
          : `sending is still disabled for the whole account in ${ctx.region}: SES refuses every send, this configuration set's too, until you run: ${ctx.rerun('resume --scope account')}`,
      );
      return;
    }
    // The environment's set (a stack output); without a stack there is none to name.
    if (ctx.stackName === undefined) return;
    const name = await ctx.resource('configurationSet');
    if (await setSendingEnabled(ses, name)) return;
    ctx.out.warn(
      `sending is still paused for configuration set ${name}: SES refuses the mail sent through it until you run: ${ctx.rerun('resume --scope configuration-set')}`,
    );
  } catch (e) {
    // A stack without the output: no set of the environment's to read.
    if (e instanceof UsageError) return;
    ctx.out.warn(
      `could not read whether the ${resumed === 'account' ? 'configuration set' : 'account'} still refuses sends (${(e as Error).name}); ${ctx.rerun('doctor')} checks both`,
    );
  }
}
