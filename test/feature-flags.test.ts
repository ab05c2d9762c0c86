import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';
import { TEST_APP_PROPS } from './support/app-props';
import { synthWarnings } from './helpers';

const REPO = path.resolve(__dirname, '..');
const CONTEXT: Record<string, unknown> = JSON.parse(
  fs.readFileSync(path.join(REPO, 'cdk.json'), 'utf8'),
).context;
/** What `cdk init` writes into a new app's cdk.json: the installed aws-cdk-lib's recommended flags. */
const RECOMMENDED: Record<string, unknown> = JSON.parse(
  fs.readFileSync(path.join(REPO, 'node_modules/aws-cdk-lib/recommended-feature-flags.json'), 'utf8'),
);

/** Flags set on purpose to another value than the recommended one, and why. */
const DEVIATIONS: Record<string, { value: unknown; reason: string }> = {
  '@aws-cdk/aws-sns-subscriptions:restrictSqsDescryption': {
    value: false,
    reason:
      'on, the messaging key policy names the feedback topic that the same key encrypts: a dependency cycle CloudFormation refuses (found by the built-in validation)',
  },
  '@aws-cdk/core:target-partitions': {
    value: ['aws', 'aws-cn', 'aws-us-gov'],
    reason: 'the environments file accepts GovCloud Regions',
  },
};

/**
 * Resources whose replacement loses state or breaks live credentials, with the properties whose
 * change makes CloudFormation replace them (KMS keys: refuse the update) per the CloudFormation
 * resource reference. A record set under a new logical id fails the deploy (Route 53 has the name
 * already); the SMTP user's policy under a new one would be kept beside its successor.
 */
const STATEFUL: Record<string, string[]> = {
  'AWS::SES::EmailIdentity': ['EmailIdentity'],
  'AWS::SES::ConfigurationSet': ['Name'],
  'AWS::IAM::User': ['UserName'],
  'AWS::IAM::Policy': [],
  'AWS::SecretsManager::Secret': ['Name'],
  'AWS::KMS::Key': ['KeySpec', 'KeyUsage', 'MultiRegion', 'Origin'],
  'AWS::Route53::RecordSet': ['Name', 'HostedZoneId'],
  // A schedule under a new logical id: CloudFormation creates the new one, then deletes the old
  // one in the cleanup, which turns rotation off on the secret (cloudformation-coverage-roadmap#1813).
  'AWS::SecretsManager::RotationSchedule': ['SecretId'],
  // Apps and pagers subscribe to the topics, and read the app queue by URL, outside the template.
  'AWS::SNS::Topic': ['TopicName', 'FifoTopic'],
  'AWS::SQS::Queue': ['QueueName', 'FifoQueue'],
  // Named "SesSmtp-<env>" (operators and alarm texts find it so): under a new logical id
  // CloudFormation creates it first, and CloudWatch has the name already ("already exists").
  'AWS::CloudWatch::Dashboard': ['DashboardName'],
};
const EXPECTED_FILE = path.join(__dirname, 'fixtures/stateful-resources.json');

type Resource = {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};

/** The stateful resources of every stack, with what would replace them (absent values as null). */
function statefulResources(context: Record<string, unknown>) {
  const app = new App({
    ...TEST_APP_PROPS,
    context: { ...context, ...TEST_APP_PROPS.context, config: 'test/fixtures/config/stateful.json' },
    outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'ses-smtp-flags-')),
  });
  buildApp(app);
  const { assembly, warnings } = synthWarnings(app);
  // The file's one environment lists no alarm recipient: the one warning it draws, which the
  // validation report holds with the flag that puts annotations there.
  expect(warnings).toEqual(
    context['@aws-cdk/core:annotationsInValidationReport']
      ? ['Annotation::ses-smtp:no-alarm-recipients']
      : [],
  );
  return Object.fromEntries(
    assembly.stacks.map((stack) => {
      const resources = Object.entries(stack.template.Resources as Record<string, Resource>)
        // The SMTP user's policy, not the functions' roles'.
        .filter(([, r]) => r.Type in STATEFUL && (r.Type !== 'AWS::IAM::Policy' || r.Properties?.Users))
        .map(([id, r]) => [
          id,
          {
            Type: r.Type,
            DeletionPolicy: r.DeletionPolicy ?? null,
            UpdateReplacePolicy: r.UpdateReplacePolicy ?? null,
            ...Object.fromEntries(STATEFUL[r.Type].map((p) => [p, r.Properties?.[p] ?? null])),
          },
        ]);
      return [stack.stackName, Object.fromEntries(resources)];
    }),
  );
}

test('cdk.json sets every currently recommended feature flag, to its recommended value unless a reason says otherwise', () => {
  const expected = Object.fromEntries(
    Object.entries(RECOMMENDED).map(([flag, value]) => [
      flag,
      flag in DEVIATIONS ? DEVIATIONS[flag].value : value,
    ]),
  );
  const set = Object.fromEntries(Object.keys(RECOMMENDED).map((flag) => [flag, CONTEXT[flag]]));
  expect(set).toEqual(expected);
  for (const flag of Object.keys(DEVIATIONS)) expect(RECOMMENDED).toHaveProperty([flag]);
});

test('the flags change no stateful resource: logical ids and replacement-triggering properties as committed', () => {
  const expected = JSON.parse(fs.readFileSync(EXPECTED_FILE, 'utf8'));
  const withFlags = statefulResources(CONTEXT);
  const withoutFlags = statefulResources({});
  expect(withoutFlags).toEqual(expected);
  expect(withFlags).toEqual(expected);
  // The expectation covers every kind, in every environment stack.
  for (const [name, resources] of Object.entries(expected as Record<string, Record<string, Resource>>)) {
    if (!name.startsWith('SesSmtp-')) continue;
    expect(new Set(Object.values(resources).map((r) => r.Type))).toEqual(new Set(Object.keys(STATEFUL)));
  }
});
