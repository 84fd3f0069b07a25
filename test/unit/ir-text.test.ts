// The IR text form by hand: what people write (no type annotations, value lists, comments,
// unnamed nodes), the errors they get (all of them, each with line:col), and .abir files.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { interpret } from '../../src/interp/interpreter.ts';
import { f16BitsToNumber } from '../../src/ir/f16.ts';
import { formatTextErrors, GraphTextError, parseGraph, tryParseGraph, type TextError } from '../../src/ir/parse.ts';
import { printGraph } from '../../src/ir/print.ts';
import { loadGraph, saveGraph } from '../../src/ir/serialize.ts';
import { ndarray } from '../../src/ir/tensor.ts';
import { verifyGraph } from '../../src/ir/verify.ts';
import { graphDiff } from '../helpers/graph-equal.ts';

const HAND = `// a hand-written graph
graph hand(%x: f32[2,3]) -> (%y) {
  init %w: f32[3,2] = [1, 0, 0, 1, 1, 1]
  init %b: f32[2] = [0.5, -inf]
  init %h: f16[2] = [1.5, -2]
  %m = matmul(%x, %w)          // inferred: f32[2,2]
  %y: f32[2,2] = add(%m, %b)
  %z = relu(%y)
}
`;

function errorsOf(text: string): TextError[] {
  const r = tryParseGraph(text);
  if (r.ok) throw new Error('expected parse errors');
  return [...r.errors];
}

const at = (e: TextError): string => `${e.line}:${e.col} ${e.message}`;

describe('hand-written IR text', () => {
  it('parses with inferred types, value lists, comments and generated node names', () => {
    const g = parseGraph(HAND);
    expect(verifyGraph(g)).toEqual([]);
    expect(g.nodes.map((n) => n.name)).toEqual(['matmul', 'add', 'relu']);
    expect(g.values.get('m')).toEqual({ dtype: 'f32', shape: [2, 2] });
    expect(g.initializers.get('w')?.data).toEqual(new Float32Array([1, 0, 0, 1, 1, 1]));
    const h = g.initializers.get('h')?.data as Uint16Array;
    expect(h).toBeInstanceOf(Uint16Array);
    expect([...h].map(f16BitsToNumber)).toEqual([1.5, -2]);
    const out = interpret(g, { x: ndarray([2, 3], [1, 2, 3, 4, 5, 6]) }).get('y');
    expect([...(out?.data ?? [])]).toEqual([4.5, -Infinity, 10.5, -Infinity]);
  });

  it('prints what it parsed and parses that back unchanged', () => {
    const g = parseGraph(HAND);
    const text = printGraph(g, { data: true });
    expect(text).toContain('%m: f32[2,2] = matmul(%x, %w) @matmul');
    expect(graphDiff(parseGraph(text), g)).toEqual([]);
  });

  it('spells odd names, omitted inputs and every attr kind', () => {
    const g = parseGraph(`graph "g 1"(%"a b": f32[1,"n m"]) -> (%"c\\"d") {
  %"c\\"d" = clip(%"a b") {"x y"=[1,-0,inf,nan], k=[], s=["p","q\\n"], t=true, u=1e-300, v=-2.5e+30} @"node\\t1"
}`);
    expect(g.name).toBe('g 1');
    expect(g.inputs).toEqual(['a b']);
    expect(g.values.get('a b')?.shape).toEqual([1, 'n m']);
    const n = g.nodes[0];
    expect(n?.name).toBe('node\t1');
    expect(n?.attrs).toEqual({ 'x y': [1, -0, Infinity, NaN], k: [], s: ['p', 'q\n'], t: true, u: 1e-300, v: -2.5e30 });
    expect(Object.is((n?.attrs['x y'] as number[])[1], -0)).toBe(true);
    const gemm = parseGraph(`graph g(%a: f32[2,2], %b: f32[2,2]) -> (%y) {
  %y = gemm(%a, %b, _) {alpha=2} @mm
}`);
    expect(gemm.nodes[0]?.inputs).toEqual(['a', 'b', '']);
    expect(printGraph(gemm)).toContain('gemm(%a, %b, _)');
  });
});

describe('IR text errors', () => {
  it('reports every error with line:col and keeps going', () => {
    const errs = errorsOf(`graph g(%x: f32[2,3]) -> (%out, %ghost) {
  %a: f32[3,2] = relu(%x) @n1
  %b = frob(%x) @n2
  %c = relu(%nope) @n3
  %a = relu(%x) @n1
  %d = matmul(%x, %x) @n5
  %e = relu(%x @n6
  %out = add(%x, %x) junk
}`);
    expect(errs.map(at)).toEqual([
      "1:33 graph output %ghost is never defined",
      '2:3 %a is declared f32[3,2] but \'relu\' infers f32[2,3]',
      "3:8 unknown op 'frob'",
      '4:13 unknown value %nope (values must be defined above their first use)',
      '5:3 value %a is already defined',
      '5:17 node name @n1 is used twice',
      '6:8 matmul inner dimensions differ: A has K=3, B has K=2 [inputs: f32[2,3], f32[2,3]]',
      "7:16 expected ')' to close the inputs of 'relu', found node name @n6",
      "8:22 expected a line break after the statement, found 'junk'",
    ]);
  });

  it('rejects syntax problems with a precise position', () => {
    expect(errorsOf('graph g(%x: f33[2]) -> (%x) {\n}').map(at)).toEqual(["1:13 unknown dtype 'f33'"]);
    expect(errorsOf('graph g(%x: f32[2]) -> (%x) {\n  %y = relu(%x) {a=}\n}').map(at)).toEqual(["2:20 expected a number, found '}'"]);
    expect(errorsOf('graph g() -> () {\n  init %w: f32[2] = [1]\n}').map(at)).toEqual(['2:21 data has 1 elements, the shape needs 2']);
    expect(errorsOf('graph g() -> () {\n  init %w: f32[n] = [1]\n}').map(at)).toEqual(['2:12 initializer %w needs a concrete shape, got f32[n]']);
    expect(errorsOf('graph g() -> () {\n  init %w: f32[1] = b64"AAA"\n}').map(at)).toEqual(['2:24 base64 length 3 is not a multiple of 4']);
    expect(errorsOf('graph g() -> () {\n  %y = relu("x)\n}').map(at)[0]).toBe('2:13 unterminated string (strings end on the same line)');
    expect(errorsOf('graph g() -> () {\n}\nextra').map(at)).toEqual(["3:1 unexpected 'extra' after the closing '}'"]);
    expect(errorsOf('graph g(%x: f32[1]) -> () {\n  %y = relu(%x) ?\n}').map(at)).toEqual(['2:17 unexpected character "?"']);
    expect(errorsOf('grph g() -> () {}').map(at)[0]).toBe("1:1 expected 'graph', found 'grph'");
    expect(errorsOf('graph g() -> () {').map(at)).toEqual(["1:18 expected '}' to close graph, found end of input"]);
  });

  it('summary text needs elided: zeros (one error for all its elided data)', () => {
    const summary = printGraph(parseGraph(HAND));
    const errs = errorsOf(summary);
    expect(errs).toHaveLength(1);
    expect(errs[0]?.message).toMatch(/initializer data is elided \(summary text\)/);
    const g = parseGraph(summary, { elided: 'zeros' });
    expect([...(g.initializers.get('w')?.data ?? [])]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('formats errors with file:line:col, the line and a caret', () => {
    const text = 'graph g() -> () {\n  %y = relu(%x)\n}';
    expect(formatTextErrors(text, errorsOf(text), 'm.abir')).toBe(
      'm.abir:2:13: error: unknown value %x (values must be defined above their first use)\n'
      + ' 2 |   %y = relu(%x)\n'
      + '   |             ^',
    );
    expect(() => parseGraph(text, { file: 'm.abir' })).toThrow(GraphTextError);
    expect(() => parseGraph(text, { file: 'm.abir' })).toThrow(/^m\.abir:2:13: error: unknown value %x/);
  });
});

describe('.abir files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'anybit-abir-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('saveGraph/loadGraph round-trip and leave no temp files', async () => {
    const g = parseGraph(HAND);
    const file = join(dir, 'hand.abir');
    await saveGraph(file, g);
    await saveGraph(file, g);
    expect(readdirSync(dir)).toEqual(['hand.abir']);
    expect(readFileSync(file, 'utf8')).toBe(printGraph(g, { data: true }));
    expect(graphDiff(await loadGraph(file), g)).toEqual([]);
  });

  it('loadGraph errors name the file', async () => {
    const file = join(dir, 'bad.abir');
    writeFileSync(file, 'graph g() -> (%y) {\n}\n');
    await expect(loadGraph(file)).rejects.toThrow(`${file}:1:15: error: graph output %y is never defined`);
  });

  it('creates missing directories; a failed save leaves no temp file behind', async () => {
    const g = parseGraph(HAND);
    const nested = join(dir, 'a', 'b', 'x.abir');
    await saveGraph(nested, g);
    expect(graphDiff(await loadGraph(nested), g)).toEqual([]);
    const blocked = join(dir, 'hand.abir', 'x.abir'); // parent is a file
    await expect(saveGraph(blocked, g)).rejects.toThrow();
    expect(readdirSync(dir).filter((f) => f.includes('tmp'))).toEqual([]);
  });
});
