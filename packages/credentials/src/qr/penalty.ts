/**
 * The ISO/IEC 18004 mask penalty (N1 runs, N2 2x2 blocks, N3 finder-like patterns, N4 dark balance) with
 * the weights of qrcode's getPenaltyN1..N4 (3, 3, 40, 10), so the mask chosen is the one qrcode would choose.
 *
 * The symbol is packed 32 modules to a word, once along rows and once along columns, and every rule is
 * evaluated on whole words: a module costs a few operations instead of a few dozen, and nothing branches
 * on the (noise-like) module values.
 */

const popcount = (value: number): number => {
  let v = value - ((value >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
};

/** A symbol packed 32 modules to a word, along rows and along columns; `words` words per line. */
export interface PackedSymbol {
  size: number;
  words: number;
  rows: Uint32Array;
  cols: Uint32Array;
}

export const emptyPacked = (size: number): PackedSymbol => {
  const words = Math.ceil(size / 32);
  return { size, words, rows: new Uint32Array(size * words), cols: new Uint32Array(size * words) };
};

/** Packs `modules[row * size + col]` (0 or 1). */
export const packSymbol = (modules: Uint8Array, size: number): PackedSymbol => {
  const packed = emptyPacked(size);
  const { words, rows, cols } = packed;
  let index = 0;
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const module = modules[index++] as number;
      const rowWord = r * words + (c >>> 5);
      const colWord = c * words + (r >>> 5);
      rows[rowWord] = (rows[rowWord] as number) | (module << (c & 31));
      cols[colWord] = (cols[colWord] as number) | (module << (r & 31));
    }
  }
  return packed;
};

/** Sets one module of a packed symbol, in both orientations. */
export const setPackedModule = (packed: PackedSymbol, row: number, col: number, bit: number): void => {
  const { words, rows, cols } = packed;
  const rowWord = row * words + (col >>> 5);
  const colWord = col * words + (row >>> 5);
  const rowMask = 1 << (col & 31);
  const colMask = 1 << (row & 31);
  rows[rowWord] = bit ? (rows[rowWord] as number) | rowMask : (rows[rowWord] as number) & ~rowMask;
  cols[colWord] = bit ? (cols[colWord] as number) | colMask : (cols[colWord] as number) & ~colMask;
};

/** Per-line temporaries of the penalty, for one symbol size. */
export interface PenaltyScratch {
  equal: Uint32Array;
  runs: Uint32Array;
}

export const penaltyScratch = (size: number): PenaltyScratch => {
  const words = Math.ceil(size / 32);
  return { equal: new Uint32Array(words), runs: new Uint32Array(words) };
};

/** The bits 0..count-1 of word `word` set (for masking off the positions past the end of a line). */
const validBits = (word: number, count: number): number => {
  const from = word * 32;
  if (count <= from) return 0;
  if (count >= from + 32) return 0xffffffff;
  return (1 << (count - from)) - 1;
};

/** Word `j` of the line at `offset` shifted towards bit 0 by `k` (0..31): bit i of the result is module i + k. */
const shifted = (line: Uint32Array, offset: number, words: number, j: number, k: number): number => {
  const low = line[offset + j] as number;
  if (k === 0) return low;
  const high = j + 1 < words ? (line[offset + j + 1] as number) : 0;
  return (low >>> k) | (high << (32 - k));
};

// The finder-like windows of N3, module s first: 1011101 then 4 light, or 4 light then 1011101.
const FINDER_THEN_LIGHT = [1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0];
const LIGHT_THEN_FINDER = [0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1];

/** N1 and N3 along one line (a row or a column). */
const lineScore = (line: Uint32Array, offset: number, size: number, words: number, s: PenaltyScratch): number => {
  const { equal, runs } = s;
  // equal: bit i set when modules i and i+1 have one colour (i < size - 1).
  for (let j = 0; j < words; j++) {
    equal[j] = ~(shifted(line, offset, words, j, 0) ^ shifted(line, offset, words, j, 1)) & validBits(j, size - 1);
  }
  // runs: bit i set when modules i..i+4 have one colour. A run of L >= 5 sets L - 4 bits, in a row.
  for (let j = 0; j < words; j++) {
    runs[j] =
      (equal[j] as number) &
      shifted(equal, 0, words, j, 1) &
      shifted(equal, 0, words, j, 2) &
      shifted(equal, 0, words, j, 3);
  }
  let n1 = 0;
  let n3 = 0;
  for (let j = 0; j < words; j++) {
    const run = runs[j] as number;
    const previous = (run << 1) | (j > 0 ? (runs[j - 1] as number) >>> 31 : 0);
    // qrcode: 3 + (L - 5) per run = (L - 4) set bits + 2 per run (counted at its first bit).
    n1 += popcount(run) + 2 * popcount(run & ~previous);
    let finderFirst = validBits(j, size - 10);
    let lightFirst = finderFirst;
    for (let t = 0; t < 11; t++) {
      const bits = shifted(line, offset, words, j, t);
      finderFirst &= FINDER_THEN_LIGHT[t] ? bits : ~bits;
      lightFirst &= LIGHT_THEN_FINDER[t] ? bits : ~bits;
    }
    n3 += popcount(finderFirst) + popcount(lightFirst);
  }
  return n1 + n3 * 40;
};

/** The penalty of a candidate symbol. */
export const maskPenalty = (packed: PackedSymbol, s: PenaltyScratch): number => {
  const { size, words, rows, cols } = packed;
  let lines = 0;
  let dark = 0;
  let blocks = 0;
  for (let r = 0; r < size; r++) {
    lines += lineScore(rows, r * words, size, words, s) + lineScore(cols, r * words, size, words, s);
    for (let j = 0; j < words; j++) {
      const top = shifted(rows, r * words, words, j, 0);
      dark += popcount(top);
      if (r + 1 === size) continue;
      // N2: the 2x2 block at column c is one colour when both rows keep their colour from c to c + 1 and agree.
      const bottom = shifted(rows, (r + 1) * words, words, j, 0);
      const same =
        ~(top ^ shifted(rows, r * words, words, j, 1)) &
        ~(bottom ^ shifted(rows, (r + 1) * words, words, j, 1)) &
        ~(top ^ bottom) &
        validBits(j, size - 1);
      blocks += popcount(same);
    }
  }
  const balance = Math.abs(Math.ceil((dark * 100) / (size * size) / 5) - 10);
  return lines + blocks * 3 + balance * 10;
};
