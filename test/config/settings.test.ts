import * as path from 'node:path';
import ts from 'typescript';

/*
 * SesSmtp's props as a library user's editor shows them: every field of lib/config/settings.ts
 * has documentation, and every optional one says its default. (That the interfaces match the zod
 * schema is checked by the type-check: SettingsMatchTheSchema.)
 */

const FILE = path.join(__dirname, '..', '..', 'lib', 'config', 'settings.ts');

function members(): { name: string; optional: boolean; doc: string; tags: string[] }[] {
  // The file alone (noResolve): the documentation needs none of its imports.
  const program = ts.createProgram([FILE], { noEmit: true, noResolve: true, noLib: true, types: [] });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(FILE)!;
  const out: { name: string; optional: boolean; doc: string; tags: string[] }[] = [];
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node)) return;
    for (const member of node.members) {
      if (!ts.isPropertySignature(member)) continue;
      const symbol = checker.getSymbolAtLocation(member.name)!;
      out.push({
        name: `${node.name.text}.${symbol.name}`,
        optional: member.questionToken !== undefined,
        doc: ts.displayPartsToString(symbol.getDocumentationComment(checker)),
        tags: symbol.getJsDocTags(checker).map((t) => t.name),
      });
    }
  });
  return out;
}

test("every field of SesSmtp's settings is documented, and every optional one names its default", () => {
  const all = members();
  expect(all.length).toBeGreaterThan(40);
  // "mode" is the union's discriminant, and the alarm levels are named by their interface.
  const undocumented = all.filter(
    (m) => !m.doc && !m.tags.includes('default') && !/\.(mode|warning|critical)$/.test(m.name),
  );
  expect(undocumented.map((m) => m.name)).toEqual([]);
  expect(all.filter((m) => m.optional && !m.tags.includes('default')).map((m) => m.name)).toEqual([]);
});
