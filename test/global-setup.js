// Construct tests synthesize NodeFunctions, which use the prebuilt Lambda bundles: build them
// once before the tests when a Lambda source or the lock file changed since the last build.
// Also the app as cdk.json runs it (.build/app.js): a test runs it under plain Node; and the CLI
// (.build/ses-smtp.js), which tests start in a process of its own without a TypeScript loader.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = () => {
  execFileSync(
    process.execPath,
    [path.join(__dirname, '..', 'scripts', 'build.mjs'), 'lambdas', 'app', 'cli', '--if-stale'],
    {
      stdio: 'inherit',
    },
  );
};
