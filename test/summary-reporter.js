// Prints jest's totals as one plain line ("N passed, N failed") and keeps it in
// .jest-summary, so .ci/run can repeat it as its closing line after the synth.
const fs = require('node:fs');

module.exports = class SummaryReporter {
  onRunComplete(_contexts, results) {
    const line = `${results.numPassedTests} passed, ${results.numFailedTests} failed`;
    fs.writeFileSync('.jest-summary', `${line}\n`);
    process.stdout.write(`${line}\n`);
  }
};
