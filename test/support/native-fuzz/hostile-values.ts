/**
 * Hostile JavaScript values for fuzzing the addon's arguments: wrong types, numbers at and past
 * every integer limit, NaN and infinities, bigints, symbols, typed arrays of every element type
 * and odd backing (views at an offset, detached, shared, resizable), and objects whose property
 * reads throw.
 *
 * Owns: `Hostile`, a printable marker for values fast-check cannot print or must not touch (a
 * proxy that throws on every read would throw inside fast-check's report), turned into the real
 * value by `materialize` just before a call.
 */
import fc from 'fast-check';

/** Typed array constructors by name (the element types a native argument may be given). */
export const TYPED_ARRAYS = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
} as const;

export type TypedArrayName = keyof typeof TYPED_ARRAYS;

/** What a `Hostile` turns into. */
export type HostileKind =
  | 'throwing-proxy'
  | 'throwing-getter'
  | 'detached'
  | 'offset-view'
  | 'shared'
  | 'resizable'
  | 'array-buffer'
  | 'data-view'
  | 'plain-array'
  | 'function';

/** A value built at call time: `kind` of an array of `type` holding `values`. */
export class Hostile {
  readonly kind: HostileKind;
  readonly type: TypedArrayName;
  readonly values: readonly number[];
  constructor(kind: HostileKind, type: TypedArrayName = 'Int32Array', values: number[] = []) {
    this.kind = kind;
    this.type = type;
    this.values = values;
  }
  [fc.toStringMethod](): string {
    const values =
      this.values.length > 8 ? `${this.values.length} values` : `[${this.values.join(',')}]`;
    return `Hostile(${this.kind}, ${this.type}, ${values})`;
  }
}

/** A typed array of `type` holding `values` (converted: bigints for the 64-bit types). */
export function typedArray(type: TypedArrayName, values: readonly number[]): ArrayLike<unknown> {
  const Constructor = TYPED_ARRAYS[type];
  if (type === 'BigInt64Array' || type === 'BigUint64Array') {
    const array = new (Constructor as BigInt64ArrayConstructor)(values.length);
    values.forEach((value, i) => {
      array[i] = BigInt(Math.trunc(Number.isFinite(value) ? value : 0));
    });
    return array;
  }
  return (Constructor as Int32ArrayConstructor).from(values);
}

function throwingProxy(): object {
  const fail = (): never => {
    throw new Error('hostile property read');
  };
  return new Proxy({}, { get: fail, has: fail, ownKeys: fail, getOwnPropertyDescriptor: fail });
}

/** The value a Hostile stands for. */
function build(hostile: Hostile): unknown {
  const { type, values } = hostile;
  const bytes = TYPED_ARRAYS[type].BYTES_PER_ELEMENT;
  switch (hostile.kind) {
    case 'throwing-proxy':
      return throwingProxy();
    case 'throwing-getter':
      return Object.defineProperty({}, 'length', {
        get: () => {
          throw new Error('hostile getter');
        },
      });
    case 'detached': {
      const array = typedArray(type, values) as Int32Array;
      structuredClone(array.buffer, { transfer: [array.buffer as ArrayBuffer] });
      return array;
    }
    case 'offset-view': {
      const backing = typedArray(type, [0, 0, 0, ...values]) as Int32Array;
      return backing.subarray(3);
    }
    case 'shared': {
      const shared = new SharedArrayBuffer(values.length * bytes);
      const array = new (TYPED_ARRAYS[type] as Int32ArrayConstructor)(shared);
      array.set(typedArray(type, values) as Int32Array);
      return array;
    }
    case 'resizable': {
      // ES2024's resizable buffers (Node 20 has them; the ES2023 lib does not type them).
      const Resizable = ArrayBuffer as unknown as new (
        length: number,
        options: { maxByteLength: number },
      ) => ArrayBuffer;
      const buffer = new Resizable(values.length * bytes, {
        maxByteLength: (values.length + 8) * bytes,
      });
      const array = new (TYPED_ARRAYS[type] as Int32ArrayConstructor)(buffer);
      array.set(typedArray(type, values) as Int32Array);
      return array;
    }
    case 'array-buffer':
      return (typedArray(type, values) as Int32Array).buffer;
    case 'data-view':
      return new DataView((typedArray(type, values) as Int32Array).buffer);
    case 'plain-array':
      return [...values];
    case 'function':
      return () => values;
  }
}

/** `value` with every Hostile inside it (arrays, plain objects) built. */
export function materialize(value: unknown): unknown {
  if (value instanceof Hostile) return build(value);
  if (Array.isArray(value)) return value.map(materialize);
  if (
    typeof value === 'object' &&
    value !== null &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, materialize(item)]));
  }
  return value;
}

/** Numbers at and past every limit an argument has (int32, sequence ids, positions). */
export const junkNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, -0, -1, 0, 1, 2, 3, 4, 5, 1.5, -1.5, 0.1),
  fc.constantFrom(255, 256, 258, 259, 260, 511, 512, 4096, 65535, 65536),
  fc.constantFrom(2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 32, 2 ** 53, 1e308),
  fc.constantFrom(Number.MIN_VALUE, -Number.MAX_VALUE, Number.EPSILON),
  fc.integer({ min: -10, max: 600 }),
);

/** Any scalar of a wrong type, or an odd number. */
export const junkScalar: fc.Arbitrary<unknown> = fc.oneof(
  junkNumber,
  fc.constantFrom(undefined, null, true, false, '', 'abc', '12', '\ud800', 10n, -1n, 2n ** 64n),
  fc.constant(Symbol.for('fuzz')),
  fc.constantFrom({}, [], [1, 2]),
);

/** Values of a typed array: small valid-looking ones or junk numbers. */
export const arrayValues = (maxLength: number): fc.Arbitrary<number[]> =>
  fc.array(fc.oneof(fc.integer({ min: -2, max: 300 }), junkNumber), { maxLength });

/** A hostile stand-in for an array argument. */
export const hostileArray: fc.Arbitrary<Hostile> = fc
  .tuple(
    fc.constantFrom<HostileKind>(
      'throwing-proxy',
      'throwing-getter',
      'detached',
      'offset-view',
      'shared',
      'resizable',
      'array-buffer',
      'data-view',
      'plain-array',
      'function',
    ),
    fc.constantFrom(...(Object.keys(TYPED_ARRAYS) as TypedArrayName[])),
    arrayValues(12),
  )
  .map(([kind, type, values]) => new Hostile(kind, type, values));

/** Any wrong value for an argument: a junk scalar, a typed array of any type, a hostile value. */
export const junkArgument: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: junkScalar, weight: 3 },
  {
    arbitrary: fc
      .tuple(fc.constantFrom(...(Object.keys(TYPED_ARRAYS) as TypedArrayName[])), arrayValues(12))
      .map(([type, values]) => typedArray(type, values)),
    weight: 2,
  },
  { arbitrary: hostileArray, weight: 2 },
);
