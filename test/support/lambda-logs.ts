/**
 * A function's log stream as CloudWatch Logs receives it from Lambda's Node.js runtime under the
 * JSON log format (Lambda Developer Guide, "Using structured JSON logs with Node.js"): the
 * runtime wraps each console line in an object of its own, the line becoming its "message", and
 * passes what is written to stdout as it is. CloudWatch extracts metrics only from an event that
 * is an EMF document itself. Call in a beforeEach; jest.restoreAllMocks() undoes it.
 */
export function captureLambdaLogs() {
  const events: string[] = [];
  const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR' } as const;
  for (const [method, level] of Object.entries(levels) as [keyof typeof levels, string][])
    jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      const message = args.join(' ');
      events.push(JSON.stringify({ timestamp: new Date().toISOString(), level, requestId: 'r-1', message }));
    });
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    events.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  const parsed = () => events.map((e) => JSON.parse(e) as Record<string, unknown>);
  return {
    /** Every log event, as written. */
    events,
    /** The EMF documents CloudWatch would turn into metrics. */
    metrics: () => parsed().filter((e) => '_aws' in e),
    /** The function's own log entries: the JSON line of each console call. */
    entries: () =>
      parsed()
        .filter((e) => !('_aws' in e))
        .map((e) => JSON.parse(String(e.message)) as Record<string, unknown>),
  };
}

/**
 * What Lambda's Node.js runtime logs of an error a handler throws: its name, message and code,
 * every enumerable property (of errors nested in it too) and its stack, as JSON (the runtime
 * interface client's toFormatted, src/Errors.js in aws/aws-lambda-nodejs-runtime-interface-client).
 */
export function runtimeErrorRecord(error: unknown): string {
  return JSON.stringify(error, (_key, value: unknown) => {
    if (!(value instanceof Error)) return value;
    return {
      errorType: value.name,
      errorMessage: value.message,
      code: (value as Error & { code?: unknown }).code,
      ...value,
      ...(typeof value.stack === 'string' && { stack: value.stack.split('\n') }),
    };
  });
}
