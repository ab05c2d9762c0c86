import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// Plain CommonJS, which jest loads untransformed as a reporter.
// oxlint-disable-next-line typescript/no-require-imports
const SummaryReporter = require('./summary-reporter') as {
  new (config: unknown, options: { file: string }): { onRunComplete(c: unknown, r: unknown): void };
  summaryLine(results: Record<string, number>): string;
};

test('the closing line counts the tests, and names test files that failed outside any test', () => {
  expect(SummaryReporter.summaryLine({ numPassedTests: 1753, numFailedTests: 0 })).toBe(
    '1753 passed, 0 failed',
  );
  // A crashed worker or a syntax error: no failed test, and still a failed run.
  expect(
    SummaryReporter.summaryLine({ numPassedTests: 1700, numFailedTests: 0, numRuntimeErrorTestSuites: 2 }),
  ).toBe('1700 passed, 0 failed, 2 test files failed outside any test');
  expect(
    SummaryReporter.summaryLine({ numPassedTests: 1, numFailedTests: 1, numRuntimeErrorTestSuites: 1 }),
  ).toBe('1 passed, 1 failed, 1 test file failed outside any test');
});

test('it writes the line where it is told, for .ci/run to repeat', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'summary-')), 'summary');
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    new SummaryReporter({}, { file }).onRunComplete(new Set(), { numPassedTests: 3, numFailedTests: 0 });
  } finally {
    write.mockRestore();
  }
  expect(fs.readFileSync(file, 'utf8')).toBe('3 passed, 0 failed\n');
});
