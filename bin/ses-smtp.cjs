#!/usr/bin/env node
// Operator CLI entry: runs the TypeScript sources through tsx (no build step). tsx's full loader
// (not only tsx/cjs): commands load with import() when they run.
// The SDK's notice that it will need Node.js 22 from 2027 would precede every answer on Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import('tsx')
  .then(() => require('../lib/cli/main.ts').main(process.argv.slice(2)))
  .then((code) => {
    process.exitCode = code;
  });
