import { promises as dns } from 'node:dns';
import type { Handler } from 'aws-lambda';
import { CheckRun, HealthTarget } from '../shared/checks';
import { cloudwatch, iam, secretsManager, sesv2 } from '../shared/clients';
import { writeEmf } from '../shared/emf-output';
import { createLogger } from '../shared/logger';
import { HealthEvent, HealthResult, runHealth, smtpLoginFromEnv, targetFromEnv } from './health';

const log = createLogger({ function: 'health-check' });
// Read on the first invocation and kept: a bad value fails that invocation, naming the field.
let target: HealthTarget | undefined;
// The Region's resolver, as any receiving mail server would see the records.
const resolver = new dns.Resolver({ timeout: 3000, tries: 2 });

export const handler: Handler<HealthEvent, HealthResult> = async (event) => {
  target ??= targetFromEnv(process.env);
  // The endpoint the rotation's login test uses too, from the construct's SMTP_HOST and SMTP_PORT.
  const smtp = smtpLoginFromEnv(process.env);
  const run = new CheckRun(target, {
    ses: sesv2,
    secrets: secretsManager,
    iam,
    cloudwatch,
    resolver,
    now: () => new Date(),
    ...(smtp && { smtp }),
  });
  return runHealth(event ?? {}, run, (line) => writeEmf([line]), log);
};
