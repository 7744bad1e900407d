/**
 * A small CBOR (RFC 8949) codec for COSE and CWT, written here instead of using cbor-x:
 *
 * - The encoder only produces **core deterministic encoding** (§4.2.1): shortest heads, definite lengths,
 *   map keys sorted by their encoded bytes, shortest float that keeps the value, and no tags except those
 *   the caller asks for. cbor-x needs four options to stop it adding tag 64 / tag 259 / non-minimal map
 *   heads, and its optional native add-on needs an install-time build this workspace does not allow.
 * - The decoder is strict: well-formed input only, bounded nesting, lengths checked against the input,
 *   no duplicate map keys, valid UTF-8. Maps decode to `Map` (COSE and CWT use integer keys).
 *
 * Independent implementations check it in tests: node-cbor (through cose-js) decodes what this encodes,
 * and the dgc-testdata vectors' CBOR decodes to their JSON.
 */

/** A tagged item (major type 6). */
export class CborTag {
  constructor(
    readonly tag: number,
    readonly value: CborValue,
  ) {}
}

export type CborValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | CborTag
  | readonly CborValue[]
  | ReadonlyMap<CborValue, CborValue>
  | { readonly [key: string]: CborValue };

export class CborError extends Error {
  override readonly name = 'CborError';
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

class Writer {
  buffer = new Uint8Array(512);
  length = 0;

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  bytes(value: Uint8Array): void {
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
  }

  /** The initial byte(s) of an item: major type and its argument in the shortest form. */
  head(major: number, argument: number | bigint): void {
    const m = major << 5;
    if (typeof argument === 'bigint') {
      if (argument <= 0xffffffffn) {
        this.head(major, Number(argument));
        return;
      }
      this.reserve(9);
      this.buffer[this.length++] = m | 27;
      new DataView(this.buffer.buffer).setBigUint64(this.length, argument);
      this.length += 8;
      return;
    }
    if (argument < 24) this.byte(m | argument);
    else if (argument < 0x100) {
      this.reserve(2);
      this.buffer[this.length++] = m | 24;
      this.buffer[this.length++] = argument;
    } else if (argument < 0x10000) {
      this.reserve(3);
      this.buffer[this.length++] = m | 25;
      this.buffer[this.length++] = argument >> 8;
      this.buffer[this.length++] = argument & 0xff;
    } else if (argument < 0x100000000) {
      this.reserve(5);
      this.buffer[this.length++] = m | 26;
      new DataView(this.buffer.buffer).setUint32(this.length, argument);
      this.length += 4;
    } else this.head(major, BigInt(argument));
  }

  result(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

const MAX_UINT64 = (1n << 64n) - 1n;

/** IEEE 754 half precision of `value`, or undefined when half precision would change it. */
const toHalf = (value: number): number | undefined => {
  if (Number.isNaN(value)) return 0x7e00;
  if (value === Number.POSITIVE_INFINITY) return 0x7c00;
  if (value === Number.NEGATIVE_INFINITY) return 0xfc00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude === 0) return sign;
  const exponent = Math.floor(Math.log2(magnitude));
  if (exponent > 15) return undefined;
  if (exponent >= -14) {
    const mantissa = magnitude / 2 ** exponent - 1; // in [0, 1)
    const bits = mantissa * 1024;
    if (!Number.isInteger(bits)) return undefined;
    return sign | ((exponent + 15) << 10) | bits;
  }
  const subnormal = magnitude / 2 ** -24; // multiples of 2^-24
  if (!Number.isInteger(subnormal) || subnormal >= 1024) return undefined;
  return sign | subnormal;
};

const encodeFloat = (writer: Writer, value: number): void => {
  const half = toHalf(value);
  if (half !== undefined) {
    writer.byte(0xf9);
    writer.byte(half >> 8);
    writer.byte(half & 0xff);
    return;
  }
  const scratch = new DataView(new ArrayBuffer(8));
  if (Math.fround(value) === value) {
    scratch.setFloat32(0, value);
    writer.byte(0xfa);
    writer.bytes(new Uint8Array(scratch.buffer, 0, 4));
    return;
  }
  scratch.setFloat64(0, value);
  writer.byte(0xfb);
  writer.bytes(new Uint8Array(scratch.buffer, 0, 8));
};

const compareBytes = (a: Uint8Array, b: Uint8Array): number => {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const difference = (a[i] as number) - (b[i] as number);
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
};

const encodeMap = (writer: Writer, entries: [CborValue, CborValue][], depth: number): void => {
  const encoded = entries.map(([key, value]) => {
    const keyWriter = new Writer();
    encodeItem(keyWriter, key, depth + 1);
    return { key: keyWriter.result(), value };
  });
  encoded.sort((a, b) => compareBytes(a.key, b.key));
  for (let i = 1; i < encoded.length; i++) {
    if (compareBytes((encoded[i - 1] as { key: Uint8Array }).key, (encoded[i] as { key: Uint8Array }).key) === 0) {
      throw new CborError('a map has two equal keys');
    }
  }
  writer.head(5, encoded.length);
  for (const { key, value } of encoded) {
    writer.bytes(key);
    encodeItem(writer, value, depth + 1);
  }
};

const MAX_DEPTH = 64;

const encodeItem = (writer: Writer, value: CborValue | undefined, depth: number): void => {
  if (depth > MAX_DEPTH) throw new CborError(`nesting deeper than ${MAX_DEPTH}`);
  if (value === undefined) throw new CborError('undefined cannot be encoded (EU-DCC rule I-CO5)');
  if (value === null) writer.byte(0xf6);
  else if (typeof value === 'boolean') writer.byte(value ? 0xf5 : 0xf4);
  else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || Object.is(value, -0)) encodeFloat(writer, value);
    else if (value >= 0) writer.head(0, value);
    else writer.head(1, -1 - value);
  } else if (typeof value === 'bigint') {
    if (value >= 0n && value <= MAX_UINT64) writer.head(0, value);
    else if (value < 0n && -1n - value <= MAX_UINT64) writer.head(1, -1n - value);
    else throw new CborError('integer out of the 64-bit range');
  } else if (typeof value === 'string') {
    const bytes = utf8Encoder.encode(value);
    writer.head(3, bytes.length);
    writer.bytes(bytes);
  } else if (typeof value !== 'object') {
    throw new CborError(`a ${typeof value} cannot be encoded`);
  } else if (value instanceof Uint8Array) {
    writer.head(2, value.length);
    writer.bytes(value);
  } else if (value instanceof CborTag) {
    writer.head(6, value.tag);
    encodeItem(writer, value.value, depth + 1);
  } else if (Array.isArray(value)) {
    writer.head(4, value.length);
    for (const item of value as readonly CborValue[]) encodeItem(writer, item, depth + 1);
  } else if (value instanceof Map) {
    encodeMap(writer, [...value.entries()], depth);
  } else {
    const entries = Object.entries(value).filter(([, member]) => member !== undefined);
    encodeMap(writer, entries as [CborValue, CborValue][], depth);
  }
};

/** Deterministic CBOR of `value`. Plain objects are maps with text keys; use a `Map` for integer keys. */
export const encodeCbor = (value: CborValue): Uint8Array => {
  const writer = new Writer();
  encodeItem(writer, value, 0);
  return writer.result();
};

// ---------------------------------------------------------------------------------------------------------
// Decoding

const BREAK = Symbol('break');

class Reader {
  offset = 0;
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  need(count: number): void {
    if (this.offset + count > this.bytes.length) throw new CborError('unexpected end of input');
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.offset++] as number;
  }

  take(count: number): Uint8Array {
    this.need(count);
    const slice = this.bytes.subarray(this.offset, this.offset + count);
    this.offset += count;
    return slice;
  }

  /** The argument of an initial byte: a number when it is a safe integer, else a bigint; -1 for indefinite. */
  argument(info: number): number | bigint {
    if (info < 24) return info;
    switch (info) {
      case 24:
        return this.u8();
      case 25: {
        this.need(2);
        const value = this.view.getUint16(this.offset);
        this.offset += 2;
        return value;
      }
      case 26: {
        this.need(4);
        const value = this.view.getUint32(this.offset);
        this.offset += 4;
        return value;
      }
      case 27: {
        this.need(8);
        const value = this.view.getBigUint64(this.offset);
        this.offset += 8;
        return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
      }
      case 31:
        return -1;
      default:
        throw new CborError(`reserved additional information ${info}`);
    }
  }
}

const halfToNumber = (half: number): number => {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
};

const length = (reader: Reader, argument: number | bigint): number => {
  if (typeof argument === 'bigint' || argument > reader.bytes.length) throw new CborError('length exceeds the input');
  return argument;
};

/** A stable identity for a decoded map key, to reject duplicates. */
const keyIdentity = (key: CborValue): string => {
  if (typeof key === 'number' || typeof key === 'bigint') return `n:${key}`;
  if (typeof key === 'string') return `s:${key}`;
  if (key instanceof Uint8Array) return `b:${Buffer.from(key).toString('hex')}`;
  return `x:${Buffer.from(encodeCbor(key)).toString('hex')}`;
};

const readChunks = (reader: Reader, major: number, depth: number): Uint8Array => {
  const chunks: Uint8Array[] = [];
  for (;;) {
    const item = readItem(reader, depth + 1, true);
    if (item === BREAK) break;
    if (major === 2 && !(item instanceof Uint8Array))
      throw new CborError('an indefinite byte string holds a non-bytes chunk');
    if (major === 3 && typeof item !== 'string')
      throw new CborError('an indefinite text string holds a non-text chunk');
    chunks.push(typeof item === 'string' ? utf8Encoder.encode(item) : (item as Uint8Array));
  }
  return new Uint8Array(Buffer.concat(chunks));
};

const readItem = (reader: Reader, depth: number, allowBreak = false): CborValue | typeof BREAK => {
  if (depth > MAX_DEPTH) throw new CborError(`nesting deeper than ${MAX_DEPTH}`);
  const initial = reader.u8();
  const major = initial >> 5;
  const info = initial & 0x1f;
  if (major === 7) {
    switch (info) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 23:
        throw new CborError('undefined is not allowed');
      case 25: {
        reader.need(2);
        const value = halfToNumber(reader.view.getUint16(reader.offset));
        reader.offset += 2;
        return value;
      }
      case 26: {
        reader.need(4);
        const value = reader.view.getFloat32(reader.offset);
        reader.offset += 4;
        return value;
      }
      case 27: {
        reader.need(8);
        const value = reader.view.getFloat64(reader.offset);
        reader.offset += 8;
        return value;
      }
      case 31:
        if (allowBreak) return BREAK;
        throw new CborError('unexpected break');
      default:
        throw new CborError(`unsupported simple value ${info}`);
    }
  }
  const argument = reader.argument(info);
  const indefinite = argument === -1;
  if (indefinite && (major === 0 || major === 1 || major === 6)) {
    throw new CborError(`major type ${major} cannot have indefinite length`);
  }
  switch (major) {
    case 0:
      return argument;
    case 1:
      return typeof argument === 'bigint' || argument >= Number.MAX_SAFE_INTEGER
        ? -1n - BigInt(argument)
        : -1 - argument;
    case 2:
      // Always a plain Uint8Array copy, whatever (Buffer) view the input was.
      return indefinite ? readChunks(reader, 2, depth) : new Uint8Array(reader.take(length(reader, argument)));
    case 3: {
      const bytes = indefinite ? readChunks(reader, 3, depth) : reader.take(length(reader, argument));
      try {
        return utf8Decoder.decode(bytes);
      } catch (error) {
        throw new CborError('a text string is not valid UTF-8', { cause: error });
      }
    }
    case 4: {
      const items: CborValue[] = [];
      if (indefinite) {
        for (;;) {
          const item = readItem(reader, depth + 1, true);
          if (item === BREAK) break;
          items.push(item);
        }
      } else {
        const count = length(reader, argument);
        for (let i = 0; i < count; i++) items.push(readItem(reader, depth + 1) as CborValue);
      }
      return items;
    }
    case 5: {
      const map = new Map<CborValue, CborValue>();
      const seen = new Set<string>();
      const count = indefinite ? Number.POSITIVE_INFINITY : length(reader, argument);
      for (let i = 0; i < count; i++) {
        const key = readItem(reader, depth + 1, indefinite);
        if (key === BREAK) break;
        const identity = keyIdentity(key);
        if (seen.has(identity)) throw new CborError('a map has two equal keys');
        seen.add(identity);
        map.set(key, readItem(reader, depth + 1) as CborValue);
      }
      return map;
    }
    case 6: {
      if (typeof argument === 'bigint') throw new CborError('tag number out of range');
      return new CborTag(argument, readItem(reader, depth + 1) as CborValue);
    }
    default:
      throw new CborError(`unknown major type ${major}`);
  }
};

/** Decodes exactly one CBOR item; trailing bytes are an error. */
export const decodeCbor = (bytes: Uint8Array): CborValue => {
  const reader = new Reader(bytes);
  const value = readItem(reader, 0) as CborValue;
  if (reader.offset !== bytes.length) throw new CborError(`${bytes.length - reader.offset} bytes after the CBOR item`);
  return value;
};

/**
 * A decoded CBOR item as JSON data: maps with text keys become objects, integers numbers. Anything JSON
 * cannot hold (byte strings, tags, integer keys, integers beyond 2^53) is an error.
 */
export const cborToJson = (value: CborValue, path = '$'): unknown => {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new CborError(`${path}: ${value} is not a JSON number`);
    return value;
  }
  if (typeof value === 'bigint') throw new CborError(`${path}: integer beyond 2^53`);
  if (value instanceof Uint8Array) throw new CborError(`${path}: a byte string is not JSON`);
  if (value instanceof CborTag) throw new CborError(`${path}: tag ${value.tag} is not JSON`);
  if (Array.isArray(value))
    return (value as readonly CborValue[]).map((item, index) => cborToJson(item, `${path}[${index}]`));
  if (value instanceof Map) {
    const object: Record<string, unknown> = {};
    for (const [key, member] of value) {
      if (typeof key !== 'string') throw new CborError(`${path}: a map key is not text`);
      object[key] = cborToJson(member as CborValue, `${path}.${key}`);
    }
    return object;
  }
  const object: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) object[key] = cborToJson(member as CborValue, `${path}.${key}`);
  return object;
};
