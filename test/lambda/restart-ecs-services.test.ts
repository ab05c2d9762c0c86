import { ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import {
  restartServices,
  servicesFromEnv,
  THROTTLE_WAITS_MS,
} from '../../lambda/restart-ecs-services/restart';
import { parseServiceArn, SERVICES_VARIABLE } from '../../lambda/restart-ecs-services/services';
import { createLogger } from '../../lambda/shared/logger';

const ecs = mockClient(ECSClient);
const WEB = { cluster: 'prod', service: 'web' };
const WORKER = { cluster: 'prod', service: 'worker' };

function awsError(name: string, throttling = false) {
  return Object.assign(new Error(`${name} happened`), {
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    ...(throttling && { $retryable: { throttling: true } }),
  });
}

function logs() {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: createLogger({}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>)) };
}

beforeEach(() => ecs.reset());

describe('restartServices', () => {
  test('forces a new deployment of each service, with its cluster, and nothing else', async () => {
    ecs.on(UpdateServiceCommand).resolves({});
    const { log } = logs();
    await expect(restartServices([WEB, WORKER], new ECSClient({}), log, async () => {})).resolves.toEqual({
      restarted: ['prod/web', 'prod/worker'],
    });
    expect(ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', service: 'web', forceNewDeployment: true },
      { cluster: 'prod', service: 'worker', forceNewDeployment: true },
    ]);
  });

  test('retries a throttled call after each pause, and restarts the service then', async () => {
    ecs
      .on(UpdateServiceCommand)
      .rejectsOnce(awsError('ThrottlingException'))
      .rejectsOnce(awsError('ThrottlingException'))
      .resolves({});
    const waits: number[] = [];
    const { log } = logs();
    await expect(
      restartServices([WEB], new ECSClient({}), log, async (ms) => waits.push(ms)),
    ).resolves.toEqual({ restarted: ['prod/web'] });
    expect(waits).toEqual(THROTTLE_WAITS_MS.slice(0, 2));
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(3);
  });

  test('a service that fails does not stop the next; the invocation fails naming it', async () => {
    ecs
      .on(UpdateServiceCommand, { service: 'web' })
      .rejects(awsError('AccessDeniedException'))
      .on(UpdateServiceCommand, { service: 'worker' })
      .resolves({});
    const waits: number[] = [];
    const { lines, log } = logs();
    await expect(
      restartServices([WEB, WORKER], new ECSClient({}), log, async (ms) => waits.push(ms)),
    ).rejects.toThrow(
      'could not force a new deployment of 1 of 2 ECS services: prod/web (AccessDeniedException)',
    );
    // Not throttling: not retried.
    expect(waits).toEqual([]);
    expect(ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input.service)).toEqual([
      'web',
      'worker',
    ]);
    expect(lines).toEqual([
      expect.objectContaining({ level: 'ERROR', service: 'web', errorName: 'AccessDeniedException' }),
      expect.objectContaining({ level: 'INFO', service: 'worker', message: 'forced a new deployment' }),
    ]);
  });

  // The first credentials come before the app's services exist: no error (and alarm) for them.
  test.each(['ServiceNotFoundException', 'ServiceNotActiveException', 'ClusterNotFoundException'])(
    'a service that does not exist (%s) is logged, and the invocation succeeds',
    async (name) => {
      ecs
        .on(UpdateServiceCommand, { service: 'web' })
        .rejects(awsError(name))
        .on(UpdateServiceCommand, { service: 'worker' })
        .resolves({});
      const { lines, log } = logs();
      await expect(restartServices([WEB, WORKER], new ECSClient({}), log, async () => {})).resolves.toEqual({
        restarted: ['prod/worker'],
        absent: ['prod/web'],
      });
      expect(lines).toEqual([
        expect.objectContaining({ level: 'WARN', service: 'web', errorName: name }),
        expect.objectContaining({ level: 'INFO', service: 'worker', message: 'forced a new deployment' }),
      ]);
    },
  );

  test('still throttled after every pause: that service fails', async () => {
    ecs.on(UpdateServiceCommand).rejects(awsError('ThrottlingException', true));
    const { log } = logs();
    await expect(restartServices([WEB], new ECSClient({}), log, async () => {})).rejects.toThrow(
      'prod/web (ThrottlingException)',
    );
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(1 + THROTTLE_WAITS_MS.length);
  });
  // The default pause is real: a throttled service is retried after THROTTLE_WAITS_MS, not at once.
  test('without a wait given, pauses THROTTLE_WAITS_MS[0] before the retry', async () => {
    jest.useFakeTimers();
    try {
      ecs.on(UpdateServiceCommand).rejectsOnce(awsError('ThrottlingException')).resolves({});
      const { log } = logs();
      const done = restartServices([WEB], new ECSClient({}), log);
      await jest.advanceTimersByTimeAsync(THROTTLE_WAITS_MS[0] - 1);
      expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(1);
      await expect(done).resolves.toEqual({ restarted: ['prod/web'] });
      expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(2);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('servicesFromEnv', () => {
  test('reads the JSON list', () => {
    expect(servicesFromEnv({ [SERVICES_VARIABLE]: JSON.stringify([WEB]) })).toEqual([WEB]);
  });

  test.each([undefined, '', '[]', '{}', '[{"cluster":"prod"}]', '[{"service":"web"}]', 'not json'])(
    'refuses %p, naming the variable',
    (raw) => {
      expect(() => servicesFromEnv(raw === undefined ? {} : { [SERVICES_VARIABLE]: raw })).toThrow(
        `${SERVICES_VARIABLE} must be a JSON list`,
      );
    },
  );
});

describe('parseServiceArn', () => {
  test('takes the long ARN apart', () => {
    expect(parseServiceArn('arn:aws:ecs:eu-west-1:123456789012:service/prod/web')).toEqual({
      partition: 'aws',
      region: 'eu-west-1',
      account: '123456789012',
      cluster: 'prod',
      service: 'web',
    });
  });

  test.each([
    'arn:aws:ecs:eu-west-1:123456789012:service/web',
    'arn:aws:ecs:eu-west-1:123456789012:task/prod/0123',
    'arn:aws:ecs:eu-west-1:12345:service/prod/web',
    'arn:aws:ecs:eu-west-1:123456789012:service/prod/web/extra',
  ])('refuses %s', (arn) => {
    expect(parseServiceArn(arn)).toBeUndefined();
  });

  // ECS names a cluster and a service with 1 to 255 letters, digits, "-" and "_".
  test('a cluster or service name of 255 characters is taken, one of 256 is not', () => {
    const at = (cluster: string, service: string) =>
      parseServiceArn(`arn:aws:ecs:eu-west-1:123456789012:service/${cluster}/${service}`);
    const longest = 'a'.repeat(255);
    expect(at(longest, longest)).toMatchObject({ cluster: longest, service: longest });
    expect(at(`${longest}a`, 'web')).toBeUndefined();
    expect(at('prod', `${longest}a`)).toBeUndefined();
  });
});

describe('handler', () => {
  const saved = process.env;
  afterEach(() => {
    process.env = saved;
  });

  test('restarts the services of its environment', async () => {
    ecs.on(UpdateServiceCommand).resolves({});
    process.env = { ...saved, AWS_REGION: 'eu-west-1', [SERVICES_VARIABLE]: JSON.stringify([WEB]) };
    const spy = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const { handler } = jest.requireActual<typeof import('../../lambda/restart-ecs-services/index')>(
        '../../lambda/restart-ecs-services/index',
      );
      await expect(handler({}, {} as Context, () => undefined)).resolves.toEqual({ restarted: ['prod/web'] });
    } finally {
      spy.mockRestore();
    }
    expect(ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'prod', service: 'web', forceNewDeployment: true },
    ]);
  });
});
