import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
// cdk-nag 2, as apps that run it as an Aspect have it (the package's own checks use cdk-nag 3).
import { AwsSolutionsChecks } from 'cdk-nag-2';
import { deployAccessPlan } from '../lib/config/github';
import { parseConfig } from '../lib/config/load';
import { DeployAccessStack } from '../lib/deploy-access-stack';
import { SesSmtp, SesSmtpProps } from '../lib/ses-smtp';
import { BASE_ENV } from './helpers';
import { TEST_APP_PROPS } from './support/app-props';

const { account: _account, region: _region, ...SETTINGS } = BASE_ENV;

/** cdk-nag 2's findings on `stack`: its errors (unacknowledged rules) and what each says. */
function nagErrors(stack: Stack): string[] {
  return Annotations.fromStack(stack)
    .findError('*', Match.stringLikeRegexp('AwsSolutions-'))
    .map((e) => `${e.id} ${String(e.entry.data).split(':')[0]}`);
}

// An app that checks itself with cdk-nag 2 (`Aspects.of(app).add(new AwsSolutionsChecks())`)
// can take the constructs unchanged: each acknowledgement is written for both versions.
test('cdk-nag 2 as an Aspect reports no error on SesSmtp in a stack of your own', () => {
  const app = new App(TEST_APP_PROPS);
  const stack = new Stack(app, 'Web', { env: { account: '123456789012', region: 'eu-west-1' } });
  new SesSmtp(stack, 'Mail', { ...SETTINGS, environmentName: 'prod' } as SesSmtpProps);
  Aspects.of(app).add(new AwsSolutionsChecks());
  app.synth();
  expect(nagErrors(stack)).toEqual([]);
  // What cdk-nag 2 read: the acknowledgement on the roles' policies, with the finding it covers.
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', {
    Metadata: { cdk_nag: Match.anyValue() },
  });
  expect(Object.values(policies).map((p) => p.Metadata.cdk_nag.rules_to_suppress)).toEqual([
    [expect.objectContaining({ id: 'AwsSolutions-IAM5', applies_to: ['Resource::*'] })],
    [expect.objectContaining({ id: 'AwsSolutions-IAM5', applies_to: ['Resource::*'] })],
  ]);
});

test('cdk-nag 2 as an Aspect reports no error on the GitHub deploy access stack', () => {
  const environments = {
    staging: { ...BASE_ENV, account: '111111111111', github: { environment: 'staging' } },
  };
  const [access] = deployAccessPlan(
    parseConfig({ github: { repository: 'acme/web-app' }, environments }, 'test.json'),
  );
  const app = new App(TEST_APP_PROPS);
  const stack = new DeployAccessStack(app, 'Access', { access });
  Aspects.of(app).add(new AwsSolutionsChecks());
  app.synth();
  expect(nagErrors(stack)).toEqual([]);
});
