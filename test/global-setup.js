// Construct tests synthesize NodeFunctions, which use the prebuilt Lambda bundles: build them
// once before the tests when a Lambda source or the lock file changed since the last build.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = () => {
  execFileSync(
    process.execPath,
    [path.join(__dirname, '..', 'scripts', 'build.mjs'), 'lambdas', '--if-stale'],
    {
      stdio: 'inherit',
    },
  );
};
