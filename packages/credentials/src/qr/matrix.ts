import QRCode from 'qrcode';
import { QrEncodeError } from './errors.js';

export type QrErrorCorrection = 'L' | 'M' | 'Q' | 'H';

/** The QR symbol without quiet zone: `modules[row * size + col]` is 1 for a dark module. */
export interface QrMatrix {
  size: number;
  version: number;
  modules: Uint8Array;
}

type MaskPattern = QRCode.QRCodeMaskPattern;
const MASK_PATTERNS: readonly MaskPattern[] = [0, 1, 2, 3, 4, 5, 6, 7];

const create = (bytes: Uint8Array, ecc: QrErrorCorrection, maskPattern: MaskPattern): QRCode.QRCode => {
  try {
    return QRCode.create([{ data: bytes, mode: 'byte' }], { errorCorrectionLevel: ecc, maskPattern });
  } catch (error) {
    // The only data-dependent failure of `create` is a payload beyond version 40's capacity.
    throw new QrEncodeError(bytes.length, ecc, { cause: error });
  }
};

/** ISO/IEC 18004 data mask conditions (table 10); `i` is the row, `j` the column. */
const maskAt = (pattern: MaskPattern, i: number, j: number): boolean => {
  switch (pattern) {
    case 0:
      return (i + j) % 2 === 0;
    case 1:
      return i % 2 === 0;
    case 2:
      return j % 3 === 0;
    case 3:
      return (i + j) % 3 === 0;
    case 4:
      return (Math.floor(i / 2) + Math.floor(j / 3)) % 2 === 0;
    case 5:
      return ((i * j) % 2) + ((i * j) % 3) === 0;
    case 6:
      return (((i * j) % 2) + ((i * j) % 3)) % 2 === 0;
    case 7:
      return (((i * j) % 3) + ((i + j) % 2)) % 2 === 0;
  }
};

const ECC_BITS: Record<QrErrorCorrection, number> = { L: 1, M: 0, Q: 3, H: 2 };

/** The 15 format bits: 2 ECC + 3 mask bits, a (15,5) BCH remainder (generator 0x537), XOR 0x5412. */
const formatBits = (ecc: QrErrorCorrection, mask: MaskPattern): number => {
  const data = (ECC_BITS[ecc] << 3) | mask;
  let rem = data << 10;
  for (let bit = 14; bit >= 10; bit--) if (rem & (1 << bit)) rem ^= 0x537 << (bit - 10);
  return ((data << 10) | rem) ^ 0x5412;
};

/** Writes the format information for `mask` (both copies, as qrcode places them) into a candidate symbol. */
const writeFormat = (m: Uint8Array, size: number, bits: number): void => {
  for (let i = 0; i < 15; i++) {
    const bit = (bits >> i) & 1;
    const row = i < 6 ? i : i < 8 ? i + 1 : size - 15 + i;
    m[row * size + 8] = bit;
    const col = i < 8 ? size - i - 1 : i < 9 ? 15 - i : 14 - i;
    m[8 * size + col] = bit;
  }
  m[(size - 8) * size + 8] = 1; // the always-dark module
};

// The ISO 18004 penalty: N1 runs, N2 2x2 blocks, N3 finder-like patterns, N4 dark balance. The scores are
// branch-free arithmetic: masked data is noise, so branches on it would mispredict about half the time.

/** 1 if `a === b`, else 0, for small non-negative integers. */
const eq = (a: number, b: number): number => ((a ^ b) - 1) >>> 31;

/**
 * N1 and N3 along rows. N1: 3 + (L - 5) per same-colour run of L >= 5, counted as 3 when the run reaches 5
 * and 1 per module after. N3: 40 per 1:1:3:1:1 finder-like pattern with 4 light modules on one side.
 */
const rowScore = (m: Uint8Array, size: number): number => {
  let n1 = 0;
  let n3 = 0;
  for (let base = 0; base < m.length; base += size) {
    let last = m[base] as number;
    let run = 1;
    let bits = last;
    for (let c = 1; c < size; c++) {
      const module = m[base + c] as number;
      run = run * (1 ^ module ^ last) + 1;
      last = module;
      n1 += 3 * eq(run, 5) + ((5 - run) >>> 31);
      bits = ((bits << 1) & 0x7ff) | module;
      // Windows before column 10 are not yet 11 modules wide; the mask only lets full windows count.
      n3 += (eq(bits, 0x5d0) | eq(bits, 0x05d)) & ((9 - c) >>> 31);
    }
  }
  return n1 + n3 * 40;
};

/** 1 for a 2x2 block sum of 0 or 4 (one colour), indexed by the sum. */
const MONOCHROME = Uint8Array.of(1, 0, 0, 0, 1);

/** N2 (3 per 2x2 block of one colour) and N4 (10 per 5% the dark share strays from 50%). */
const areaScore = (m: Uint8Array, size: number): number => {
  let blocks = 0;
  let dark = 0;
  for (let index = 0; index < m.length; index++) dark += m[index] as number;
  for (let top = 0; top < m.length - size; top += size) {
    let left = (m[top] as number) + (m[top + size] as number);
    for (let c = 1; c < size; c++) {
      const right = (m[top + c] as number) + (m[top + size + c] as number);
      blocks += MONOCHROME[left + right] as number;
      left = right;
    }
  }
  const k = Math.abs(Math.ceil((dark * 100) / m.length / 5) - 10);
  return blocks * 3 + k * 10;
};

const transpose = (m: Uint8Array, size: number, out: Uint8Array): Uint8Array => {
  for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) out[c * size + r] = m[r * size + c] as number;
  return out;
};

/** Same scoring (weights 3, 3, 40, 10) as qrcode's getPenaltyN1..N4, so the chosen mask is identical. */
const penalty = (m: Uint8Array, size: number, scratch: Uint8Array): number =>
  rowScore(m, size) + rowScore(transpose(m, size, scratch), size) + areaScore(m, size);

/**
 * Per symbol size, the 8 masks as XOR tables that are already 0 on function patterns. The reserved layout
 * depends only on the version, so each table is built once and the mask search is then plain XORs.
 */
const maskTables = new Map<number, readonly Uint8Array[]>();

const masksFor = (size: number, reserved: Uint8Array): readonly Uint8Array[] => {
  let tables = maskTables.get(size);
  if (tables === undefined) {
    tables = MASK_PATTERNS.map((pattern) => {
      const table = new Uint8Array(size * size);
      for (let i = 0; i < size; i++) {
        for (let j = 0; j < size; j++) {
          if (reserved[i * size + j] === 0 && maskAt(pattern, i, j)) table[i * size + j] = 1;
        }
      }
      return table;
    });
    maskTables.set(size, tables);
  }
  return tables;
};

/**
 * The symbol qrcode's own mask search would give. `code` must have been made with mask 0, so the unmasked data
 * is its data XOR mask 0 off the reserved modules; each candidate is then that XOR a mask table, plus its
 * format bits. The lowest-penalty candidate is the finished symbol (version bits and function patterns are
 * never masked), so qrcode is not asked to build it again.
 */
const applyBestMask = (code: QRCode.QRCode, ecc: QrErrorCorrection): Uint8Array => {
  const { size, data, reservedBit } = code.modules;
  const tables = masksFor(size, reservedBit);
  const mask0 = tables[0] as Uint8Array;
  const unmasked = new Uint8Array(data.length);
  for (let index = 0; index < data.length; index++) {
    unmasked[index] = (data[index] as number) ^ (mask0[index] as number);
  }
  let candidate = new Uint8Array(data.length);
  let best = new Uint8Array(data.length);
  const scratch = new Uint8Array(data.length);
  let lowest = Number.POSITIVE_INFINITY;
  for (const pattern of MASK_PATTERNS) {
    const table = tables[pattern] as Uint8Array;
    for (let index = 0; index < data.length; index++) {
      candidate[index] = (unmasked[index] as number) ^ (table[index] as number);
    }
    writeFormat(candidate, size, formatBits(ecc, pattern));
    const score = penalty(candidate, size, scratch);
    if (score < lowest) {
      lowest = score;
      [best, candidate] = [candidate, best];
    }
  }
  return best;
};

/**
 * The QR symbol for `bytes` as one byte-mode segment. A `Uint8Array` goes in as-is: passing a string would
 * UTF-8-encode it and inflate every byte >= 0x80 to two, needing a larger version.
 *
 * qrcode's own mask search (8 masks scored through per-module method calls) is ~90% of its `create` time,
 * ~2.5 ms at version 24. So qrcode builds the symbol once with mask 0, and the mask is chosen and applied here on
 * typed arrays, by the same rules: module for module what `QRCode.create` gives by itself, in under half the time.
 */
export const qrMatrix = (bytes: Uint8Array, ecc: QrErrorCorrection = 'M'): QrMatrix => {
  const code = create(bytes, ecc, 0);
  return { size: code.modules.size, version: code.version, modules: applyBestMask(code, ecc) };
};
