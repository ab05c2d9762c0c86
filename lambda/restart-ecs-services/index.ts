import { ECSClient } from '@aws-sdk/client-ecs';
import type { Handler } from 'aws-lambda';
import { createLogger } from '../shared/logger';
import { restartServices, servicesFromEnv } from './restart';

const log = createLogger({ function: 'restart-ecs-services' });
const ecs = new ECSClient({});

/** Invoked by EventBridge when AWSCURRENT moves to new credentials; the event itself is not read. */
export const handler: Handler<unknown, { restarted: string[]; absent?: string[] }> = async () =>
  restartServices(servicesFromEnv(process.env), ecs, log);
