// NumPy .npy read/write (format 1.0/2.0, and 3.0 = 2.0 with a UTF-8 header). C order and
// little-endian only; fortran_order, big-endian data, object/structured dtypes and trailing
// bytes are NpyErrors with one-line messages. float16 travels as raw bits (Uint16Array),
// like IR f16 tensors; int64 is read into Float64Array and must fit in ±2^53.

export class NpyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NpyError';
  }
}

export type NpyDtype = '<f4' | '<f8' | '<f2' | '<i4' | '<i8' | '<u4' | '|u1' | '|i1' | '|b1';
export type NpyData = Float32Array | Float64Array | Uint16Array | Int32Array | Uint32Array | Uint8Array | Int8Array;

export interface NpyArray {
  readonly dtype: NpyDtype;
  readonly shape: number[];
  readonly data: NpyData;
}

interface DtypeInfo { readonly size: number; make(buf: ArrayBuffer): NpyData }

const DTYPES: Readonly<Record<NpyDtype, DtypeInfo>> = {
  '<f4': { size: 4, make: (b) => new Float32Array(b) },
  '<f8': { size: 8, make: (b) => new Float64Array(b) },
  '<f2': { size: 2, make: (b) => new Uint16Array(b) },
  '<i4': { size: 4, make: (b) => new Int32Array(b) },
  '<i8': { size: 8, make: (b) => int64ToFloat64(new BigInt64Array(b)) },
  '<u4': { size: 4, make: (b) => new Uint32Array(b) },
  '|u1': { size: 1, make: (b) => new Uint8Array(b) },
  '|i1': { size: 1, make: (b) => new Int8Array(b) },
  '|b1': { size: 1, make: (b) => new Uint8Array(b) },
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function int64ToFloat64(a: BigInt64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i] as bigint;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new NpyError(`int64 value ${v} at index ${i} does not fit in a float64 exactly`);
    }
    out[i] = Number(v);
  }
  return out;
}

/** Maps the header's descr to a supported dtype; '<u1'/'|u1' (etc.) are one type. */
function normalizeDescr(descr: string): NpyDtype {
  if (descr.startsWith('>') && !/^>[uib]1$/.test(descr)) {
    throw new NpyError(`big-endian data ('${descr}') is not supported; save with arr.astype('<${descr.slice(1)}')`);
  }
  const one = /^[<>|=]([uib]1)$/.exec(descr);
  const d = one ? `|${one[1]}` : descr;
  if (!Object.hasOwn(DTYPES, d)) throw new NpyError(`unsupported dtype '${descr}' (supported: ${Object.keys(DTYPES).join(' ')})`);
  return d as NpyDtype;
}

export function readNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) throw new NpyError('bad magic: not a .npy file (expected \\x93NUMPY)');
  const major = bytes[6] as number;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) { headerLen = dv.getUint16(8, true); start = 10; }
  else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new NpyError(`truncated header: expected at least 12 bytes got ${bytes.length}`);
    headerLen = dv.getUint32(8, true);
    start = 12;
  } else throw new NpyError(`unsupported .npy format version ${major}.${bytes[7]}`);
  if (start + headerLen > bytes.length) throw new NpyError(`truncated header: expected ${start + headerLen} bytes got ${bytes.length}`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const dict = parseHeader(header);
  if (dict.fortran_order !== false) {
    throw new NpyError(dict.fortran_order === true ? 'fortran_order=True arrays are not supported; save with np.ascontiguousarray' : "header lacks a boolean 'fortran_order'");
  }
  if (!Object.hasOwn(dict, 'descr')) throw new NpyError("header lacks 'descr'");
  if (typeof dict.descr !== 'string') throw new NpyError('unsupported dtype: structured arrays are not supported');
  if (!Array.isArray(dict.shape)) throw new NpyError("header lacks a 'shape' tuple");
  const dtype = normalizeDescr(dict.descr);
  const shape = dict.shape;
  const info = DTYPES[dtype];
  const need = shape.reduce((a, b) => a * b, 1) * info.size;
  const off = start + headerLen;
  const got = bytes.length - off;
  if (got < need) throw new NpyError(`truncated data: expected ${need} bytes got ${got}`);
  if (got > need) throw new NpyError(`unexpected ${got - need} trailing bytes after the data (expected ${need})`);
  const own = bytes.slice(off, off + need);
  if (!LITTLE_ENDIAN) swapInPlace(own, info.size);
  return { dtype, shape, data: info.make(own.buffer) };
}

const ARRAY_DTYPES: readonly [new (...a: never[]) => NpyData, NpyDtype][] = [
  [Float32Array, '<f4'], [Float64Array, '<f8'], [Uint16Array, '<f2'], [Int32Array, '<i4'],
  [Uint32Array, '<u4'], [Uint8Array, '|u1'], [Int8Array, '|i1'],
];

/**
 * A v1.0 .npy (v2.0 when the header needs it). The dtype follows the array class (Uint16Array
 * means float16 bits); `opts.dtype` may instead say '<i8' (integer Float64Array/Int32Array
 * data) or '|b1' (Uint8Array of 0/1).
 */
export function writeNpy(shape: readonly number[], data: NpyData, opts: { dtype?: NpyDtype } = {}): Uint8Array {
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new NpyError(`invalid shape (${shape.join(', ')})`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new NpyError(`data has ${data.length} elements, shape (${shape.join(', ')}) needs ${n}`);
  const natural = ARRAY_DTYPES.find(([c]) => data instanceof c)?.[1] as NpyDtype;
  const dtype = opts.dtype ?? natural;
  let body: Uint8Array;
  if (dtype === natural || (dtype === '|b1' && natural === '|u1')) {
    if (dtype === '|b1' && data.some((v) => v !== 0 && v !== 1)) throw new NpyError("'|b1' data must be 0 or 1");
    body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  } else if (dtype === '<i8' && (data instanceof Float64Array || data instanceof Int32Array)) {
    const big = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      const v = data[i] as number;
      if (!Number.isSafeInteger(v)) throw new NpyError(`'<i8' needs safe integers, got ${v} at index ${i}`);
      big[i] = BigInt(v);
    }
    body = new Uint8Array(big.buffer);
  } else {
    throw new NpyError(`cannot write ${data.constructor.name} as '${dtype}'`);
  }
  if (!LITTLE_ENDIAN) swapInPlace(body, DTYPES[dtype].size);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  // NumPy leaves room for the first dim to grow to 21 digits, so files can be appended in place.
  const growth = shape.length ? ' '.repeat(Math.max(0, 21 - String(shape[0]).length)) : '';
  const dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }${growth}`;
  // Pad with spaces so the data starts on a 64-byte boundary; the header ends in '\n'.
  let pre = 10;
  let padded = pad(dict, pre);
  if (padded.length > 0xffff) { pre = 12; padded = pad(dict, pre); }
  const out = new Uint8Array(pre + padded.length + body.length);
  out.set(MAGIC);
  out[6] = pre === 10 ? 1 : 2;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (pre === 10) dv.setUint16(8, padded.length, true);
  else dv.setUint32(8, padded.length, true);
  for (let i = 0; i < padded.length; i++) out[pre + i] = padded.charCodeAt(i);
  out.set(body, pre + padded.length);
  return out;
}

function pad(dict: string, pre: number): string {
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  return `${dict}${' '.repeat(total - pre - dict.length - 1)}\n`;
}

function swapInPlace(b: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
}

type PyValue = string | boolean | number[] | undefined;

/** The header dict: a Python literal with string keys, strings, True/False and int tuples. */
function parseHeader(h: string): Record<string, PyValue> {
  let i = 0;
  const ws = (): void => { while (i < h.length && /\s/.test(h[i] as string)) i++; };
  const bad = (what: string): never => { throw new NpyError(`malformed header: ${what} at offset ${i} in ${JSON.stringify(h.trim().slice(0, 120))}`); };
  const str = (): string => {
    const q = h[i];
    if (q !== "'" && q !== '"') bad('expected a quoted string');
    const end = h.indexOf(q as string, i + 1);
    if (end < 0) bad('unterminated string');
    const s = h.slice(i + 1, end);
    i = end + 1;
    return s;
  };
  const value = (): PyValue => {
    ws();
    const c = h[i];
    if (c === "'" || c === '"') return str();
    if (h.startsWith('True', i)) { i += 4; return true; }
    if (h.startsWith('False', i)) { i += 5; return false; }
    if (c === '(') {
      i++;
      const dims: number[] = [];
      for (ws(); h[i] !== ')'; ws()) {
        const m = /^(\d+)L?/.exec(h.slice(i));
        if (!m) bad('expected a non-negative integer in the shape');
        dims.push(Number((m as RegExpExecArray)[1]));
        i += (m as RegExpExecArray)[0].length;
        ws();
        if (h[i] === ',') i++;
        else if (h[i] !== ')') bad("expected ',' or ')' in the shape");
      }
      i++;
      return dims;
    }
    // Structured dtypes are lists: skip the balanced bracket so the caller can name the field.
    if (c === '[') {
      let depth = 0;
      do { if (h[i] === '[') depth++; else if (h[i] === ']') depth--; i++; } while (depth > 0 && i < h.length);
      return undefined;
    }
    return bad('unexpected value');
  };
  const out: Record<string, PyValue> = {};
  ws();
  if (h[i++] !== '{') bad("expected '{'");
  for (ws(); h[i] !== '}'; ws()) {
    if (i >= h.length) bad("expected '}'");
    const k = str();
    ws();
    if (h[i++] !== ':') bad("expected ':'");
    out[k] = value();
    ws();
    if (h[i] === ',') i++;
    else if (h[i] !== '}') bad("expected ',' or '}'");
  }
  return out;
}
