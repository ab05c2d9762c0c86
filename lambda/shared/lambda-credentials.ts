import { fromEnv } from '@aws-sdk/credential-provider-env';
import type { defaultProvider as nodeDefaultProvider } from '@aws-sdk/credential-provider-node';
import { doesIdentityRequireRefresh, isIdentityExpired, memoizeIdentityProvider } from '@smithy/core';

/**
 * The SDK clients' default credential provider as the Lambda bundles ship it: scripts/build.mjs
 * puts this module in place of @aws-sdk/credential-provider-node.
 *
 * Lambda gives a function its execution role's credentials in AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (and sets no AWS_PROFILE), so the SDK's Node.js
 * chain stops at its first link, fromEnv, there. The links after it (SSO, shared config files,
 * credential_process, web identity, container and instance metadata) and the STS, SSO and sign-in
 * clients they bring never run in Lambda, yet they were a third of each bundle, loaded at every
 * cold start. Like the chain, the credentials are read once and kept until 5 minutes before they
 * expire (AWS_CREDENTIAL_EXPIRATION, which Lambda does not set: kept for good).
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
 */
export const defaultProvider = ((init = {}) =>
  memoizeIdentityProvider(
    fromEnv(init),
    isIdentityExpired,
    doesIdentityRequireRefresh,
  )) as typeof nodeDefaultProvider;
