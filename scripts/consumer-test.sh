#!/usr/bin/env bash
# The package as a consumer gets it (`npm run test:consumer`; .ci/run runs it after `npm test`):
# npm pack, install the tarball into a fresh CDK app set up as `cdk init app --language typescript`
# sets one up (ts-node, TypeScript 5.x) with another aws-cdk-lib version inside our peer range,
# synthesize a stack using SesSmtp, a cross-stack grantRead and the ECS helper (with cdk-nag's
# AwsSolutions checks), assert on the templates, run the CLI from the installed package, and
# print the measured figures (CLI start, synth time against a bare app).
#
# CONSUMER_DIR=DIR keeps the consumer app there (reused by `npm run bench`);
# CONSUMER_CDK_LIB=VERSION picks the aws-cdk-lib version (default: the lowest of the peer range).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export CDK_DISABLE_CLI_TELEMETRY=true
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

peer_range="$(node -p 'require("./package.json").peerDependencies["aws-cdk-lib"]')"
cdk_lib="${CONSUMER_CDK_LIB:-${peer_range#^}}"
ours="$(node -p 'require("./package.json").devDependencies["aws-cdk-lib"]')"
cli_version="$(node -p 'require("./package.json").devDependencies["aws-cdk"]')"
if [ "$cdk_lib" = "$ours" ]; then
  echo "consumer test: aws-cdk-lib $cdk_lib is the version this repository builds with; pick another inside $peer_range" >&2
  exit 2
fi
work="${CONSUMER_DIR:-$(mktemp -d -t ses-smtp-consumer-XXXXXX)}"
mkdir -p "$work"
# A folder of its own (not CONSUMER_DIR, kept to look into) goes when the test ends: about 280 MB.
if [ -z "${CONSUMER_DIR:-}" ]; then trap 'rm -rf "$work"' EXIT; fi
app="$work/app"
rm -rf "$app" "$work"/*.tgz

echo "== npm pack (runs the build: tsc and the Lambda bundles)"
tarball="$work/$(npm pack --silent --pack-destination "$work" | tail -n 1)"
echo "   $tarball ($(du -k "$tarball" | cut -f1) KiB)"
node scripts/consumer-assert.mjs tarball "$tarball"
# npm pack rebuilt dist/ here: the repository's own `npx ses-smtp` runs package.json's bin file,
# which must still be executable.
echo "== npx ses-smtp --version in the repository, after npm pack"
test -x dist/bin/ses-smtp.js || { echo "dist/bin/ses-smtp.js is not executable after npm pack" >&2; exit 1; }
test "$(npx --no -- ses-smtp --version)" = "$(node -p 'require("./package.json").version')"

# The consumer's tsconfig is the older cdk init template's: no skipLibCheck, no esModuleInterop
# (today's template sets skipLibCheck). tsc then checks every declaration the package reaches: had
# they reached zod's, it would report errors inside those (colinhacks/zod#5160).
echo "== consumer app with aws-cdk-lib $cdk_lib (ours: $ours, peer range $peer_range), ts-node, TypeScript 5.x"
cp -R test/consumer-app "$app"
cd "$app"
cat > package.json <<JSON
{
  "name": "consumer",
  "version": "0.1.0",
  "private": true,
  "bin": { "consumer": "bin/consumer.js" },
  "scripts": { "build": "tsc", "cdk": "cdk" }
}
JSON
npm install --no-audit --no-fund --loglevel=error \
  "aws-cdk-lib@$cdk_lib" "constructs@^10.5.1" "cdk-nag@3.0.2" \
  "aws-cdk@$cli_version" "ts-node@^10.9.2" "typescript@~5.6.3" "@types/node@^20" \
  "$tarball"

# --strict: a warning fails the synth. The app has none of its own, and acknowledges the one
# SesSmtp gives it (its alarm topic is subscribed from another stack) as the README says.
echo "== cdk synth --strict (ts-node, cdk-nag AwsSolutions on every stack)"
npx cdk synth --quiet --strict -o cdk.out
node "$root/scripts/consumer-assert.mjs" synth "$app" "$cdk_lib"

echo "== the same app compiled by tsc and run by node (no TypeScript loader anywhere)"
npx tsc
npx cdk synth --quiet -a "node bin/consumer.js" -o cdk.out.js
node "$root/scripts/consumer-assert.mjs" same-templates "$app/cdk.out" "$app/cdk.out.js"
node "$root/scripts/consumer-assert.mjs" probe "$app"
node "$root/scripts/consumer-assert.mjs" api "$app"

echo "== the CLI from the installed package"
node "$root/scripts/consumer-assert.mjs" cli "$app"

echo "== measured"
node "$root/scripts/measure-consumer.mjs" "$app"
echo "consumer test passed"
