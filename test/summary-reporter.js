// Prints jest's totals as one plain line ("N passed, N failed") and keeps it in
// .jest-summary, so .ci/run can repeat it as its closing line after the synth. A test file that
// failed outside its tests (a syntax error, a crashed worker, a failing afterAll) may have no
// failed test to count: it is named in the line, so that "0 failed" never stands beside a failed run.
const fs = require('node:fs');

/** The closing line for jest's aggregated results. */
function summaryLine(results) {
  const line = `${results.numPassedTests} passed, ${results.numFailedTests} failed`;
  const broken = results.numRuntimeErrorTestSuites ?? 0;
  return broken ? `${line}, ${broken} test file${broken === 1 ? '' : 's'} failed outside any test` : line;
}

module.exports = class SummaryReporter {
  constructor(_globalConfig, options = {}) {
    this.file = options.file ?? '.jest-summary';
  }

  onRunComplete(_contexts, results) {
    const line = summaryLine(results);
    fs.writeFileSync(this.file, `${line}\n`);
    process.stdout.write(`${line}\n`);
  }
};
module.exports.summaryLine = summaryLine;
