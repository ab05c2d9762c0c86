#!/usr/bin/env node
// Operator CLI entry (package "bin"): compiled to dist/bin/ses-smtp.js, runs without a TypeScript loader.

// The SDK's notice that it will need Node.js 22 from 2027 would precede every answer on Node 20.
// Set before the CLI (and with it any AWS SDK client) is loaded, hence the require below.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// oxlint-disable-next-line typescript/no-require-imports
const { main } = require('../lib/cli/main') as typeof import('../lib/cli/main');

// A reader that went away (`ses-smtp doctor | head -3`) ends the command quietly: it wants
// no more; any other failure to write (a full disk) is one line, exit 1, not Node's stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(Number(process.exitCode ?? 0));
    if (stream === process.stdout) process.stderr.write(`ses-smtp: cannot write the output: ${e.message}\n`);
    process.exit(1);
  });
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
