#!/usr/bin/env node
// Operator CLI entry (package "bin"): compiled to dist/bin/ses-smtp.js, runs without a TypeScript loader.

// The SDK's notice that it will need Node.js 22 from 2027 would precede every answer on Node 20.
// Set before the CLI (and with it any AWS SDK client) is loaded, hence the require below.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// oxlint-disable-next-line typescript/no-require-imports
const { main } = require('../lib/cli/main') as typeof import('../lib/cli/main');

// A reader that went away (`ses-smtp doctor | head -3`) wants no more output: the command still
// runs to its end and exits with its own code (a revoke cut off half-way must not report success);
// the lines it writes after that go nowhere. Any other failure to write stdout (a full disk) is
// one line, exit 1, not Node's stack trace. Errors of stderr itself have no one left to tell.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') return;
  process.stderr.write(`ses-smtp: cannot write the output: ${e.message}\n`);
  process.exit(1);
});
process.stderr.on('error', () => undefined);

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
