/**
 * `attempt`, made again after each of `waits` (milliseconds, through `wait`) when it fails with an
 * error `retryable` accepts; throws the last error. For the few retries a step adds beyond the AWS
 * SDK's own, or for a call the SDK does not make (a custom resource's answer).
 */
export async function retried<T>(
  attempt: () => Promise<T>,
  wait: (ms: number) => Promise<unknown>,
  waits: readonly number[],
  retryable: (error: unknown) => boolean = () => true,
): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (tries >= waits.length || !retryable(error)) throw error;
      await wait(waits[tries]);
    }
  }
}
