import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// Plain CommonJS: jest loads its global setup without transforming it.
// oxlint-disable-next-line typescript/no-require-imports
const setup = require('../global-setup') as {
  runTmpBase(options: {
    platform?: string;
    shm?: string;
    tmpdir?: string;
    fsApi?: Pick<typeof fs, 'accessSync' | 'statfsSync'>;
    executable?: (dir: string) => boolean;
  }): string;
  canExecuteIn(dir: string): boolean;
  removeStaleRuns(base: string, now?: number): void;
  makeRunFolder(options: { platform?: string; tmpdir?: string }, now?: number): { base: string; dir: string };
  SHM_MIN_FREE: number;
  STALE_RUN_MS: number;
  RUN_TMP_PREFIX: string;
  RUN_TMP_BASE_VARIABLE: string;
};
const {
  runTmpBase,
  canExecuteIn,
  removeStaleRuns,
  makeRunFolder,
  SHM_MIN_FREE,
  STALE_RUN_MS,
  RUN_TMP_PREFIX,
  RUN_TMP_BASE_VARIABLE,
} = setup;

/** A file system whose /dev/shm has `free` bytes free, or is not writable. */
const shmWith = (free: number, writable = true): Pick<typeof fs, 'accessSync' | 'statfsSync'> => ({
  accessSync: () => {
    if (!writable) throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
  },
  statfsSync: (() => ({ bavail: free / 4096, bsize: 4096 })) as unknown as typeof fs.statfsSync,
});

describe("the run's temporary folder (test/global-setup.js)", () => {
  const base = { shm: '/dev/shm', tmpdir: '/tmp', executable: () => true };

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

  test("os.tmpdir() where /dev/shm is mounted noexec: the tests run scripts from the run's folder", () => {
    const noexec = { ...base, executable: () => false };
    expect(runTmpBase({ ...noexec, platform: 'linux', fsApi: shmWith(SHM_MIN_FREE) })).toBe('/tmp');
  });

  test('a folder programs can run from is told from one they cannot (here: one that is not there)', () => {
    expect(canExecuteIn(os.tmpdir())).toBe(true);
    expect(canExecuteIn(path.join(os.tmpdir(), 'no-such-folder'))).toBe(false);
    // The probe leaves nothing behind.
    expect(fs.readdirSync(os.tmpdir()).filter((e) => e.startsWith('ses-smtp-exec-'))).toEqual([]);
  });

  test('the folder of this run is in the place the global setup chose, and is writable', () => {
    const dir = process.env.TMPDIR ?? '';
    expect(path.dirname(dir)).toBe(process.env[RUN_TMP_BASE_VARIABLE]);
    fs.writeFileSync(`${dir}/probe`, 'x');
    expect(fs.readFileSync(`${dir}/probe`, 'utf8')).toBe('x');
  });

  /** A place with a killed run's folder, a running one's and someone else's, `now`. */
  function runsIn(place: string, now: number) {
    const folder = (name: string, ageMs: number) => {
      const dir = path.join(place, name);
      fs.mkdirSync(path.join(dir, 'cdk.out'), { recursive: true });
      fs.utimesSync(dir, new Date(now - ageMs), new Date(now - ageMs));
      return dir;
    };
    return [
      folder(`${RUN_TMP_PREFIX}killed`, STALE_RUN_MS + 60_000),
      folder(`${RUN_TMP_PREFIX}running`, STALE_RUN_MS - 60_000),
      folder('someone-elses', 7 * STALE_RUN_MS),
    ];
  }

  test("a killed run's folder (older than a day) is removed; a running one's, and others, are left", () => {
    const place = fs.mkdtempSync(path.join(os.tmpdir(), 'stale-'));
    const now = Date.now();
    const folders = runsIn(place, now);
    removeStaleRuns(place, now);
    expect(folders.map((d) => fs.existsSync(d))).toEqual([false, true, true]);
  });

  // What the global setup runs: the place runTmpBase picks, swept, then a folder of the run's own.
  test("the run's folder is made where runTmpBase picks, after the sweep of killed runs there", () => {
    const place = fs.mkdtempSync(path.join(os.tmpdir(), 'base-'));
    const now = Date.now();
    const folders = runsIn(place, now);
    const { base, dir } = makeRunFolder({ platform: 'darwin', tmpdir: place }, now);
    expect(base).toBe(place);
    expect(path.dirname(dir)).toBe(place);
    expect(path.basename(dir)).toMatch(new RegExp(`^${RUN_TMP_PREFIX}.{6}$`));
    expect(fs.statSync(dir).isDirectory()).toBe(true);
    expect(folders.map((d) => fs.existsSync(d))).toEqual([false, true, true]);
  });
});
