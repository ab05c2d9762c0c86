import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as vm from 'node:vm';

type Fallback = (source: string, filename: string) => unknown;
interface ScriptCompiler {
  compile(
    source: string,
    filename: string,
    context: vm.Context | null,
    fallback?: Fallback,
  ): ModuleFunction | null;
  stats: { compiled: number; reused: number };
}
// Plain CommonJS: jest loads its runtime without transforming it.
// oxlint-disable-next-line typescript/no-require-imports
const { createScriptCompiler, createPackageSources } = require('./script-cache') as {
  createScriptCompiler(options: {
    parameters: string[];
    importModuleDynamically: (...args: unknown[]) => Promise<unknown>;
  }): ScriptCompiler;
  createPackageSources(): (filename: string, read: (filename: string) => string) => string;
};

const PARAMETERS = ['module', 'exports', 'require'];
type ModuleFunction = (
  module: { exports: Record<string, unknown> },
  exports: object,
  require: unknown,
) => void;

function compiler() {
  return createScriptCompiler({ parameters: PARAMETERS, importModuleDynamically: jest.fn() });
}
/** Loads `fn` as a module the way jest does: a fresh module object, `this` = its exports. */
function load(fn: ModuleFunction | null) {
  if (fn === null) throw new Error('no module function');
  const module = { exports: {} as Record<string, unknown> };
  fn.call(module.exports, module, module.exports, undefined);
  return module.exports;
}

const COUNTER = 'let n = 0; exports.next = () => ++n; exports.self = this === exports;';

test('a module is compiled once and runs in each context with its own state', () => {
  const { compile, stats } = compiler();
  const first = load(compile(COUNTER, '/m/counter.js', vm.createContext({})));
  const second = load(compile(COUNTER, '/m/counter.js', vm.createContext({})));

  expect(stats).toEqual({ compiled: 1, reused: 1 });
  expect([(first.next as () => number)(), (first.next as () => number)()]).toEqual([1, 2]);
  expect((second.next as () => number)()).toBe(1);
  expect(first.self).toBe(true);
});

test('the module runs in the context it is loaded into', () => {
  const { compile } = compiler();
  const source = 'exports.answer = globalThis.answer;';
  const a = load(compile(source, '/m/global.js', vm.createContext({ answer: 'a' })));
  const b = load(compile(source, '/m/global.js', vm.createContext({ answer: 'b' })));
  expect([a.answer, b.answer]).toEqual(['a', 'b']);
});

test('a changed source for the same file is compiled again', () => {
  const { compile, stats } = compiler();
  load(compile('exports.v = 1;', '/m/v.js', vm.createContext({})));
  const changed = load(compile('exports.v = 2;', '/m/v.js', vm.createContext({})));
  expect(changed.v).toBe(2);
  expect(stats).toEqual({ compiled: 2, reused: 0 });
});

test.each([
  ['on line 1', 'exports.f = () => { throw new Error("x"); };'],
  ['on a later line', '"use strict";\n\nexports.f = function () {\n    throw new Error("x");\n};'],
])('stack positions are those of the source as written (%s)', (_, source) => {
  const { compile } = compiler();
  const frame = (fn: ModuleFunction | null) => {
    try {
      (load(fn).f as () => void)();
    } catch (error) {
      return (error as Error).stack!.split('\n')[1];
    }
    return 'no error';
  };
  const reference = vm.compileFunction(source, PARAMETERS, { filename: '/m/throws.js' }) as ModuleFunction;
  expect(frame(compile(source, '/m/throws.js', vm.createContext({})))).toBe(frame(reference));
  expect(frame(reference)).toMatch(/\/m\/throws\.js:\d+:\d+\)$/);
});

test.each([
  ['a syntax error', 'exports.x = ;'],
  ['ES module syntax', 'export const x = 1;'],
  // Valid inside the wrapper only: it would close the wrapper, run code and return another function.
  ['a source that would close the wrapper', 'exports.x = 1;\n}); globalThis.escaped = 1; (function () {'],
])("%s goes to jest's own compile, is not run, and is not kept", (_, source) => {
  const fallback = jest.fn().mockReturnValue('from jest');
  const { compile, stats } = compiler();
  const context = vm.createContext({});
  expect(compile(source, '/m/bad.js', context, fallback)).toBe('from jest');
  expect(fallback).toHaveBeenCalledWith(source, '/m/bad.js');
  expect(context.escaped).toBeUndefined();
  expect(stats).toEqual({ compiled: 0, reused: 0 });
});

test("a package's file is compiled once; a file of this repository is checked first", () => {
  // The vm module script-cache.js calls (swc's `import * as vm` is a copy of it).
  // oxlint-disable-next-line typescript/no-require-imports
  const compileFunction = jest.spyOn(require('node:vm') as typeof vm, 'compileFunction');
  try {
    const { compile } = compiler();
    const packageFile = path.join(path.sep, 'app', 'node_modules', 'p', 'index.js');
    expect(load(compile('exports.x = 1;', packageFile, vm.createContext({})))).toEqual({ x: 1 });
    expect(compileFunction).not.toHaveBeenCalled();
    expect(load(compile('exports.x = 2;', '/m/x.js', vm.createContext({})))).toEqual({ x: 2 });
    expect(compileFunction).toHaveBeenCalledTimes(1);
  } finally {
    compileFunction.mockRestore();
  }
});

test("a package's file with ES module syntax goes to jest's own compile", () => {
  const fallback = jest.fn().mockReturnValue('from jest');
  const { compile, stats } = compiler();
  const packageFile = path.join(path.sep, 'app', 'node_modules', 'p', 'index.mjs');
  expect(compile('export const x = 1;', packageFile, vm.createContext({}), fallback)).toBe('from jest');
  expect(fallback).toHaveBeenCalledWith('export const x = 1;', packageFile);
  expect(stats).toEqual({ compiled: 0, reused: 0 });
});

test("a package's file is read once per worker (by the first test file's read); a file of this repository each time", () => {
  const sources = createPackageSources();
  const packageFile = path.join(path.sep, 'app', 'node_modules', 'p', 'index.js');
  const ownFile = path.join(path.sep, 'app', 'lib', 'x.js');
  const firstFile = jest.fn((filename: string) => `first ${filename}`);
  const secondFile = jest.fn((filename: string) => `second ${filename}`);
  expect(sources(packageFile, firstFile)).toBe(`first ${packageFile}`);
  expect(sources(ownFile, firstFile)).toBe(`first ${ownFile}`);
  expect(sources(packageFile, secondFile)).toBe(`first ${packageFile}`);
  expect(sources(ownFile, secondFile)).toBe(`second ${ownFile}`);
  expect(firstFile.mock.calls).toEqual([[packageFile], [ownFile]]);
  expect(secondFile.mock.calls).toEqual([[ownFile]]);
});

test('a disposed context (null) gives null, as jest expects', () => {
  expect(compiler().compile('exports.x = 1;', '/m/x.js', null)).toBeNull();
});

test('import() in a module reaches the importer with the specifier, the module file and the attributes', () => {
  // Node passes import() to the callback only with --experimental-vm-modules (as jest needs for ESM).
  const script = `
    const vm = require('node:vm');
    const { createScriptCompiler } = require(${JSON.stringify(path.join(__dirname, 'script-cache.js'))});
    const calls = [];
    const { compile } = createScriptCompiler({
      parameters: ['module', 'exports'],
      importModuleDynamically: async (...args) => {
        calls.push(args);
        const loaded = new vm.SyntheticModule([], () => {});
        await loaded.link(() => {});
        await loaded.evaluate();
        return loaded;
      },
    });
    const module = { exports: {} };
    compile('exports.load = () => import("./data.json", { with: { type: "json" } });', '/m/importer.js', vm.createContext({}))
      .call(module.exports, module, module.exports);
    module.exports.load().then(() => process.stdout.write(JSON.stringify(calls.map((c) => c.slice(0, 3)))), (e) => process.stdout.write(e.message));`;
  const result = spawnSync(process.execPath, ['--experimental-vm-modules', '--no-warnings', '-e', script], {
    encoding: 'utf8',
  });
  expect(JSON.parse(result.stdout)).toEqual([['./data.json', '/m/importer.js', { type: 'json' }]]);
});
