/**
 * Writes EMF documents (metrics.ts, health-metrics.ts), one a line, straight to stdout.
 *
 * Lambda's Node.js runtime wraps what `console.log` writes: behind a timestamp, request id and
 * level in the text log format, and as the "message" string of an object of its own in the JSON
 * log format, from which CloudWatch Logs extracts no metric. A line written to stdout reaches the
 * log as it is in either format, so a function switched to JSON logs (by hand, or by an Aspect of
 * the app the construct lives in) keeps its metrics and the alarms on them. AWS's EMF client
 * libraries write the same way for the same reason.
 */
export function writeEmf(lines: Iterable<string>): void {
  for (const line of lines) process.stdout.write(`${line}\n`);
}
