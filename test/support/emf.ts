/**
 * The rules of CloudWatch's Embedded Metric Format that make CloudWatch Logs drop a document (and
 * with it every metric the document declares, so that an alarm on them goes quiet):
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */

const UNITS = new Set([
  ...['Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes'],
  ...['Terabytes', 'Bits', 'Kilobits', 'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count'],
  ...['Bytes/Second', 'Kilobytes/Second', 'Megabytes/Second', 'Gigabytes/Second', 'Terabytes/Second'],
  ...['Bits/Second', 'Kilobits/Second', 'Megabits/Second', 'Gigabits/Second', 'Terabits/Second'],
  ...['Count/Second', 'None'],
]);

interface MetricDirective {
  Namespace?: unknown;
  Dimensions?: unknown;
  Metrics?: unknown;
}

/** What in one EMF line breaks the specification; none for a valid document. */
export function emfProblems(line: string): string[] {
  const problems: string[] = [];
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return [`not JSON: ${line.slice(0, 80)}`];
  }
  const aws = doc._aws as { Timestamp?: unknown; CloudWatchMetrics?: unknown } | undefined;
  if (typeof aws?.Timestamp !== 'number') problems.push('_aws.Timestamp is not a number of milliseconds');
  const directives = aws?.CloudWatchMetrics;
  if (!Array.isArray(directives) || directives.length === 0) return [...problems, 'no CloudWatchMetrics'];
  for (const { Namespace, Dimensions, Metrics } of directives as MetricDirective[]) {
    if (typeof Namespace !== 'string' || !/^[^:].{0,254}$/.test(Namespace))
      problems.push(`namespace ${JSON.stringify(Namespace)}`);
    for (const set of Array.isArray(Dimensions) ? (Dimensions as unknown[]) : []) {
      if (!Array.isArray(set) || set.length > 30) problems.push(`dimension set ${JSON.stringify(set)}`);
      for (const key of Array.isArray(set) ? set : [])
        if (typeof doc[key] !== 'string') problems.push(`dimension ${key}=${JSON.stringify(doc[key])}`);
    }
    if (!Array.isArray(Metrics) || Metrics.length === 0 || Metrics.length > 100) {
      problems.push('Metrics must list 1 to 100 metrics');
      continue;
    }
    for (const { Name, Unit } of Metrics as { Name?: unknown; Unit?: unknown }[]) {
      const value = doc[String(Name)];
      const values = Array.isArray(value) ? value : [value];
      if (typeof Name !== 'string' || values.length === 0 || values.length > 100)
        problems.push(`metric ${JSON.stringify(Name)}`);
      else if (values.some((v) => typeof v !== 'number' || !Number.isFinite(v)))
        problems.push(`value ${Name}=${JSON.stringify(value)}`);
      if (Unit !== undefined && !UNITS.has(String(Unit))) problems.push(`unit ${JSON.stringify(Unit)}`);
    }
  }
  return problems;
}

/** Throws, naming what is wrong, when a line is not a document CloudWatch keeps (for afterEach). */
export function assertValidEmf(lines: readonly string[]): void {
  const problems = lines.flatMap(emfProblems);
  if (problems.length) throw new Error(`EMF lines CloudWatch would drop: ${problems.join('; ')}`);
}
