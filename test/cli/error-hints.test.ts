import assert from 'node:assert/strict';
import { globSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { REPO_ROOT } from '../helpers/peers.ts';

/**
 * The README promises that every error names its fix. This guard reads the sources with the
 * TypeScript checker and finds every call that constructs a ProvenantError (`new
 * ProvenantError(…)`, and `super(…)` in its subclasses): the details argument must be there and
 * its type must have a `hint` that is a required string (not optional, never undefined), and a
 * literal hint must not be empty. Factories pass their own typed details on, so their callers are
 * held to the same rule by the type-check. A new error site without a fix line fails here.
 */
test('every ProvenantError in src is constructed with a fix line (hint)', { timeout: 120_000 }, () => {
  const files = globSync('src/**/*.ts', { cwd: REPO_ROOT }).map((f) => path.join(REPO_ROOT, f));
  const config = ts.getParsedCommandLineOfConfigFile(path.join(REPO_ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  assert.ok(config, 'tsconfig.json parses');
  const program = ts.createProgram(files, config.options);
  const checker = program.getTypeChecker();
  const errorsFile = path.join(REPO_ROOT, 'src/errors.ts');

  const constructsProvenantError = (node: ts.CallExpression | ts.NewExpression): boolean => {
    const decl = checker.getResolvedSignature(node)?.declaration;
    return (
      decl !== undefined &&
      ts.isConstructorDeclaration(decl) &&
      decl.getSourceFile().fileName === errorsFile &&
      ts.isClassDeclaration(decl.parent) &&
      decl.parent.name?.text === 'ProvenantError'
    );
  };
  const problems: string[] = [];
  let sites = 0;
  for (const file of files) {
    const sf = program.getSourceFile(file)!;
    const where = (n: ts.Node) => `${path.relative(REPO_ROOT, file)}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
    const visit = (node: ts.Node): void => {
      const isCall = ts.isNewExpression(node) || (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.SuperKeyword);
      if (isCall && constructsProvenantError(node)) {
        sites++;
        const details = node.arguments?.[2];
        if (!details) {
          problems.push(`${where(node)}: no details argument, so no hint`);
        } else {
          const hint = checker.getTypeAtLocation(details).getProperty('hint');
          const hintType = hint && checker.getTypeOfSymbolAtLocation(hint, details);
          const optional = hint !== undefined && (hint.flags & ts.SymbolFlags.Optional) !== 0;
          const maybeUndefined = hintType !== undefined && (hintType.isUnion() ? hintType.types : [hintType]).some((t) => (t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Any | ts.TypeFlags.Unknown)) !== 0);
          if (!hint || optional || maybeUndefined) problems.push(`${where(details)}: the hint is ${hint ? 'optional' : 'missing'}`);
          if (hintType?.isStringLiteral() && hintType.value.trim() === '') problems.push(`${where(details)}: the hint is empty`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  assert.ok(sites > 100, `found only ${sites} construction sites: the scan is broken`);
  assert.deepEqual(problems, [], `errors without a fix line:\n${problems.join('\n')}`);
});
