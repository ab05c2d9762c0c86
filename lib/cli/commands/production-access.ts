import { GetAccountCommand, PutAccountDetailsCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { CliContext } from '../context';
import { CheckFailed, UsageError } from '../errors';
import { checkEmailAddress } from '../validate';
import { maskUrlPassword } from '../../config/syntax';

export interface ProductionAccessOptions {
  /** TRANSACTIONAL or MARKETING (the option table checks it). @default TRANSACTIONAL */
  readonly mailType?: string;
  readonly websiteUrl?: string;
  readonly useCase?: string;
  /** EN or JA (the option table checks it). @default EN */
  readonly language?: string;
  readonly contacts?: string[];
  /** Asks the operator (true at once with --yes); resolves true to send. */
  readonly confirm: (question: string) => Promise<boolean>;
}

/**
 * SESv2 PutAccountDetails's limits, in characters: WebsiteURL and UseCaseDescription.
 * @see https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_PutAccountDetails.html
 */
const MAX_WEBSITE_URL = 1000;
const MAX_USE_CASE = 5000;

export function checkWebsiteUrl(url: string): void {
  // The scheme in any letter case (RFC 3986 §3.1): "HTTPS://example.com" is the same URL.
  if (!/^https?:\/\/\S+$/i.test(url))
    throw new UsageError(
      `--website-url: got ${maskUrlPassword(JSON.stringify(url))}, expected an http(s):// URL of your site`,
    );
  // AWS's reviewers open it, and the request would carry the password to them: none belongs here
  // (nor what was meant as one, a password holding "/", "?" or "#": maskUrlPassword finds those).
  if (/^https?:\/\/[^/?#]*@/i.test(url) || maskUrlPassword(url) !== url)
    throw new UsageError(
      `--website-url: got ${maskUrlPassword(JSON.stringify(url))}, expected the URL of your public site, without a user name or password (SES sends it to AWS's reviewers)`,
    );
  if ([...url].length > MAX_WEBSITE_URL)
    throw new UsageError(
      `--website-url: got ${[...url].length} characters, expected at most ${MAX_WEBSITE_URL} (what SES takes)`,
    );
}

export function checkUseCase(text: string): void {
  if (text.trim() === '')
    throw new UsageError(
      `--use-case: got ${JSON.stringify(text)}, expected the text of the use case (leave it out for the default)`,
    );
  if ([...text].length > MAX_USE_CASE)
    throw new UsageError(
      `--use-case: got ${[...text].length} characters, expected at most ${MAX_USE_CASE} (what SES takes)`,
    );
}

/** The default use-case text (edit it with --use-case): what AWS reviewers look for. */
export function defaultUseCase(domain: string, fromAddress: string | undefined, mailType: string): string {
  const kind =
    mailType === 'MARKETING'
      ? 'newsletters and product updates to customers who opted in at signup, each with a one-click unsubscribe link'
      : 'transactional email only: account confirmation, password reset, and notifications users asked for';
  return [
    `We send ${kind} from our web application at ${domain}${fromAddress ? ` (sender ${fromAddress})` : ''}, over SES SMTP from Rails/ActionMailer.`,
    'Recipients are our own users who gave us their address; we never buy or rent lists.',
    'Bounces and complaints are handled automatically: SES events go through SNS to a handler that adds the recipients to the account suppression list, and CloudWatch alarms warn us well below the 5 % bounce and 0.1 % complaint review levels.',
    'The domain is authenticated with DKIM (2048-bit), SPF through a custom MAIL FROM domain, and DMARC.',
  ].join(' ');
}

/** Builds the production-access request from flags and config, shows it, confirms, sends it. */
export async function productionAccessCommand(
  ctx: CliContext,
  options: ProductionAccessOptions,
): Promise<number> {
  const mailType = options.mailType ?? 'TRANSACTIONAL';
  const language = options.language ?? 'EN';
  if (options.websiteUrl !== undefined) checkWebsiteUrl(options.websiteUrl);
  if (options.useCase !== undefined) checkUseCase(options.useCase);
  const contacts = (options.contacts ?? []).map((contact) => checkEmailAddress('--contact', contact));
  if (contacts.length > 4)
    throw new UsageError(`--contact: got ${contacts.length} addresses, expected at most 4`);
  // The defaults come from the environment, or without an environments file from the identity.
  const domain = ctx.environmentName ? ctx.config.domain : await ctx.resource('identity');
  const fromAddress = ctx.environmentName ? ctx.config.fromAddress : undefined;
  const websiteUrl = options.websiteUrl ?? `https://${domain}`;
  const useCase = options.useCase ?? defaultUseCase(domain, fromAddress, mailType);

  const account = await ctx.client(SESv2Client).send(new GetAccountCommand({}));
  if (account.ProductionAccessEnabled) {
    if (ctx.out.json) ctx.out.document({ sent: false, reason: 'already in production' });
    ctx.out.check({
      id: 'production',
      status: 'ok',
      title: `the account already has production access in ${ctx.region}`,
    });
    return 0;
  }
  // SES refuses a second request while one is under review (ConflictException): say so before asking.
  const review = account.Details?.ReviewDetails;
  const caseText = review?.CaseId ? ` (case ${review.CaseId})` : '';
  if (review?.Status === 'PENDING') {
    if (ctx.out.json) ctx.out.document({ sent: false, reason: 'under review', caseId: review.CaseId });
    ctx.out.check({
      id: 'production',
      status: 'warn',
      title: `a production access request for ${ctx.region} is under review${caseText}`,
      fix: 'AWS answers it in the Support Center case (answer its questions there); a second request is refused until then',
    });
    return 0;
  }

  // A denied request sent again with the same generic text is denied again: AWS wants the
  // answers its case asked for, in the team's own words. (FAILED is AWS's own error: "we didn't
  // receive your appeal", ReviewDetails in the SESv2 API reference; it may be sent again as it was.)
  if (review?.Status === 'DENIED' && options.useCase === undefined) {
    if (ctx.out.json) ctx.out.document({ sent: false, reason: 'last request DENIED', caseId: review.CaseId });
    ctx.out.check({
      id: 'production',
      status: 'fail',
      title: `the last production access request for ${ctx.region} was DENIED${caseText}: not sent again with the default text`,
      fix: "read AWS's reasons in that Support Center case, then ask again in your own words with --use-case TEXT: how recipients sign up, what you send and how often (expected daily volume), how bounces and complaints are handled (this stack suppresses them), how people unsubscribe",
    });
    return 1;
  }

  const request = {
    MailType: mailType as 'TRANSACTIONAL' | 'MARKETING',
    WebsiteURL: websiteUrl,
    ContactLanguage: language as 'EN' | 'JA',
    UseCaseDescription: useCase,
    AdditionalContactEmailAddresses: contacts.length ? contacts : undefined,
    ProductionAccessEnabled: true,
  };
  if (!ctx.out.json) {
    ctx.out.line(`Production access request for ${ctx.region} (${ctx.subject}):`);
    ctx.out.line(`  mail type:   ${request.MailType}`);
    ctx.out.line(`  website:     ${request.WebsiteURL}`);
    ctx.out.line(`  language:    ${request.ContactLanguage}`);
    ctx.out.line(`  contacts:    ${contacts.join(', ') || '(account contacts only)'}`);
    ctx.out.line(`  use case:    ${useCase}`);
  }
  if (!(await options.confirm('Send this request to AWS? [y/N] '))) {
    throw new CheckFailed('not sent (request-production-access not confirmed)');
  }
  await ctx.client(SESv2Client).send(new PutAccountDetailsCommand(request));
  if (ctx.out.json) ctx.out.document({ sent: true, request });
  ctx.out.check({
    id: 'production',
    status: 'ok',
    title: 'request sent',
    detail: 'AWS usually answers within a day; `ses-smtp doctor` shows the review status',
  });
  return 0;
}
