import { connect } from 'node:net';
import { setTimeout as realSleep } from 'node:timers/promises';
import { startSmtpServer, TestSmtpServer } from './smtp-server';

let server: TestSmtpServer;
beforeAll(async () => {
  server = await startSmtpServer({ accept: () => true });
});
afterAll(() => server.close());
afterEach(() => jest.useRealTimers());

test('the test server greets without waiting on a timer (smtp-server waits 100 ms by default)', async () => {
  // On a frozen fake clock a greeting that waits on setTimeout never comes; a real 5 s guard ends the test.
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  const socket = connect(server.port, '127.0.0.1');
  const guard = new AbortController();
  try {
    const greeting = new Promise<string>((resolve) => socket.once('data', (d) => resolve(d.toString())));
    const timeout = realSleep(5000, 'no greeting', { signal: guard.signal }).catch(() => 'aborted');
    expect(await Promise.race([greeting, timeout])).toMatch(/^220 /);
  } finally {
    guard.abort();
    socket.destroy();
  }
});
