import * as fs from 'node:fs';
import * as path from 'node:path';

/*
 * The AWS calls a CLI command can make, read from the code: the SDK commands (`new XxxCommand(`)
 * in its entry function and in every declaration it names, followed into the project's files it
 * imports (the health checks, another command's helpers). A declaration counts whole (a class,
 * all its methods), so this may find more than one run makes, never less.
 */

const CLI = path.join(__dirname, '..', '..', 'lib', 'cli');
/** The module a command runs and its entry function: what the command table imports for its key. */
const table = fs.readFileSync(path.join(CLI, 'command-table.ts'), 'utf8');
export function commandEntry(name: string): { file: string; fn: string } {
  const at = table.search(new RegExp(`\\n  '?${name}'?: \\{`));
  // Its run's import: an option's check may load the module too, for another function.
  const [, file, fn] =
    /run: async [^=]*=>\s*\(await import\('\.\/commands\/([a-z-]+)\.js'\)\)\.([A-Za-z]+)\(/.exec(
      table.slice(at),
    )!;
  return { file: path.join(CLI, 'commands', `${file}.ts`), fn };
}

/**
 * A source file as top-level declarations (each from its line to the next one's) and the names
 * it imports from the project's own files (static imports and `await import(...)`).
 */
const parsed = new Map<string, { decls: Map<string, string>; imports: Map<string, string> }>();
const parse = (file: string) => {
  let found = parsed.get(file);
  if (found) return found;
  // Without comments: a name in one is no call.
  const text = fs
    .readFileSync(file, 'utf8')
    .replace(/\/\*[^]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const resolve = (spec: string) => path.resolve(path.dirname(file), spec.replace(/\.js$/, '') + '.ts');
  const imports = new Map<string, string>();
  for (const [, names, spec] of text.matchAll(
    /(?:import|const)\s+(?:type\s+)?\{([^}]*)\}\s*(?:from\s+|=\s*await\s+import\()'(\.[^']+)'/g,
  ))
    for (const item of names.split(',')) {
      const local = item
        .replace(/^\s*type\s+/, '')
        .split(/\s+as\s+/)
        .pop()!
        .trim();
      if (local) imports.set(local, resolve(spec));
    }
  const decls = new Map<string, string>();
  const starts = [
    ...text.matchAll(
      /^(?:export\s+)?(?:async\s+)?(?:function\*?|const|let|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/gm,
    ),
  ];
  starts.forEach((m, i) => decls.set(m[1], text.slice(m.index, starts[i + 1]?.index ?? text.length)));
  found = { decls, imports };
  parsed.set(file, found);
  return found;
};
/** The actions (`new XxxCommand(` names) reachable from `fn` of `file`, through the declarations it names. */
export function cliActions(file: string, fn: string): string[] {
  const actions = new Set<string>();
  const seen = new Set<string>();
  const visit = (f: string, name: string) => {
    const key = `${f}#${name}`;
    if (seen.has(key) || !fs.existsSync(f)) return;
    seen.add(key);
    const { decls, imports } = parse(f);
    const body = decls.get(name);
    if (body === undefined) return;
    for (const [, action] of body.matchAll(/new ([A-Z][A-Za-z]+)Command\(/g)) actions.add(action);
    for (const [word] of body.matchAll(/[A-Za-z_$][\w$]*/g)) {
      if (word !== name && decls.has(word)) visit(f, word);
      else if (imports.has(word)) visit(imports.get(word)!, word);
    }
  };
  visit(file, fn);
  return [...actions];
}
