// A small, safe unpickler for PyTorch state_dicts. It interprets the pickle opcodes torch
// emits (protocols 2-5) into plain data; GLOBAL/STACK_GLOBAL resolve only names on an
// allow-list and REDUCE only "calls" those known constructors, so nothing is ever executed.
// Unsupported opcodes or globals raise WeightsError naming them and their byte offset.

import { WeightsError } from './errors.ts';

export interface PyGlobal { readonly kind: 'global'; readonly module: string; readonly name: string }
export interface PyTuple { readonly kind: 'tuple'; readonly items: readonly PyValue[] }
export interface StorageRef { readonly kind: 'storage'; readonly storageType: string; readonly key: string; readonly numel: number }
export interface TensorRef {
  readonly kind: 'tensor';
  readonly storage: StorageRef;
  readonly offset: number;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
}
export type PyValue =
  | null | boolean | number | string | Uint8Array
  | PyValue[] | Map<PyValue, PyValue> | PyGlobal | PyTuple | StorageRef | TensorRef
  | { readonly kind: 'object'; readonly of: string };

const ALLOWED: ReadonlySet<string> = new Set([
  'collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter',
  ...['Float', 'Half', 'BFloat16', 'Double', 'Long', 'Int', 'Short', 'Char', 'Byte', 'Bool'].map((t) => `torch.${t}Storage`),
]);

const MARK = Symbol('mark');
type Slot = PyValue | typeof MARK;

function isTuple(v: PyValue): v is PyTuple {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof Uint8Array) && v.kind === 'tuple';
}

function ints(v: PyValue, what: string): number[] {
  if (!isTuple(v) || !v.items.every((x) => typeof x === 'number')) throw new WeightsError(`pickle: ${what} is not a tuple of integers`);
  return v.items as number[];
}

function reduce(fn: PyValue, args: PyValue): PyValue {
  if (!fn || typeof fn !== 'object' || Array.isArray(fn) || fn instanceof Map || fn instanceof Uint8Array || fn.kind !== 'global') {
    throw new WeightsError('pickle: REDUCE on something that is not an allowed global');
  }
  const a = isTuple(args) ? args.items : [];
  const name = `${fn.module}.${fn.name}`;
  switch (name) {
    case 'collections.OrderedDict': return new Map();
    case 'torch._utils._rebuild_parameter': return a[0] ?? null;
    case 'torch._utils._rebuild_tensor_v2': {
      const s = a[0];
      if (!s || typeof s !== 'object' || !('kind' in s) || s.kind !== 'storage') throw new WeightsError('pickle: _rebuild_tensor_v2 without a storage');
      return { kind: 'tensor', storage: s, offset: Number(a[1]), shape: ints(a[2] ?? null, 'tensor size'), stride: ints(a[3] ?? null, 'tensor stride') };
    }
    default: throw new WeightsError(`pickle: calling '${name}' is not allowed`);
  }
}

export function unpickle(bytes: Uint8Array): PyValue {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: Slot[] = [];
  const memo = new Map<number, PyValue>();
  const utf8 = new TextDecoder('utf-8');
  const latin1 = new TextDecoder('latin1');
  let p = 0;
  const need = (n: number): number => {
    if (p + n > bytes.length) throw new WeightsError(`pickle: truncated at byte ${p}`);
    const at = p;
    p += n;
    return at;
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) throw new WeightsError(`pickle: stack underflow at byte ${p}`);
    return v;
  };
  const popMark = (): PyValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) throw new WeightsError(`pickle: no MARK at byte ${p}`);
    const items = stack.splice(i) as PyValue[];
    items.shift();
    return items;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) throw new WeightsError(`pickle: empty stack at byte ${p}`);
    return v;
  };
  const str = (n: number, dec: { decode(b: Uint8Array): string }): string => dec.decode(bytes.subarray(need(n), p));
  const line = (): string => {
    const end = bytes.indexOf(0x0a, p);
    if (end < 0) throw new WeightsError(`pickle: unterminated line at byte ${p}`);
    const s = latin1.decode(bytes.subarray(p, end));
    p = end + 1;
    return s;
  };
  const global = (module: string, name: string): PyGlobal => {
    if (!ALLOWED.has(`${module}.${name}`)) throw new WeightsError(`pickle: global '${module}.${name}' is not allowed (only plain state_dicts of tensors are read)`);
    return { kind: 'global', module, name };
  };
  const setItems = (d: PyValue, kv: PyValue[]): void => {
    if (!(d instanceof Map)) throw new WeightsError('pickle: SETITEM(S) on a non-dict');
    for (let i = 0; i + 1 < kv.length; i += 2) d.set(kv[i] as PyValue, kv[i + 1] as PyValue);
  };
  for (;;) {
    const at = p;
    const op = bytes[need(1)] as number;
    switch (op) {
      case 0x80: need(1); break; // PROTO
      case 0x95: need(8); break; // FRAME
      case 0x2e: return pop(); // STOP
      case 0x28: stack.push(MARK); break;
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x29: stack.push({ kind: 'tuple', items: [] }); break;
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x74: stack.push({ kind: 'tuple', items: popMark() }); break;
      case 0x85: { const a = pop(); stack.push({ kind: 'tuple', items: [a] }); break; }
      case 0x86: { const b = pop(); const a = pop(); stack.push({ kind: 'tuple', items: [a, b] }); break; }
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push({ kind: 'tuple', items: [a, b, c] }); break; }
      case 0x58: { const n = dv.getUint32(need(4), true); stack.push(str(n, utf8)); break; } // BINUNICODE
      case 0x8c: { const n = bytes[need(1)] as number; stack.push(str(n, utf8)); break; } // SHORT_BINUNICODE
      case 0x8d: { const n = Number(dv.getBigUint64(need(8), true)); stack.push(str(n, utf8)); break; }
      case 0x54: { const n = dv.getUint32(need(4), true); stack.push(str(n, latin1)); break; } // BINSTRING
      case 0x55: { const n = bytes[need(1)] as number; stack.push(str(n, latin1)); break; }
      case 0x42: { const n = dv.getUint32(need(4), true); stack.push(bytes.slice(need(n), p)); break; } // BINBYTES
      case 0x43: { const n = bytes[need(1)] as number; stack.push(bytes.slice(need(n), p)); break; }
      case 0x4a: stack.push(dv.getInt32(need(4), true)); break; // BININT
      case 0x4b: stack.push(bytes[need(1)] as number); break; // BININT1
      case 0x4d: stack.push(dv.getUint16(need(2), true)); break; // BININT2
      case 0x8a: case 0x8b: { // LONG1 / LONG4
        const n = op === 0x8a ? (bytes[need(1)] as number) : dv.getUint32(need(4), true);
        let v = 0n;
        const s = need(n);
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[s + i] as number);
        if (n > 0 && ((bytes[s + n - 1] as number) & 0x80)) v -= 1n << BigInt(8 * n);
        stack.push(Number(v));
        break;
      }
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4e: stack.push(null); break;
      case 0x47: stack.push(dv.getFloat64(need(8), false)); break; // BINFLOAT (big-endian)
      case 0x71: memo.set(bytes[need(1)] as number, top()); break; // BINPUT
      case 0x72: memo.set(dv.getUint32(need(4), true), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET / LONG_BINGET
        const i = op === 0x68 ? (bytes[need(1)] as number) : dv.getUint32(need(4), true);
        if (!memo.has(i)) throw new WeightsError(`pickle: memo ${i} undefined at byte ${at}`);
        stack.push(memo.get(i) as PyValue);
        break;
      }
      case 0x63: { const m = line(); const n = line(); stack.push(global(m, n)); break; } // GLOBAL
      case 0x93: { const n = pop(); const m = pop(); stack.push(global(String(m), String(n))); break; } // STACK_GLOBAL
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const kv = popMark(); setItems(top(), kv); break; } // SETITEMS
      case 0x61: { const v = pop(); const l = top(); if (!Array.isArray(l)) throw new WeightsError('pickle: APPEND on a non-list'); l.push(v); break; }
      case 0x65: { const vs = popMark(); const l = top(); if (!Array.isArray(l)) throw new WeightsError('pickle: APPENDS on a non-list'); l.push(...vs); break; }
      case 0x52: { const args = pop(); const fn = pop(); stack.push(reduce(fn, args)); break; } // REDUCE
      case 0x62: pop(); break; // BUILD: state (e.g. OrderedDict._metadata) is not needed
      case 0x51: { // BINPERSID: ('storage', StorageType, key, location, numel)
        const pid = pop();
        if (!isTuple(pid) || pid.items[0] !== 'storage') throw new WeightsError(`pickle: unknown persistent id at byte ${at}`);
        const t = pid.items[1] as PyGlobal | undefined;
        stack.push({ kind: 'storage', storageType: t?.name ?? '?', key: String(pid.items[2]), numel: Number(pid.items[4]) });
        break;
      }
      default:
        throw new WeightsError(`pickle: unsupported opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at}`);
    }
  }
}
