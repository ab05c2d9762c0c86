// Plain CommonJS, which jest runs untransformed as its global setup.
// oxlint-disable-next-line typescript/no-require-imports
const { TEST_CERTIFICATE_VARIABLE } = require('../global-setup') as { TEST_CERTIFICATE_VARIABLE: string };

/**
 * The self-signed certificate for 127.0.0.1 and localhost that test/global-setup.js makes once
 * per run (making it cost each test file about 0.1 s of CPU, loading selfsigned as much again).
 */
export function testCertificate(): { cert: string; private: string } {
  const certificate = process.env[TEST_CERTIFICATE_VARIABLE];
  if (!certificate)
    throw new Error(`${TEST_CERTIFICATE_VARIABLE} is not set: run the tests with jest (npm test)`);
  return JSON.parse(certificate);
}
