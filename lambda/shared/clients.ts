import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ECSClient } from '@aws-sdk/client-ecs';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';

/*
 * SDK clients, created once per execution environment and reused across invocations. The SDK's
 * standard retry (3 attempts, backoff) covers throttling and 5xx; what still fails is thrown to
 * the caller so the platform retries the invocation.
 */
export const secretsManager = /* @__PURE__ */ new SecretsManagerClient({});
export const iam = /* @__PURE__ */ new IAMClient({});
// The suppression-list API has a low request rate: adaptive retry also slows this client down
// when SES throttles, instead of failing the batch item at once.
export const sesv2 = /* @__PURE__ */ new SESv2Client({ retryMode: 'adaptive', maxAttempts: 5 });
export const cloudwatch = /* @__PURE__ */ new CloudWatchClient({});
export const cloudformation = /* @__PURE__ */ new CloudFormationClient({});
export const logs = /* @__PURE__ */ new CloudWatchLogsClient({});
export const sqs = /* @__PURE__ */ new SQSClient({});
export const sns = /* @__PURE__ */ new SNSClient({});
export const ecs = /* @__PURE__ */ new ECSClient({});
