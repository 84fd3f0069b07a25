// Writes dsl/cst-types.generated.ts: chevrotain's CST types for dsl/parser.ts, plus
// CstChildKey (every child key of every rule) so the CST visitor's string keys are type-checked.
// Deterministic output; `--check` exits 1 when the file on disk has drifted from the grammar.
// Usage: npx tsx scripts/gen-cst-types.ts [--check]

import { readFileSync, writeFileSync } from 'node:fs';
import { generateCstDts } from 'chevrotain';
import { AbitParser } from '../dsl/parser.ts';

export const CST_TYPES_FILE = 'dsl/cst-types.generated.ts';

export function cstTypesSource(): string {
  const dts = generateCstDts(new AbitParser().getGAstProductions(), { includeVisitorInterface: false })
    .replace('import type { CstNode, ICstVisitor, IToken }', 'import type { CstNode, IToken }');
  const children = [...dts.matchAll(/^export type (\w+CstChildren) = \{/gm)].map((m) => m[1] as string);
  return [
    '// GENERATED FILE: do not edit. Regenerate with `npx tsx scripts/gen-cst-types.ts`.',
    '// The chevrotain CST types of dsl/parser.ts (generateCstDts), plus CstChildKey, the union of',
    '// every rule\'s child keys. test/golden/dsl-cst-types.test.ts fails when this file drifts.',
    '',
    dts.trimEnd(),
    '',
    `export type CstChildKey =\n${children.map((c) => `  | keyof ${c}`).join('\n')};`,
    '',
  ].join('\n');
}

function main(): void {
  const want = cstTypesSource();
  let have = '';
  try {
    have = readFileSync(CST_TYPES_FILE, 'utf8');
  } catch {
    // A missing file counts as drift under --check and is written otherwise.
  }
  if (process.argv.includes('--check')) {
    if (have !== want) {
      console.error(`${CST_TYPES_FILE} is out of date with dsl/parser.ts; run: npx tsx scripts/gen-cst-types.ts`);
      process.exit(1);
    }
    console.log(`${CST_TYPES_FILE} is up to date`);
    return;
  }
  if (have !== want) writeFileSync(CST_TYPES_FILE, want);
  console.log(`${have === want ? 'unchanged' : 'wrote'} ${CST_TYPES_FILE}`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
