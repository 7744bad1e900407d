import { readFileSync } from 'node:fs';
import { create, type Font, type Glyph, type GlyphPosition, type Subset } from 'fontkit';

/**
 * The bundled fonts (Noto Sans and Noto Sans Devanagari, SIL OFL, in `fonts/`), parsed once per process.
 *
 * pdfkit parses a font given as bytes again for every document (~30 ms per font) and shapes every word
 * again in every document. It also accepts an already parsed fontkit font, so each font here is parsed
 * once and wrapped so that shaping results (per word, as pdfkit asks for them) and encoded subsets are
 * reused across documents.
 */

export type FontWeight = 'regular' | 'bold';
export type Script = 'latin' | 'devanagari';
export type FontKey = `${Script}-${FontWeight}`;

const FILES: Record<FontKey, string> = {
  'latin-regular': 'NotoSans-Regular.ttf',
  'latin-bold': 'NotoSans-Bold.ttf',
  'devanagari-regular': 'NotoSansDevanagari-Regular.ttf',
  'devanagari-bold': 'NotoSansDevanagari-Bold.ttf',
};

export const FONT_KEYS = Object.keys(FILES) as FontKey[];

/** Shaped words kept per font; the cache is emptied when full (labels come back on the next render). */
const MAX_CACHED_RUNS = 20_000;
/** Encoded subsets kept per font (a subset depends on the glyphs used, in order of first use). */
const MAX_CACHED_SUBSETS = 64;

interface ShapedWord {
  glyphs: Glyph[];
  positions: GlyphPosition[];
  /** In font units. */
  advanceWidth: number;
}

/** What pdfkit gets from `layout`: fresh position objects (pdfkit scales them in place), shared glyphs. */
class CachedRun {
  constructor(
    readonly glyphs: Glyph[],
    readonly positions: GlyphPosition[],
  ) {}

  get advanceWidth(): number {
    let width = 0;
    for (const position of this.positions) width += position.xAdvance;
    return width;
  }
}

export interface LoadedFont {
  key: FontKey;
  /** The object handed to pdfkit (a fontkit font whose `layout` and `createSubset` are cached). */
  pdfFont: Font;
  unitsPerEm: number;
  ascent: number;
  /** Advance width in font units of `text` as pdfkit lays it out (word by word). */
  advance(text: string): number;
  hasGlyph(codePoint: number): boolean;
}

/** Subset bytes handed out by the cache below (the renderer deflates each of them once). */
const encodedSubsets = new WeakSet<Uint8Array>();
export const isEncodedSubset = (bytes: Uint8Array): boolean => encodedSubsets.has(bytes);

const wrap = (key: FontKey, font: Font): LoadedFont => {
  const words = new Map<string, ShapedWord>();
  const subsets = new Map<string, Uint8Array>();

  const shape = (text: string): ShapedWord => {
    let word = words.get(text);
    if (word === undefined) {
      const run = font.layout(text);
      word = {
        glyphs: run.glyphs,
        positions: run.positions.map(({ xAdvance, yAdvance, xOffset, yOffset }) => ({
          xAdvance,
          yAdvance,
          xOffset,
          yOffset,
        })),
        advanceWidth: run.advanceWidth,
      };
      if (words.size >= MAX_CACHED_RUNS) words.clear();
      words.set(text, word);
    }
    return word;
  };

  // Prototype delegation keeps every fontkit property and getter; only these two methods differ.
  const pdfFont: Font = Object.create(font);
  pdfFont.layout = (text: string, features?: unknown) => {
    if (features !== undefined) return font.layout(text, features);
    const word = shape(text);
    return new CachedRun(
      word.glyphs,
      word.positions.map(({ xAdvance, yAdvance, xOffset, yOffset }) => ({ xAdvance, yAdvance, xOffset, yOffset })),
    );
  };
  pdfFont.createSubset = (): Subset => {
    const subset = font.createSubset();
    const encode = subset.encode.bind(subset);
    subset.encode = () => {
      const id = subset.glyphs.join(',');
      let bytes = subsets.get(id);
      if (bytes === undefined) {
        bytes = encode();
        encodedSubsets.add(bytes);
        if (subsets.size >= MAX_CACHED_SUBSETS) subsets.delete(subsets.keys().next().value as string);
        subsets.set(id, bytes);
      }
      return bytes;
    };
    return subset;
  };

  return {
    key,
    pdfFont,
    unitsPerEm: font.unitsPerEm,
    ascent: font.ascent,
    // pdfkit shapes a text in pieces that end after each space or tab; measure it the same way.
    advance: (text) => {
      let width = 0;
      let start = 0;
      for (let index = 0; index < text.length; index++) {
        const char = text.charCodeAt(index);
        if (char === 32 || char === 9) {
          width += shape(text.slice(start, index + 1)).advanceWidth;
          start = index + 1;
        }
      }
      if (start < text.length) width += shape(text.slice(start)).advanceWidth;
      return width;
    },
    hasGlyph: (codePoint) => font.hasGlyphForCodePoint(codePoint),
  };
};

let loaded: Record<FontKey, LoadedFont> | undefined;

/** The four bundled fonts, read and parsed on first use. */
export const bundledFonts = (): Record<FontKey, LoadedFont> => {
  if (loaded === undefined) {
    const directory = new URL('../fonts/', import.meta.url);
    loaded = Object.fromEntries(
      FONT_KEYS.map((key) => [key, wrap(key, create(readFileSync(new URL(FILES[key], directory))))]),
    ) as Record<FontKey, LoadedFont>;
  }
  return loaded;
};

const isDevanagari = (codePoint: number): boolean =>
  (codePoint >= 0x0900 && codePoint <= 0x097f) ||
  (codePoint >= 0xa8e0 && codePoint <= 0xa8ff) ||
  (codePoint >= 0x1cd0 && codePoint <= 0x1cff);

/** Spaces, digits, punctuation, symbols and joiners belong to whichever script surrounds them. */
const isCommon = (char: string): boolean => /^[\s\p{N}\p{P}\p{S}\u200c\u200d]$/u.test(char);

export interface ScriptRun {
  script: Script;
  text: string;
}

/**
 * Splits a text into runs of one script each, so every run is drawn with a font that has its glyphs and
 * is shaped as a whole (Devanagari conjuncts and vowel signs need the whole cluster in one run).
 */
export const scriptRuns = (text: string, fonts: Record<Script, LoadedFont>): ScriptRun[] => {
  const runs: ScriptRun[] = [];
  let current: ScriptRun | undefined;
  for (const char of text) {
    const codePoint = char.codePointAt(0) as number;
    let script: Script;
    if (isDevanagari(codePoint)) script = 'devanagari';
    else if (current !== undefined && isCommon(char) && fonts[current.script].hasGlyph(codePoint))
      script = current.script;
    else script = 'latin';
    if (current !== undefined && current.script === script) current.text += char;
    else {
      current = { script, text: char };
      runs.push(current);
    }
  }
  return runs;
};

/** Reads and parses the bundled fonts now (about 0.2 s), so that the first certificate is not slower. */
export const preloadFonts = (): void => {
  bundledFonts();
};
