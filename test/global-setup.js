// Construct tests synthesize NodeFunctions, which use the prebuilt Lambda bundles: build them
// once before the tests when a Lambda source or the lock file changed since the last build.
// Also the app as cdk.json runs it (.build/app.js): a test runs it under plain Node; and the CLI
// (.build/ses-smtp.js), which tests start in a process of its own without a TypeScript loader.
//
// One self-signed certificate for the test SMTP and HTTPS servers on 127.0.0.1 (given to the
// workers in SES_SMTP_TEST_CERTIFICATE; test/support/smtp-server.ts): made in each test file, it
// cost loading selfsigned and a key pair there. ECDSA P-256: the tests need TLS, not RSA.
//
// Every temporary file of the run goes into one folder (TMPDIR, which os.tmpdir() and the
// processes the tests start read), removed by global-teardown.js: the tests' cdk.out folders,
// repository copies and configs took about 40 MB of /tmp per run, and filled a disk. On Linux the
// folder goes into /dev/shm (memory) when it has room: each synth writes a cdk.out folder of about
// 165 KB, and on this machine's disk (ext4) the writes cost about 2 s of a 28 s `npm test`.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/** The variable that gives the workers the certificate (test/support/smtp-server.ts reads it). */
const TEST_CERTIFICATE_VARIABLE = 'SES_SMTP_TEST_CERTIFICATE';

/** The variable that names where the run's folder was made. */
const RUN_TMP_BASE_VARIABLE = 'SES_SMTP_TEST_TMP_BASE';

/** The prefix of a run's folder: global-teardown.js removes only a folder named so. */
const RUN_TMP_PREFIX = 'ses-smtp-tests-';

/** The least free space /dev/shm must have to take the run's folder (a run writes about 40 MB). */
const SHM_MIN_FREE = 1024 ** 3;

/**
 * Whether a program written into `dir` can run: tests write shell scripts into the run's folder and
 * run them, and a /dev/shm mounted noexec (Docker's, hardened hosts') refuses that.
 */
function canExecuteIn(dir) {
  let probe;
  try {
    probe = fs.mkdtempSync(path.join(dir, 'ses-smtp-exec-'));
    const file = path.join(probe, 'probe.sh');
    fs.writeFileSync(file, '#!/bin/sh\n', { mode: 0o755 });
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  } finally {
    if (probe) fs.rmSync(probe, { recursive: true, force: true });
  }
}

/**
 * Where the run's folder goes: /dev/shm on Linux when it is writable, lets programs run and has
 * SHM_MIN_FREE free (a container's is often 64 MB), else os.tmpdir().
 */
function runTmpBase({
  platform = process.platform,
  shm = '/dev/shm',
  tmpdir = os.tmpdir(),
  fsApi = fs,
  executable = canExecuteIn,
} = {}) {
  if (platform !== 'linux') return tmpdir;
  try {
    fsApi.accessSync(shm, fs.constants.W_OK);
    const { bavail, bsize } = fsApi.statfsSync(shm);
    return bavail * bsize >= SHM_MIN_FREE && executable(shm) ? shm : tmpdir;
  } catch {
    return tmpdir;
  }
}

/** A run's folder older than this is left from a run that was killed (teardown never ran). */
const STALE_RUN_MS = 24 * 60 * 60 * 1000;

/** Removes the folders of killed runs in `base`: in /dev/shm they hold memory until a reboot. */
function removeStaleRuns(base, now = Date.now()) {
  for (const entry of fs.readdirSync(base, { withFileTypes: true })) {
    if (!entry.isDirectory() || !entry.name.startsWith(RUN_TMP_PREFIX)) continue;
    const dir = path.join(base, entry.name);
    try {
      if (now - fs.statSync(dir).mtimeMs > STALE_RUN_MS) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Another run's teardown got there first, or the folder is not ours to remove.
    }
  }
}

/**
 * Makes the run's folder where runTmpBase (given `options`) says, after removing killed runs'
 * folders there; returns it and its parent.
 */
function makeRunFolder(options = {}, now = Date.now()) {
  const base = runTmpBase(options);
  removeStaleRuns(base, now);
  return { base, dir: fs.mkdtempSync(path.join(base, RUN_TMP_PREFIX)) };
}

/** Runs the build (stale parts only); rejects when it fails. */
const build = () =>
  new Promise((resolve, reject) => {
    const script = path.join(__dirname, '..', 'scripts', 'build.mjs');
    const child = spawn(process.execPath, [script, 'lambdas', 'app', 'cli', '--if-stale'], {
      stdio: 'inherit',
    });
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`scripts/build.mjs ${signal ? `was ended by ${signal}` : `exited with ${code}`}`)),
    );
  });

const certificate = () =>
  require('selfsigned').generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });

module.exports = async () => {
  const [, { cert, private: key }] = await Promise.all([build(), certificate()]);
  // Set before jest starts its workers, which inherit them.
  process.env[TEST_CERTIFICATE_VARIABLE] = JSON.stringify({ cert, private: key });
  const { base, dir } = makeRunFolder();
  process.env.TMPDIR = dir;
  // The folder's parent, for test/support/run-tmp.test.ts (its free space may have changed since).
  process.env[RUN_TMP_BASE_VARIABLE] = base;
};

module.exports.RUN_TMP_PREFIX = RUN_TMP_PREFIX;
module.exports.TEST_CERTIFICATE_VARIABLE = TEST_CERTIFICATE_VARIABLE;
module.exports.runTmpBase = runTmpBase;
module.exports.SHM_MIN_FREE = SHM_MIN_FREE;
module.exports.canExecuteIn = canExecuteIn;
module.exports.removeStaleRuns = removeStaleRuns;
module.exports.makeRunFolder = makeRunFolder;
module.exports.STALE_RUN_MS = STALE_RUN_MS;
module.exports.RUN_TMP_BASE_VARIABLE = RUN_TMP_BASE_VARIABLE;
