// jest's module runtime, with each module compiled once per worker and each package file read once
// (see script-cache.js).
const Runtime = require('jest-runtime').default;
const { createScriptCompiler, createPackageSources } = require('./script-cache');

/**
 * jest runs one test file at a time in a worker: the runtime created last is the one running.
 * An import() still pending from a test file that has ended resolves against the running one.
 * @type {{ runtime?: CachedScriptRuntime }}
 */
const running = {};
/** One compiler per module parameter list (a jest config option can add parameters). */
const compilers = new Map();
/** Each package file's source, read once per worker. */
const packageSources = createPackageSources();

class CachedScriptRuntime extends Runtime {
  constructor(...args) {
    super(...args);
    running.runtime = this;
    // V8 coverage maps positions in what V8 compiled: leave coverage runs to jest's own compile.
    if (this._coverageOptions?.collectCoverage) return;
    const executor = this.executor;
    const fileCache = this.fileCache;
    if (
      typeof executor?.compile !== 'function' ||
      !Array.isArray(executor.injectedModuleParameters) ||
      typeof fileCache?.readFile !== 'function'
    ) {
      // jest-runtime 30 keeps its compile step on `executor` and its file reads on `fileCache`:
      // fail loudly rather than run slow.
      throw new Error(
        'test/support/jest-runtime.js: jest-runtime has no executor.compile or fileCache; update this file',
      );
    }
    const read = fileCache.readFile.bind(fileCache);
    fileCache.readFile = (filename) => packageSources(filename, read);
    const jestCompile = executor.compile.bind(executor);
    const parameters = executor.injectedModuleParameters;
    const key = parameters.join();
    if (!compilers.has(key)) {
      compilers.set(
        key,
        createScriptCompiler({
          parameters,
          importModuleDynamically: (specifier, filename, attributes, phase) =>
            running.runtime.executor.dynamicImport(
              specifier,
              filename,
              running.runtime._environment.getVmContext(),
              attributes,
              phase,
            ),
        }),
      );
    }
    const compiler = compilers.get(key);
    executor.compile = (source, filename) =>
      // jest names a core module's script apart: its own compile handles those.
      executor.resolution?.isCoreModule(filename)
        ? jestCompile(source, filename)
        : compiler.compile(source, filename, this._environment.getVmContext(), jestCompile);
  }
}

module.exports = CachedScriptRuntime;
