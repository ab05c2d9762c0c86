import { promises as dns } from 'node:dns';
import type { Handler } from 'aws-lambda';
import { CheckRun } from '../shared/checks';
import { cloudwatch, iam, secretsManager, sesv2 } from '../shared/clients';
import { createLogger } from '../shared/logger';
import { HealthEvent, HealthResult, runHealth, targetFromEnv } from './health';

const log = createLogger({ function: 'health-check' });
const target = targetFromEnv(process.env);
// The Region's resolver, as any receiving mail server would see the records.
const resolver = new dns.Resolver({ timeout: 3000, tries: 2 });

export const handler: Handler<HealthEvent, HealthResult> = async (event) => {
  const run = new CheckRun(target, {
    ses: sesv2,
    secrets: secretsManager,
    iam,
    cloudwatch,
    resolver,
    now: () => new Date(),
  });
  return runHealth(event ?? {}, run, (line) => console.log(line), log);
};
