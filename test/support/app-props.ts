import type { AppProps } from 'aws-cdk-lib';

/**
 * What tests leave out of an App:
 * - aws-cdk-lib's CloudFormation validation engine: its start costs more than the rest of a
 *   construct test (CI's `cdk synth -c validate=true` runs it);
 * - Lambda bundling: construct tests check templates, handler tests check code;
 * - asset staging, a copy of each Lambda bundle into every test app's cdk.out (the template's S3
 *   key is the bundle's fingerprint all the same; test/app.test.ts checks the staging of the app
 *   as cdk.json runs it);
 * - the stack traces aws-cdk-lib records for every construct in the assembly's metadata: under
 *   jest's source maps they cost a fifth of a construct test's CPU;
 * - tree.json and the CDKMetadata resource, which no test reads: a fifth of a synth's CPU
 *   together (CI's `cdk synth` and cfn-lint check the templates with both).
 */
export const TEST_APP_PROPS = {
  builtinCloudFormationValidation: false,
  stackTraces: false,
  treeMetadata: false,
  analyticsReporting: false,
  context: {
    'aws:cdk:bundling-stacks': [],
    'aws:cdk:disable-asset-staging': true,
    'aws:cdk:disable-creation-stack-traces': true,
  },
} satisfies AppProps;
