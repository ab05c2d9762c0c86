/*
 * Checks of values given on the command line beyond the option table's (choices): each throws a
 * UsageError naming the option, the value and what it accepts. The rules are the environments
 * file's where the file has the same kind of value, so the CLI refuses nothing the file accepts.
 */
import { isIP } from 'node:net';
import { domainName, emailAddress } from '../config/schema';
import { asciiDomain, AWS_REGION_RE, CONNECT_LABEL, invisibleHint, quoted } from '../config/syntax';
import { UsageError } from './errors';

/**
 * An email address given to `option`, checked as the environments file checks its addresses
 * (RFC 5321/5322: dot-atom or quoted local part, like `"john doe"@example.com`); returned with a
 * non-ASCII domain in its punycode form ("user@bücher.example" is "user@xn--bcher-kva.example"),
 * the local part as written.
 */
export function checkEmailAddress(option: string, value: string): string {
  const result = emailAddress.safeParse(value);
  if (!result.success) {
    // The schema's message names an invisible character itself.
    throw new UsageError(`${option}: got ${quoted(value)}, expected ${result.error.issues[0].message}`);
  }
  return result.data;
}

/**
 * Refuses `value` given to `option` in one line: what it got (an invisible character shown and
 * named) and what it `expects`; before any AWS call, so that AWS never refuses it mid-command.
 */
function refuse(option: string, value: string, expects: string): never {
  throw new UsageError(`${option}: got ${quoted(value)}, expected ${expects}${invisibleHint(value)}`);
}

/** An SES configuration set name (SESv2 CreateConfigurationSet: 1-64 of A-Z a-z 0-9 _ -). */
export function checkConfigurationSetName(option: string, value: string): void {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(value))
    refuse(option, value, 'an SES configuration set name: 1 to 64 letters, digits, "_" and "-"');
}

/** An IAM user name (IAM CreateUser: 1-64 of letters, digits and + = , . @ _ -). */
export function checkIamUserName(option: string, value: string): void {
  if (!/^[\w+=,.@-]{1,64}$/.test(value))
    refuse(option, value, 'an IAM user name: 1 to 64 letters, digits and "+=,.@_-"');
}

/** A CloudWatch alarm name (PutMetricAlarm: 1-255 characters, no ASCII control character). */
export function checkAlarmName(option: string, value: string): void {
  const characters = [...value];
  const control = characters.some((c) => c.charCodeAt(0) < 0x20 || c === '\x7f');
  if (characters.length === 0 || characters.length > 255 || control)
    refuse(option, value, 'a CloudWatch alarm name: 1 to 255 characters, none of them a control character');
}

/** A Region name given to `option`. */
export function checkRegion(option: string, value: string): void {
  if (!AWS_REGION_RE.test(value)) {
    refuse(option, value, 'an AWS Region name like "eu-west-1" or "us-gov-west-1" (area, direction, number)');
  }
}

/** A Secrets Manager secret name (CreateSecret: 1-512 ASCII letters, digits and "/_+=.@-"). */
const SECRET_NAME = '[A-Za-z0-9/_+=.@-]{1,512}';
/** In an ARN: the name and the "-" and 6 characters Secrets Manager adds. */
const SECRET_ARN_NAME = '[A-Za-z0-9/_+=.@-]{1,519}';

/**
 * A secret given to `option`: its name, or its ARN (the full one, or without the 6 characters
 * Secrets Manager adds), with a Region name in it.
 */
export function checkSecretId(option: string, value: string): void {
  const arn = new RegExp(
    `^arn:aws(?:-[a-z]+)*:secretsmanager:([^:]*):[0-9]{12}:secret:${SECRET_ARN_NAME}$`,
  ).exec(value);
  if (arn ? AWS_REGION_RE.test(arn[1]) : new RegExp(`^${SECRET_NAME}$`).test(value)) return;
  refuse(
    option,
    value,
    'the name of a secret (ASCII letters, digits and "/_+=.@-", at most 512) or its ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)',
  );
}

/**
 * A CloudFormation stack name given to `option`: a letter, then letters, digits and "-", at most
 * 128 characters (what CreateStack takes).
 */
export function checkStackName(option: string, value: string): { name: string; region?: string } {
  const name = '([A-Za-z][A-Za-z0-9-]{0,127})';
  // Or the stack's id, its ARN (arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>):
  // the name in it is what DescribeStacks takes, and its Region where the stack is.
  const arn = `arn:aws(?:-[a-z]+)*:cloudformation:([a-z0-9-]+):[0-9]{12}:stack/${name}/[0-9A-Za-z-]+`;
  const match = new RegExp(`^(?:${name}|${arn})$`).exec(value);
  if (!match) {
    // A stack in a Stage (CDK Pipelines) is "Stage/Stack" to the CDK CLI, which the alarm texts'
    // `cdk deploy` gives too, and "Stage-Stack" to CloudFormation: the name is what is asked for.
    const path = !value.startsWith('arn:') && value.includes('/');
    refuse(
      option,
      value,
      `a CloudFormation stack name like "SesSmtp-prod" (a letter, then letters, digits and "-", at most 128 characters) or its stack ARN${path ? "; that is a construct path: npx cdk ls prints each stack's name after its path, in parentheses" : ''}`,
    );
  }
  return match[1] !== undefined ? { name: match[1] } : { name: match[3], region: match[2] };
}

/**
 * A domain name given to `option`, checked as the environments file checks `domain` (a non-ASCII
 * name is taken in its punycode form); returned as SES names the identity: lower case, no final dot.
 */
export function checkDomainName(option: string, value: string): string {
  const result = domainName.safeParse(value);
  if (!result.success) {
    // The schema's message names an invisible character itself.
    throw new UsageError(`${option}: got ${quoted(value)}, expected ${result.error.issues[0].message}`);
  }
  return result.data;
}

const HOST_LABEL_RE = new RegExp(`^${CONNECT_LABEL}$`);

/**
 * A host to connect to given to `option`: an IP address, or a host name of one label or more
 * ("localhost", "smtp-relay", "email-smtp.eu-west-1.amazonaws.com"; "_" taken, as local resolvers
 * such as Docker's do; a non-ASCII name in its punycode form). No scheme, port or brackets.
 */
export function checkHost(option: string, value: string): string {
  if (isIP(value)) return value;
  const host = asciiDomain(value);
  const bare = host.replace(/\.$/, '');
  const labels = bare.split('.');
  // 253 characters without the final dot (RFC 1035 §2.3.4's 255 octets, written as text).
  const valid =
    bare.length <= 253 &&
    labels.every((l) => HOST_LABEL_RE.test(l)) &&
    !/^[0-9]+$/.test(labels[labels.length - 1]);
  if (!valid) {
    refuse(
      option,
      value,
      'a host name or an IP address, like email-smtp.eu-west-1.amazonaws.com, localhost, 10.0.0.5 or ::1 (no scheme, port or brackets: the port is --smtp-port)',
    );
  }
  return host;
}
