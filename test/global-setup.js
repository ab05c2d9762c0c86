// Construct tests synthesize NodeFunctions, which use the prebuilt Lambda bundles: build them
// once before the tests when a Lambda source or the lock file changed since the last build.
// Also the app as cdk.json runs it (.build/app.js): a test runs it under plain Node; and the CLI
// (.build/ses-smtp.js), which tests start in a process of its own without a TypeScript loader.
//
// Every temporary file of the run goes into one folder (TMPDIR, which os.tmpdir() and the
// processes the tests start read), removed by global-teardown.js: the tests' cdk.out folders,
// repository copies and configs took about 40 MB of /tmp per run, and filled a disk.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/** The prefix of a run's folder: global-teardown.js removes only a folder named so. */
const RUN_TMP_PREFIX = 'ses-smtp-tests-';

module.exports = () => {
  execFileSync(
    process.execPath,
    [path.join(__dirname, '..', 'scripts', 'build.mjs'), 'lambdas', 'app', 'cli', '--if-stale'],
    {
      stdio: 'inherit',
    },
  );
  // Set before jest starts its workers, which inherit it.
  process.env.TMPDIR = fs.mkdtempSync(path.join(os.tmpdir(), RUN_TMP_PREFIX));
};

module.exports.RUN_TMP_PREFIX = RUN_TMP_PREFIX;
