import * as fs from 'node:fs';
import * as path from 'node:path';

// Plain CommonJS: jest loads its global setup without transforming it.
// oxlint-disable-next-line typescript/no-require-imports
const { runTmpBase, SHM_MIN_FREE } = require('../global-setup') as {
  runTmpBase(options: {
    platform?: string;
    shm?: string;
    tmpdir?: string;
    fsApi?: Pick<typeof fs, 'accessSync' | 'statfsSync'>;
  }): string;
  SHM_MIN_FREE: number;
};

/** A file system whose /dev/shm has `free` bytes free, or is not writable. */
const shmWith = (free: number, writable = true): Pick<typeof fs, 'accessSync' | 'statfsSync'> => ({
  accessSync: () => {
    if (!writable) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
  },
  statfsSync: (() => ({ bavail: free / 4096, bsize: 4096 })) as unknown as typeof fs.statfsSync,
});

describe("the run's temporary folder (test/global-setup.js)", () => {
  const base = { shm: '/dev/shm', tmpdir: '/tmp' };

  test('/dev/shm on Linux with room enough, from its least free space up', () => {
    expect(runTmpBase({ ...base, platform: 'linux', fsApi: shmWith(SHM_MIN_FREE) })).toBe('/dev/shm');
    expect(runTmpBase({ ...base, platform: 'linux', fsApi: shmWith(24 * 1024 ** 3) })).toBe('/dev/shm');
  });

  test("os.tmpdir() where /dev/shm has less room (a container's 64 MB), is not writable, or is not there", () => {
    expect(runTmpBase({ ...base, platform: 'linux', fsApi: shmWith(SHM_MIN_FREE - 4096) })).toBe('/tmp');
    expect(runTmpBase({ ...base, platform: 'linux', fsApi: shmWith(64 * 1024 ** 2) })).toBe('/tmp');
    expect(runTmpBase({ ...base, platform: 'linux', fsApi: shmWith(SHM_MIN_FREE, false) })).toBe('/tmp');
    expect(runTmpBase({ platform: 'linux', shm: '/no/such/shm', tmpdir: '/tmp' })).toBe('/tmp');
  });

  test('os.tmpdir() on other systems, whatever they have at /dev/shm', () => {
    for (const platform of ['darwin', 'win32', 'freebsd'])
      expect(runTmpBase({ ...base, platform, fsApi: shmWith(SHM_MIN_FREE) })).toBe('/tmp');
  });

  test('the folder of this run is in /dev/shm exactly when runTmpBase picks it here, and is writable', () => {
    // os.tmpdir() in a worker is the run's folder itself: ask with a stand-in for it.
    const dir = process.env.TMPDIR ?? '';
    expect(path.dirname(dir) === '/dev/shm').toBe(runTmpBase({ tmpdir: '(os.tmpdir())' }) === '/dev/shm');
    fs.writeFileSync(`${dir}/probe`, 'x');
    expect(fs.readFileSync(`${dir}/probe`, 'utf8')).toBe('x');
  });
});
