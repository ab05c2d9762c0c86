import {
  GetAccountCommand,
  GetEmailIdentityCommand,
  GetSuppressedDestinationCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import { CliContext } from '../context';
import { shellOption } from '../shell';
import { UsageError } from '../errors';
import { domainOf, MAILBOX_SIMULATOR } from '../../config/senders';
import { checkEmailAddress } from '../validate';
import { currentCredentials } from '../secret';
import { diagnose } from '../../../lambda/shared/smtp-diagnosis';
import { sendMail } from '../smtp';
import { setSendingEnabled } from './sending';

export interface SendTestOptions {
  readonly to?: string;
  readonly subject?: string;
}

/** The guide's step 4: one real message over SMTP with the current credentials. */
export async function sendTestCommand(ctx: CliContext, options: SendTestOptions): Promise<number> {
  if (options.to === undefined)
    throw new UsageError(
      "--to is missing: pass --to ADDRESS, the recipient's email address (like --to dev@example.com)",
    );
  const to = checkEmailAddress('--to', options.to);
  const [credentials, endpoint] = await Promise.all([currentCredentials(ctx), ctx.smtp()]);

  // Hints before the send; the send itself needs none of these reads.
  const account = await ctx
    .client(SESv2Client)
    .send(new GetAccountCommand({}))
    .catch((e: Error) => {
      ctx.out.warn(`could not read the SES account (${e.name}): sending without the sandbox check`);
      return undefined;
    });
  if (account?.SendingEnabled === false) {
    ctx.out.warn(
      `sending is disabled for the account in ${ctx.region}: SES will refuse the message (if you paused it: ${ctx.rerun('resume --scope account')}; else see ${ctx.rerun('doctor')})`,
    );
  }
  await warnIfSetPaused(ctx);
  // The mailbox simulator's addresses need no verification, in the sandbox too (SES Developer
  // Guide, "Verified identities": "unless you're sending to test inboxes provided by the Amazon
  // SES mailbox simulator").
  const simulator = domainOf(to) === MAILBOX_SIMULATOR;
  if (account && account.ProductionAccessEnabled !== true && !simulator) {
    const recipient = await recipientIdentity(ctx, to).catch((e: Error) => {
      ctx.out.warn(
        `could not read the recipient's SES identity (${e.name}): sending without the sandbox check`,
      );
      return 'verified';
    });
    if (recipient !== 'verified') ctx.out.warn(sandboxWarning(ctx, to, recipient));
  }
  if (!simulator) await warnIfSuppressed(ctx, to);

  ctx.out.progress(`sending to ${to} through ${endpoint.host}:${endpoint.port} ...`);
  try {
    const result = await sendMail(endpoint, credentials, {
      from: credentials.fromAddress,
      to,
      subject: options.subject ?? `SES SMTP test from ${ctx.environmentName ?? ctx.subject}`,
      text: `This message was sent by "ses-smtp send-test" through ${endpoint.host}:${endpoint.port} with the current credentials of ${ctx.subject}.\n`,
    });
    ctx.out.progressDone();
    if (ctx.out.json)
      ctx.out.document({
        ok: true,
        to,
        from: credentials.fromAddress,
        messageId: result.messageId,
        response: result.response,
      });
    ctx.out.check({
      id: 'send',
      status: 'ok',
      title: `sent to ${to}`,
      detail: `SES message id ${result.messageId || '(not in reply)'}`,
    });
    return 0;
  } catch (error) {
    ctx.out.progressDone();
    const d = diagnose(error, endpoint, credentials.region, { from: credentials.fromAddress, to });
    if (ctx.out.json) ctx.out.document({ ok: false, to, stage: d.stage, detail: d.detail, fix: d.fix });
    ctx.out.check({
      id: 'send',
      status: 'fail',
      title: `sending to ${to} failed at ${d.stage}`,
      detail: d.detail,
      fix: d.fix,
    });
    return 1;
  }
}

/**
 * The environment's configuration set paused (`pause`'s default scope): it is the identity's
 * default, so SES refuses the SMTP mail that goes through it. Said before the send, with the undo.
 * Nothing without a set to name (no stack, or one without the output).
 */
async function warnIfSetPaused(ctx: CliContext): Promise<void> {
  if (ctx.stackName === undefined && ctx.options.configurationSet === undefined) return;
  let name = ctx.options.configurationSet ?? 'of the stack';
  try {
    name = await ctx.resource('configurationSet');
    if (await setSendingEnabled(ctx.client(SESv2Client), name)) return;
    ctx.out.warn(
      `sending is paused for configuration set ${name}: SES will refuse the message (if you paused it: ${ctx.rerun('resume --scope configuration-set', ['configurationSet'])}; else see ${ctx.rerun('doctor')})`,
    );
  } catch (e) {
    // A stack without the output: no set to name.
    if (e instanceof UsageError) return;
    ctx.out.warn(
      `could not read configuration set ${name} (${(e as Error).name}): sending without the check that it sends`,
    );
  }
}

/**
 * "verified" when the address or its domain is a verified SES identity; else the verification
 * status of the address's own identity (PENDING: its link not clicked yet), or "absent".
 */
async function recipientIdentity(ctx: CliContext, address: string): Promise<string> {
  let own = 'absent';
  for (const identity of [address, domainOf(address)]) {
    try {
      const r = await ctx.client(SESv2Client).send(new GetEmailIdentityCommand({ EmailIdentity: identity }));
      if (r.VerifiedForSendingStatus) return 'verified';
      if (identity === address) own = r.VerificationStatus ?? 'NOT_STARTED';
    } catch (e) {
      if ((e as Error).name !== 'NotFoundException') throw e;
    }
  }
  return own;
}

/** What the sandbox will do to a recipient that is not verified, and the way out for its state. */
function sandboxWarning(ctx: CliContext, to: string, state: string): string {
  const refused = `the account is in the SES sandbox and ${to}`;
  // An email identity stays PENDING until someone clicks the link SES mailed to it, for 24 hours;
  // then FAILED, and only a new verification sends a new link.
  if (state === 'PENDING')
    return `${refused} has not confirmed its verification yet: SES will reject it until someone clicks the link AWS mailed to ${to} (it lasts 24 hours)`;
  if (state !== 'absent')
    return `${refused} is not verified (its verification is ${state}; an unclicked link expires after 24 hours): SES will reject it. Send a new link: aws ses verify-email-identity ${shellOption('--email-address', to)} --region ${ctx.region}, and click it`;
  return `${refused} is not a verified identity: SES will reject it (add it to verifiedEmailAddresses, send to success@${MAILBOX_SIMULATOR}, or request production access)`;
}

/**
 * A recipient on the account suppression list (a hard bounce or a complaint put it there): SES
 * accepts the message and drops it, so the send looks fine. Said before the send, with the way out.
 */
async function warnIfSuppressed(ctx: CliContext, to: string): Promise<void> {
  try {
    const r = await ctx.client(SESv2Client).send(new GetSuppressedDestinationCommand({ EmailAddress: to }));
    const found = r?.SuppressedDestination;
    if (!found) return;
    const since = found.LastUpdateTime ? ` since ${found.LastUpdateTime.toISOString().slice(0, 10)}` : '';
    ctx.out.warn(
      `${to} is on the account suppression list (${found.Reason ?? 'reason unknown'}${since}): SES accepts the message and drops it. Once the address works again: aws sesv2 delete-suppressed-destination ${shellOption('--email-address', to)} --region ${ctx.region}`,
    );
  } catch (e) {
    if ((e as Error).name === 'NotFoundException') return;
    ctx.out.warn(`could not read the suppression list (${(e as Error).name}): sending without that check`);
  }
}
