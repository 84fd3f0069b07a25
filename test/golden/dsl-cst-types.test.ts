// The generated CST types (dsl/cst-types.generated.ts) must match what the grammar in
// dsl/parser.ts generates today; a grammar change without regenerating fails here with the fix
// (`npx tsx scripts/gen-cst-types.ts`). Byte-exact comparison; no GPU.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CST_TYPES_FILE, cstTypesSource } from '../../scripts/gen-cst-types.ts';

describe('generated CST types', () => {
  it('start with the do-not-edit line naming the regenerating command', () => {
    expect(readFileSync(CST_TYPES_FILE, 'utf8').split('\n')[0]).toBe('// GENERATED FILE: do not edit. Regenerate with `npx tsx scripts/gen-cst-types.ts`.');
  });

  it('have not drifted from dsl/parser.ts (regenerate with: npx tsx scripts/gen-cst-types.ts)', () => {
    expect(readFileSync(CST_TYPES_FILE, 'utf8')).toBe(cstTypesSource());
  });

  it('cover every grammar rule', () => {
    const text = cstTypesSource();
    for (const rule of ['program', 'statement', 'callOrName', 'namePiece']) expect(text).toContain(`name: "${rule}";`);
  });
});
