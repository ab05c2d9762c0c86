// A file that is there but that this user may not read. The tests may run as root, who reads any
// file whatever its mode: readFileSync answers as the kernel does for another user (EACCES, EPERM).
import { ConfigError, loadConfig } from '../../lib/config/load';

const UNREADABLE = '/srv/app/config/environments.json';

jest.mock('node:fs', () => {
  const actual = jest.requireActual<typeof import('node:fs')>('node:fs');
  return {
    ...actual,
    readFileSync: (file: unknown, ...rest: unknown[]) => {
      if (file === UNREADABLE) {
        const code = process.env.UNREADABLE_CODE ?? 'EACCES';
        throw Object.assign(new Error(`${code}: permission denied, open '${file}'`), { code });
      }
      return (actual.readFileSync as (...args: unknown[]) => unknown)(file, ...rest);
    },
  };
});

afterEach(() => {
  delete process.env.UNREADABLE_CODE;
});

test.each(['EACCES', 'EPERM'])(
  'a file this user may not read (%s): the fix is to let it read the file, not to create it',
  (code) => {
    process.env.UNREADABLE_CODE = code;
    expect(() => loadConfig(UNREADABLE, undefined, '--config PATH')).toThrow(
      new ConfigError([
        `${UNREADABLE}: cannot read the environments file (permission denied); let this user read it (ls -l shows its owner and mode) or pass --config PATH`,
      ]),
    );
  },
);
