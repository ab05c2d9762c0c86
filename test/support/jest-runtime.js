// jest's module runtime, with each module compiled once per worker (see script-cache.js).
// jest runs one test file at a time in a worker: the runtime created last is the one running.
const Runtime = require('jest-runtime').default;
const { createScriptCompiler } = require('./script-cache');

/** @type {{ runtime?: CachedScriptRuntime }} */
const running = {};
/** One compiler per module parameter list (a jest config option can add parameters). */
const compilers = new Map();

class CachedScriptRuntime extends Runtime {
  constructor(...args) {
    super(...args);
    running.runtime = this;
    const executor = this.executor;
    if (typeof executor?.compile !== 'function' || !Array.isArray(executor.injectedModuleParameters)) {
      // jest-runtime 30 keeps its compile step on `executor`: fail loudly rather than run slow.
      throw new Error('test/support/jest-runtime.js: jest-runtime has no executor.compile; update this file');
    }
    this.jestCompile = executor.compile.bind(executor);
    const parameters = executor.injectedModuleParameters;
    const key = parameters.join();
    if (!compilers.has(key)) {
      compilers.set(
        key,
        createScriptCompiler({
          parameters,
          fallback: (source, filename) => running.runtime.jestCompile(source, filename),
          importModuleDynamically: (specifier, filename, attributes) =>
            running.runtime.executor.dynamicImport(
              specifier,
              filename,
              running.runtime._environment.getVmContext(),
              attributes,
            ),
        }),
      );
    }
    const compiler = compilers.get(key);
    executor.compile = (source, filename) =>
      compiler.compile(source, filename, this._environment.getVmContext());
  }
}

module.exports = CachedScriptRuntime;
