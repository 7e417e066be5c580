// A tiny WebAssembly assembler: opcodes, LEB128, loops, function bodies and a module
// builder, enough to write the pixel kernels (resample-simd.ts, augment-simd.ts) as
// TypeScript that emits bytes. It keeps the project free of a WebAssembly toolchain; a
// mistake shows up as a validation error naming the byte offset when the module loads,
// and the kernels' tests compare every kernel with the plain JavaScript it replaces.

export const I32 = 0x7f, F32 = 0x7d, F64 = 0x7c, V128 = 0x7b;

/** Core opcodes used by the kernels (names follow the text format, camel-cased). */
export const OP = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, brIf: 0x0d, return: 0x0f,
  get: 0x20, set: 0x21, tee: 0x22,
  load: 0x28, f32Load: 0x2a, f64Load: 0x2b, load8u: 0x2d, store: 0x36, f32Store: 0x38, store8: 0x3a, store16: 0x3b,
  const: 0x41, f32Const: 0x43, f64Const: 0x44,
  eqz: 0x45, eq: 0x46, ne: 0x47, ltS: 0x48, ltU: 0x49, gtS: 0x4a, geS: 0x4e, geU: 0x4f,
  f64Eq: 0x61, f64Lt: 0x63, f64Ge: 0x66,
  add: 0x6a, sub: 0x6b, mul: 0x6c, and: 0x71, or: 0x72, shl: 0x74, shrS: 0x75, shrU: 0x76,
  f32Add: 0x92, f64Floor: 0x9c, f64Add: 0xa0, f64Sub: 0xa1, f64Mul: 0xa2,
  i32TruncF64S: 0xaa, f32ConvertI32S: 0xb2, f64ConvertI32S: 0xb7, select: 0x1b,
} as const;

/** Opcodes after the 0xfc prefix: saturating truncation and bulk memory. */
export const FC = { i32TruncSatF32S: 0, memoryCopy: 10 } as const;
export const fc = (op: number, ...imm: number[]): Code => [0xfc, ...uleb(op), ...imm];

/** Numbers locals after the params, by type, and declares them in that order. */
export class Locals {
  private readonly types: number[] = [];
  constructor(private readonly params: number) {}
  private take(t: number): number {
    this.types.push(t);
    return this.params + this.types.length - 1;
  }
  i32(): number { return this.take(I32); }
  f64(): number { return this.take(F64); }
  v128(): number { return this.take(V128); }
  /** (count, type) runs for func() */
  decl(): [number, number][] {
    const runs: [number, number][] = [];
    for (const t of this.types) {
      if (runs.length && runs[runs.length - 1][1] === t) runs[runs.length - 1][0]++;
      else runs.push([1, t]);
    }
    return runs;
  }
}

/** SIMD opcodes (after the 0xfd prefix). */
export const V = {
  load: 0, load8x8u: 2, store: 11, shuffle: 13,
  f32DemoteF64Zero: 94, f64PromoteLowF32: 95, splat32: 17, f32Splat: 19, f64Splat: 20, i32Extract: 27, f64Replace: 34,
  f64Eq: 71, f64Lt: 73, f64Ge: 76, or: 80, anyTrue: 83, bitmask: 100, f64Floor: 117,
  store8Lane: 88, store16Lane: 89, store32Lane: 90, load32Zero: 92, load64Zero: 93,
  narrow16to8u: 102, add16: 142, shl16: 139,
  narrow32to16u: 134, extLow8u: 137, extHigh8u: 138, extLow16u: 169, extHigh16u: 170,
  shl32: 171, shrS32: 172, shrU32: 173, add32: 174, sub32: 177, mul32: 181,
  f32Add: 228, f32Mul: 230, f64Add: 240, f64Sub: 241, f64Mul: 242,
  truncSatF32S: 248, f32ConvertS: 250, truncSatF64SZero: 252, f64ConvertLowS: 254,
} as const;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export type Code = number[];
export const get = (i: number): Code => [OP.get, ...uleb(i)];
export const set = (i: number): Code => [OP.set, ...uleb(i)];
export const tee = (i: number): Code => [OP.tee, ...uleb(i)];
export const i32 = (c: number): Code => [OP.const, ...sleb(c)];
export function f64(c: number): Code {
  return [OP.f64Const, ...new Uint8Array(new Float64Array([c]).buffer)];
}
export const simd = (op: number, ...imm: number[]): Code => [0xfd, ...uleb(op), ...imm];
/** memarg: alignment hint (log2) and a constant offset added to the address */
export const mem = (align: number, offset = 0): number[] => [align, ...uleb(offset)];
export const add = (...terms: Code[]): Code => [...terms[0], ...terms.slice(1).flatMap((t) => [...t, OP.add])];
export const mul = (a: Code, b: Code): Code => [...a, ...b, OP.mul];
export const loadI32 = (addr: Code): Code => [...addr, OP.load, ...mem(2)];
/** i8x16.shuffle of the two vectors on the stack: lane k takes byte idx[k] of a ++ b */
export const shuffle = (idx: readonly number[]): Code => simd(V.shuffle, ...idx);

/** if (cond) then [else otherwise], no result */
export function ifElse(cond: Code, then: Code, otherwise?: Code): Code {
  return [...cond, OP.if, 0x40, ...then, ...(otherwise ? [OP.else, ...otherwise] : []), OP.end];
}

/**
 * for (counter = 0; counter < limit; counter += step) body; the counter is left at the first
 * value >= limit. `step` is a constant or code that pushes it (a local: get(n)).
 */
export function forLoop(counter: number, limit: Code, body: Code, step: number | Code = 1): Code {
  return [...i32(0), ...set(counter), ...loopOn(counter, limit, body, step)];
}

/**
 * for (; counter < limit; counter += step) body: carries on from the counter's value.
 * Inside body, `br 1` (relative to the body's own nesting) leaves the loop and a branch to
 * depth `continueDepth` of the body skips to the increment: see `continueFrom`.
 */
export function loopOn(counter: number, limit: Code, body: Code, step: number | Code = 1): Code {
  return [
    OP.block, 0x40, OP.loop, 0x40,
    ...get(counter), ...limit, OP.geS, OP.brIf, 1,
    // an inner block, so `br` to it from the body ends this iteration (a `continue`)
    OP.block, 0x40, ...body, OP.end,
    ...get(counter), ...(typeof step === 'number' ? i32(step) : step), OP.add, ...set(counter),
    OP.br, 0, OP.end, OP.end,
  ];
}

/** base + (row*stride + col)*4: the byte address of float32 element (row, col) of a row-major matrix */
export function f32Addr(base: number, row: number, stride: number, col: number): Code {
  return [...get(row), ...get(stride), OP.mul, ...get(col), OP.add, ...i32(2), OP.shl, ...get(base), OP.add];
}

/**
 * while (p < end, unsigned) { body; each pointer += its step local }: the walk down a column
 * block of rows that the matrix kernels share.
 */
export function pointerLoop(p: number, end: number, body: Code, advance: [pointer: number, step: number][]): Code {
  return [
    OP.block, 0x40, OP.loop, 0x40,
    ...get(p), ...get(end), OP.geU, OP.brIf, 1,
    ...body,
    ...advance.flatMap(([q, by]) => [...get(q), ...get(by), OP.add, ...set(q)]),
    OP.br, 0, OP.end, OP.end,
  ];
}

/** A function body: its extra locals as (count, type) runs, then the code. */
export function func(locals: [number, number][], body: Code): Code {
  const decl = [...uleb(locals.length), ...locals.flatMap(([n, t]) => [...uleb(n), t])];
  const code = [...decl, ...body, OP.end];
  return [...uleb(code.length), ...code];
}

function section(id: number, content: Code): Code {
  return [id, ...uleb(content.length), ...content];
}

function vec(items: Code[]): Code {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): Code {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
}

export interface WasmFunction {
  name: string;
  params: number[];
  results: number[];
  /** extra locals as (count, type) runs; they are numbered after the params */
  locals: [number, number][];
  body: Code;
}

/**
 * A module with one memory and the given exported functions. The memory is its own (exported
 * as 'mem', 16 pages to start) or, with `importMemory`, imported as env.mem: the kernels then
 * work in place on another module's heap (tfjs-wasm's tensors, src/engine/wasm-kernels/heap-module.ts).
 */
export function moduleBytes(funcs: WasmFunction[], opts: { importMemory?: boolean } = {}): Uint8Array<ArrayBuffer> {
  const types = funcs.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))]);
  const exports = funcs.map((f, k) => [...name(f.name), 0x00, ...uleb(k)]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    // import: env.mem, a memory of at least 0 pages (any size the exporter has)
    ...(opts.importMemory ? section(2, vec([[...name('env'), ...name('mem'), 0x02, 0x00, 0x00]])) : []),
    ...section(3, vec(funcs.map((_, k) => uleb(k)))),
    ...(opts.importMemory ? [] : section(5, vec([[0x00, ...uleb(16)]]))), // own memory: 16 pages to start, grown on demand
    ...section(7, vec(opts.importMemory ? exports : [[...name('mem'), 0x02, 0], ...exports])),
    ...section(10, vec(funcs.map((f) => func(f.locals, f.body)))),
  ];
  return new Uint8Array(bytes);
}

/**
 * Instantiates the module, or returns null where WebAssembly SIMD is unavailable or
 * RSB_NO_SIMD=1 (both mean: run the plain JavaScript). `memory` is what an importMemory
 * module works on.
 */
export function instantiate(bytes: Uint8Array<ArrayBuffer>, memory?: WebAssembly.Memory): WebAssembly.Exports | null {
  try {
    if ((globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.RSB_NO_SIMD === '1') return null;
    if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(bytes)) return null;
    return new WebAssembly.Instance(new WebAssembly.Module(bytes), memory ? { env: { mem: memory } } : {}).exports;
  } catch {
    return null;
  }
}

/** Bump allocator over a module's memory for one call; grows the memory as needed. */
export class Arena {
  private top = 0;
  constructor(private readonly k: { memory: WebAssembly.Memory }) {}

  /** Reserves `bytes` (+16 bytes of slack for over-wide loads and stores), 16-aligned. */
  alloc(bytes: number): number {
    const at = this.top;
    this.top = (at + bytes + 16 + 15) & ~15;
    const need = this.top - this.k.memory.buffer.byteLength;
    if (need > 0) this.k.memory.grow(Math.ceil(need / 65536));
    return at;
  }

  bytes(at: number, length: number): Uint8Array {
    return new Uint8Array(this.k.memory.buffer, at, length);
  }

  ints(at: number, length: number): Int32Array {
    return new Int32Array(this.k.memory.buffer, at, length);
  }

  floats(at: number, length: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, at, length);
  }
}
