import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../lib/config/load';
import { EnvironmentConfig } from '../lib/config/schema';
import { SesSmtpStack } from '../lib/ses-smtp-stack';
import { stackName } from '../lib/stack-name';
import { TEST_APP_PROPS } from './support/app-props';

/** A minimal valid environment, as a user would write it in the environments file. */
export const BASE_ENV = {
  account: '123456789012',
  region: 'eu-west-1',
  domain: 'example.com',
  dns: { mode: 'route53', hostedZoneId: 'Z0123456789EXAMPLE0AB', zoneName: 'example.com' },
  fromAddress: 'no-reply@example.com',
};

/** An environment of another account and domain, beside BASE_ENV in one file. */
export const OTHER_ACCOUNT_ENV = {
  ...BASE_ENV,
  account: '210987654321',
  domain: 'example.net',
  fromAddress: 'no-reply@example.net',
  dns: { mode: 'route53', hostedZoneId: 'Z0123456789EXAMPLE0CD', zoneName: 'example.net' },
};

/** Validates `env` (merged over BASE_ENV) exactly as the app does and returns the result. */
export function envConfig(env: Record<string, unknown> = {}): EnvironmentConfig {
  return parseConfig({ environments: { test: { ...BASE_ENV, ...env } } }, 'test.json').environments.test;
}

/** An App as the tests build them (test/support/app-props.ts says what they leave out). */
export function testApp(context: Record<string, unknown> = {}): App {
  return new App({ ...TEST_APP_PROPS, context: { ...TEST_APP_PROPS.context, ...context } });
}

/**
 * `app.synth()` with the validation report aws-cdk-lib prints for warnings (on stderr, through
 * console.error) taken instead of printed: the assembly and the acknowledgement ids the report
 * names ("Annotation::ses-smtp:no-alarm-recipients"), sorted, one per warning.
 */
export function synthWarnings(app: App) {
  const printed: unknown[] = [];
  const report = jest.spyOn(console, 'error').mockImplementation((...args) => printed.push(...args));
  try {
    const assembly = app.synth();
    const ids = [...printed.join('\n').matchAll(/Acknowledge with '([^']+)'/g)].map((m) => m[1]);
    return { assembly, warnings: ids.sort() };
  } finally {
    report.mockRestore();
  }
}

/** The stack of `env` (merged over BASE_ENV), not synthesized. */
export function buildStack(env: Record<string, unknown> = {}): SesSmtpStack {
  // Named as the environments-file app names it (buildApp), so alarm texts give --env test.
  return new SesSmtpStack(testApp(), 'Test', {
    environmentName: 'test',
    config: envConfig(env),
    stackName: stackName('test'),
  });
}

const synthesized = new Map<string, { stack: SesSmtpStack; template: Template }>();

/**
 * The stack of `env` and its template. A test file synthesizes each config once and its tests
 * share the result: read it, never add to it (a test that adds constructs uses buildStack).
 */
export function synthStack(env: Record<string, unknown> = {}): { stack: SesSmtpStack; template: Template } {
  const key = JSON.stringify(env);
  let result = synthesized.get(key);
  if (!result) {
    const stack = buildStack(env);
    result = { stack, template: Template.fromStack(stack) };
    synthesized.set(key, result);
  }
  return result;
}
