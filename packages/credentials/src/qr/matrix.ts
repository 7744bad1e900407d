import QRCode from 'qrcode';
import { QrEncodeError } from './errors.js';
import { emptyPacked, maskPenalty, type PackedSymbol, packSymbol, penaltyScratch, setPackedModule } from './penalty.js';

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

/**
 * Where the 15 format bits go (both copies, as qrcode places them): `[row, col, bit index]`, and last the
 * always-dark module (bit index -1).
 */
const formatPositions = (size: number): readonly (readonly [number, number, number])[] => {
  const positions: [number, number, number][] = [];
  for (let i = 0; i < 15; i++) {
    positions.push([i < 6 ? i : i < 8 ? i + 1 : size - 15 + i, 8, i]);
    positions.push([8, i < 8 ? size - i - 1 : i < 9 ? 15 - i : 14 - i, i]);
  }
  positions.push([size - 8, 8, -1]);
  return positions;
};

const formatBit = (bits: number, index: number): number => (index < 0 ? 1 : (bits >> index) & 1);

/**
 * Per symbol size, the 8 masks as XOR tables that are already 0 on function patterns (bytes, and packed for
 * the penalty), with the format bit positions. The reserved layout depends only on the version, so this is
 * built once per size and the mask search is then XORs of words.
 */
interface SizeTables {
  masks: readonly Uint8Array[];
  packedMasks: readonly PackedSymbol[];
  format: ReturnType<typeof formatPositions>;
}

const sizeTables = new Map<number, SizeTables>();

const tablesFor = (size: number, reserved: Uint8Array): SizeTables => {
  let tables = sizeTables.get(size);
  if (tables === undefined) {
    const masks = MASK_PATTERNS.map((pattern) => {
      const table = new Uint8Array(size * size);
      for (let i = 0; i < size; i++) {
        for (let j = 0; j < size; j++) {
          if (reserved[i * size + j] === 0 && maskAt(pattern, i, j)) table[i * size + j] = 1;
        }
      }
      return table;
    });
    tables = {
      masks,
      packedMasks: masks.map((table) => packSymbol(table, size)),
      format: formatPositions(size),
    };
    sizeTables.set(size, tables);
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
  const { masks, packedMasks, format } = tablesFor(size, reservedBit);
  const mask0 = masks[0] as Uint8Array;
  const unmasked = new Uint8Array(data.length);
  for (let index = 0; index < data.length; index++) {
    unmasked[index] = (data[index] as number) ^ (mask0[index] as number);
  }
  const packedUnmasked = packSymbol(unmasked, size);
  const candidate = emptyPacked(size);
  const scratch = penaltyScratch(size);
  let best: MaskPattern = 0;
  let lowest = Number.POSITIVE_INFINITY;
  for (const pattern of MASK_PATTERNS) {
    const mask = packedMasks[pattern] as PackedSymbol;
    for (let word = 0; word < candidate.rows.length; word++) {
      candidate.rows[word] = (packedUnmasked.rows[word] as number) ^ (mask.rows[word] as number);
      candidate.cols[word] = (packedUnmasked.cols[word] as number) ^ (mask.cols[word] as number);
    }
    const bits = formatBits(ecc, pattern);
    for (const [row, col, index] of format) setPackedModule(candidate, row, col, formatBit(bits, index));
    const score = maskPenalty(candidate, scratch);
    if (score < lowest) {
      lowest = score;
      best = pattern;
    }
  }
  const table = masks[best] as Uint8Array;
  const symbol = new Uint8Array(data.length);
  for (let index = 0; index < data.length; index++) {
    symbol[index] = (unmasked[index] as number) ^ (table[index] as number);
  }
  const bits = formatBits(ecc, best);
  for (const [row, col, index] of format) symbol[row * size + col] = formatBit(bits, index);
  return symbol;
};

/**
 * The QR symbol for `bytes` as one byte-mode segment. A `Uint8Array` goes in as-is: passing a string would
 * UTF-8-encode it and inflate every byte >= 0x80 to two, needing a larger version.
 *
 * qrcode's own mask search (8 masks scored through per-module method calls) is ~90% of its `create` time,
 * ~2.5 ms at version 24. So qrcode builds the symbol once with mask 0, and the mask is chosen (on packed
 * words, see penalty.ts) and applied here, by the same rules: module for module what `QRCode.create` gives.
 */
export const qrMatrix = (bytes: Uint8Array, ecc: QrErrorCorrection = 'M'): QrMatrix => {
  const code = create(bytes, ecc, 0);
  return { size: code.modules.size, version: code.version, modules: applyBestMask(code, ecc) };
};
