// Compiles each module's source once per jest worker and runs it in every test file's context.
//
// jest gives each test file a fresh vm context and compiles every module it loads again with
// vm.compileFunction, which V8 does not cache: each construct test re-parsed aws-cdk-lib, and
// compiling was a third of jest's CPU. A vm.Script is compiled once and can run in any context;
// running it yields a new module function per context, so each test file still gets its own
// module instances and state, as before. Only the compiled code (bytecode included) is shared.
// A worker keeps each module's source (to see a change) and its Script until it exits.
const path = require('node:path');
const vm = require('node:vm');

/**
 * @param {object} options
 * @param {string[]} options.parameters the module function's parameter names, in order
 * @param {(specifier: string, filename: string, attributes: object, phase?: string) => Promise<unknown>} options.importModuleDynamically
 *   import() from a module: a Script outlives the test file that compiled it, so this must
 *   resolve against the test file running now
 */
function createScriptCompiler({ parameters, importModuleDynamically }) {
  // The wrapper shares line 1 with the source; the column offset keeps stack positions exact.
  const prefix = `(function (${parameters.join(', ')}) {`;
  /** @type {Map<string, { source: string, script: vm.Script }>} */
  const scripts = new Map();
  const stats = { compiled: 0, reused: 0 };

  /**
   * The module function of `source` in `context`, or null when the context is gone. `fallback`
   * (jest's own compile) gets a source that is not a valid function body, so its error is jest's.
   */
  function compile(source, filename, context, fallback) {
    if (context == null) return null;
    let entry = scripts.get(filename);
    if (entry === undefined || entry.source !== source) {
      // Only a valid function body keeps the wrapper whole: `}); x(); (function () {` would
      // otherwise compile, run x() and hand back the wrong function. A package's file needs no
      // check: Node loads it as a function body (compileFunction), so a package whose file is not
      // one fails everywhere; checking each package file doubled the compile time of the tests.
      if (!isPackageFile(filename)) {
        try {
          vm.compileFunction(source, parameters, { filename });
        } catch {
          return fallback(source, filename);
        }
      }
      let script;
      try {
        script = new vm.Script(`${prefix}${source}\n})`, {
          filename,
          columnOffset: -prefix.length,
          importModuleDynamically: (specifier, _script, attributes, phase) =>
            importModuleDynamically(specifier, filename, attributes, phase),
        });
      } catch {
        // A package file that is not CommonJS (ES module syntax): jest's compile gives jest's error.
        return fallback(source, filename);
      }
      entry = { source, script };
      scripts.set(filename, entry);
      stats.compiled += 1;
    } else {
      stats.reused += 1;
    }
    return entry.script.runInContext(context);
  }

  return { compile, stats };
}

/** A path inside a package: Node, like jest, finds packages in node_modules folders. */
const isPackageFile = (filename) => filename.includes(`${path.sep}node_modules${path.sep}`);

/**
 * A worker's sources of package files. jest reads a module's file again in every test file, even
 * when its transform result is cached (most of jest's own time in loading a test file's modules);
 * a package does not change while the tests run. A file of this repository is read each time, as
 * jest reads it.
 * @returns {(filename: string, read: (filename: string) => string) => string} the source of
 *   `filename`: `read(filename)`, unless it is a package file read before
 */
function createPackageSources() {
  /** @type {Map<string, string>} */
  const sources = new Map();
  return (filename, read) => {
    if (!isPackageFile(filename)) return read(filename);
    let source = sources.get(filename);
    if (source === undefined) {
      source = read(filename);
      sources.set(filename, source);
    }
    return source;
  };
}

module.exports = { createScriptCompiler, createPackageSources };
