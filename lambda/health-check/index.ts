import { promises as dns } from 'node:dns';
import type { Handler } from 'aws-lambda';
import { CheckRun, HealthClients, HealthTarget } from '../shared/checks';
import { cloudwatch, iam, secretsManager, sesv2 } from '../shared/clients';
import { writeEmf } from '../shared/emf-output';
import { createLogger } from '../shared/logger';
import { HealthEvent, HealthResult, runHealth, smtpLoginFromEnv, targetFromEnv } from './health';

const log = createLogger({ function: 'health-check' });
// Read on the first invocation and kept: a bad value fails that invocation, naming the field.
let target: HealthTarget | undefined;
// The Region's resolver, as any receiving mail server would see the records.
const resolver = new dns.Resolver({ timeout: 3000, tries: 2 });

/** The clients of one run: the SDK's, the Region's resolver, the SMTP login (exported for its test). */
export function runClients(env: NodeJS.ProcessEnv = process.env): HealthClients {
  return {
    ses: sesv2,
    secrets: secretsManager,
    iam,
    cloudwatch,
    resolver,
    now: () => new Date(),
    smtp: smtpLoginFromEnv(env),
  };
}

export const handler: Handler<HealthEvent, HealthResult> = async (event) => {
  target ??= targetFromEnv(process.env);
  return runHealth(event ?? {}, new CheckRun(target, runClients()), (line) => writeEmf([line]), log);
};
