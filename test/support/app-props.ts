import type { AppProps } from 'aws-cdk-lib';

/**
 * What tests leave out of an App: Lambda bundling (construct tests check templates, handler tests
 * check code) and the stack traces aws-cdk-lib records for every construct in the assembly's
 * metadata (no test reads them; under jest's source maps they cost a fifth of a construct test's CPU).
 */
export const TEST_APP_PROPS = {
  stackTraces: false,
  context: { 'aws:cdk:bundling-stacks': [], 'aws:cdk:disable-creation-stack-traces': true },
} satisfies AppProps;
