// Removes the run's temporary folder (see global-setup.js).
const fs = require('node:fs');
const path = require('node:path');
const { RUN_TMP_PREFIX } = require('./global-setup');

module.exports = () => {
  const dir = process.env.TMPDIR;
  if (dir && path.basename(dir).startsWith(RUN_TMP_PREFIX)) fs.rmSync(dir, { recursive: true, force: true });
};
