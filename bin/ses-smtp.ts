#!/usr/bin/env node
// Operator CLI entry (package "bin"): compiled to dist/bin/ses-smtp.js, runs without a TypeScript loader.

// The SDK's notice that it will need Node.js 22 from 2027 would precede every answer on Node 20.
// Set before the CLI (and with it any AWS SDK client) is loaded, hence the require below.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// oxlint-disable-next-line typescript/no-require-imports
const { main } = require('../lib/cli/main') as typeof import('../lib/cli/main');

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
