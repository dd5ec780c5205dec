import ts from 'typescript';

/** One export of an entry point, as a reviewer reads it. */
export interface PublicExport {
  name: string;
  kind: 'class' | 'function' | 'const' | 'interface' | 'type' | 'enum' | 'namespace';
  /** True when the declaration carries a doc comment. */
  documented: boolean;
}

function kindOf(declaration: ts.Declaration): PublicExport['kind'] {
  if (ts.isClassDeclaration(declaration)) return 'class';
  if (ts.isFunctionDeclaration(declaration)) return 'function';
  if (ts.isInterfaceDeclaration(declaration)) return 'interface';
  if (ts.isTypeAliasDeclaration(declaration)) return 'type';
  if (ts.isEnumDeclaration(declaration)) return 'enum';
  if (ts.isModuleDeclaration(declaration)) return 'namespace';
  return 'const';
}

/**
 * The exports of each entry file (TypeScript source or declarations), resolved
 * through re-exports to their declarations: name, kind, and whether they carry
 * TSDoc. Sorted by name.
 */
export function publicExports(entryFiles: readonly string[]): Map<string, PublicExport[]> {
  const program = ts.createProgram([...entryFiles], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    types: ['node'],
  });
  const checker = program.getTypeChecker();
  const result = new Map<string, PublicExport[]>();
  for (const file of entryFiles) {
    const source = program.getSourceFile(file);
    if (source === undefined) throw new Error(`cannot read ${file}`);
    const module = checker.getSymbolAtLocation(source);
    const exports: PublicExport[] = [];
    for (const symbol of module === undefined ? [] : checker.getExportsOfModule(module)) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const declaration = target.declarations?.[0];
      if (declaration === undefined) continue;
      const documented = target.getDocumentationComment(checker).length > 0;
      exports.push({ name: symbol.getName(), kind: kindOf(declaration), documented });
    }
    exports.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    result.set(file, exports);
  }
  return result;
}

/** Public members (methods, properties, accessors) of an exported class that lack TSDoc. */
export function undocumentedClassMembers(entryFiles: readonly string[]): string[] {
  const program = ts.createProgram([...entryFiles], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    types: ['node'],
  });
  const checker = program.getTypeChecker();
  const missing: string[] = [];
  for (const file of entryFiles) {
    const source = program.getSourceFile(file);
    const module = source === undefined ? undefined : checker.getSymbolAtLocation(source);
    for (const symbol of module === undefined ? [] : checker.getExportsOfModule(module)) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const declaration = target.declarations?.[0];
      if (declaration === undefined || !ts.isClassDeclaration(declaration)) continue;
      for (const member of declaration.members) {
        const modifiers = ts.getCombinedModifierFlags(member);
        if (modifiers & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
        if (member.name !== undefined && ts.isPrivateIdentifier(member.name)) continue;
        if (ts.isConstructorDeclaration(member) || ts.isClassStaticBlockDeclaration(member)) continue;
        if (ts.isSemicolonClassElement(member)) continue;
        const name = member.name?.getText() ?? '?';
        // Documentation inherited from an implemented interface (the store contract) counts.
        const memberSymbol = member.name === undefined ? undefined : checker.getSymbolAtLocation(member.name);
        if ((memberSymbol?.getDocumentationComment(checker).length ?? 0) === 0)
          missing.push(`${symbol.getName()}.${name}`);
      }
    }
  }
  return missing;
}
