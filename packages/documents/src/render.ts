import { deflateSync, constants as zlibConstants } from 'node:zlib';
import {
  type CertificateTemplate,
  decodeTemplateImage,
  type ImageElement,
  type LineElement,
  type QrElement,
  type RectElement,
  type TableElement,
  type TemplateElement,
  type TemplateToken,
  type TextElement,
  templateTokens,
} from '@divoc/contracts';
import type { QrMatrix } from '@divoc/credentials';
import PDFDocument from 'pdfkit';
import {
  bundledFonts,
  FONT_KEYS,
  type FontKey,
  type FontWeight,
  isEncodedSubset,
  type LoadedFont,
  type Script,
  scriptRuns,
} from './fonts.js';
import { type CertificateView, NOT_AVAILABLE } from './view.js';

/**
 * Renders a certificate PDF from a declarative template (validated by `@divoc/contracts`), a view model and
 * the credential's QR symbol. Text is shaped by fontkit (Devanagari conjuncts and vowel-sign reordering) with
 * the bundled Noto fonts, chosen per script run; Devanagari runs carry their logical text as ActualText so
 * copy-and-paste and text extraction give back what was written. The QR code is vector (one path of merged
 * module runs). The same input gives the same bytes: the creation date is the credential's issuance date.
 */

export interface RenderInput {
  template: CertificateTemplate;
  view: CertificateView;
  qr: QrMatrix;
  /** Label language; a language the template lacks (or a label missing in it) falls back to `en`. */
  lang: string;
}

export interface RenderOptions {
  /** Deflate the PDF's streams (default true: about a third of the size, at a small cost in time). */
  compress?: boolean;
}

/** Smallest size a text is shrunk to, as a fraction of its template size, before it is cut with "…". */
const MIN_SHRINK = 0.6;
const ELLIPSIS = '…';
const CELL_PADDING = 4;

interface CompiledTemplate {
  template: CertificateTemplate;
  tokens: Map<TextElement, TemplateToken[]>;
  images: Map<ImageElement, Buffer>;
  /** Laid-out texts made of labels and literals only (the same in every render of a language). */
  staticTexts: Map<string, Fitted>;
}

const PRINTABLE_ASCII = Array.from({ length: 95 }, (_, index) => String.fromCharCode(32 + index)).join('');

const TEXT_OPTIONS: PDFKit.Mixins.TextOptions = { lineBreak: false, baseline: 'alphabetic' };

/** A PDF text string as UTF-16BE hex with a byte order mark, e.g. `<FEFF0915>`. */
const pdfTextString = (text: string): string => {
  let hex = '<FEFF';
  for (let index = 0; index < text.length; index++) hex += text.charCodeAt(index).toString(16).padStart(4, '0');
  return `${hex}>`;
};

const compiled = new WeakMap<CertificateTemplate, CompiledTemplate>();

/** Parses every text and decodes every image of a template once (per template object). */
const compile = (template: CertificateTemplate): CompiledTemplate => {
  let result = compiled.get(template);
  if (result === undefined) {
    result = { template, tokens: new Map(), images: new Map(), staticTexts: new Map() };
    for (const element of template.elements) {
      if (element.type === 'text') result.tokens.set(element, templateTokens(element.text));
      if (element.type === 'image') {
        const image = decodeTemplateImage(element.data);
        if (image.ok) result.images.set(element, Buffer.from(image.bytes));
      }
    }
    compiled.set(template, result);
  }
  return result;
};

type Fonts = Record<FontKey, LoadedFont>;

interface Run {
  font: LoadedFont;
  script: Script;
  text: string;
  /** Advance per point of font size. */
  unitWidth: number;
}

interface Line {
  runs: Run[];
  unitWidth: number;
}

const fontsFor = (fonts: Fonts, weight: FontWeight): Record<Script, LoadedFont> => ({
  latin: fonts[`latin-${weight}`],
  devanagari: fonts[`devanagari-${weight}`],
});

const shapeLine = (text: string, faces: Record<Script, LoadedFont>): Line => {
  const runs = scriptRuns(text, faces).map(({ script, text: runText }) => {
    const font = faces[script];
    return { font, script, text: runText, unitWidth: font.advance(runText) / font.unitsPerEm };
  });
  return { runs, unitWidth: runs.reduce((sum, run) => sum + run.unitWidth, 0) };
};

/** Greedy word wrap at spaces for a line width given in units of the font size. */
const wrapWords = (text: string, limit: number, faces: Record<Script, LoadedFont>): Line[] => {
  const words = text.split(' ').filter((word) => word !== '');
  const lines: Line[] = [];
  let current = words[0] ?? '';
  for (const word of words.slice(1)) {
    const candidate = `${current} ${word}`;
    if (shapeLine(candidate, faces).unitWidth <= limit) current = candidate;
    else {
      lines.push(shapeLine(current, faces));
      current = word;
    }
  }
  lines.push(shapeLine(current, faces));
  return lines;
};

/** Cuts a line until it fits with an ellipsis. */
const truncate = (text: string, limit: number, faces: Record<Script, LoadedFont>): Line => {
  const chars = [...text];
  while (chars.length > 0) {
    const line = shapeLine(`${chars.join('').trimEnd()}${ELLIPSIS}`, faces);
    if (line.unitWidth <= limit) return line;
    chars.pop();
  }
  return shapeLine(ELLIPSIS, faces);
};

/**
 * Fits a text into a box `width` wide and `maxLines` high: as it is if it fits, else wrapped at spaces,
 * else shrunk (down to 60 %), else cut with "…".
 */
interface Fitted {
  size: number;
  lines: Line[];
}

const fitText = (
  text: string,
  faces: Record<Script, LoadedFont>,
  size: number,
  width: number | undefined,
  maxLines: number,
): Fitted => {
  const single = shapeLine(text, faces);
  if (width === undefined || single.unitWidth * size <= width) return { size, lines: [single] };
  const minSize = size * MIN_SHRINK;
  if (maxLines === 1) {
    const shrunk = width / single.unitWidth;
    if (shrunk >= minSize) return { size: shrunk, lines: [single] };
    return { size: minSize, lines: [truncate(text, width / minSize, faces)] };
  }
  for (let candidate = size; candidate >= minSize - 1e-9; candidate -= size * 0.05) {
    const lines = wrapWords(text, width / candidate, faces);
    if (lines.length <= maxLines && lines.every((line) => line.unitWidth * candidate <= width)) {
      return { size: candidate, lines };
    }
  }
  const lines = wrapWords(text, width / minSize, faces);
  const kept = lines.slice(0, maxLines - 1);
  const rest = lines
    .slice(maxLines - 1)
    .map((line) => line.runs.map((run) => run.text).join(''))
    .join(' ');
  kept.push(truncate(rest, width / minSize, faces));
  return { size: minSize, lines: kept };
};

class Renderer {
  private readonly labels: Record<string, string>;
  private readonly fallback: Record<string, string>;
  private readonly seeded = new Set<FontKey>();

  constructor(
    private readonly doc: PDFKit.PDFDocument,
    private readonly fonts: Fonts,
    private readonly compiledTemplate: CompiledTemplate,
    private readonly view: CertificateView,
    private readonly qr: QrMatrix,
    lang: string,
  ) {
    const { labels } = compiledTemplate.template;
    this.fallback = labels.en ?? {};
    this.labels = labels[lang] ?? this.fallback;
  }

  label(key: string): string {
    return this.labels[key] ?? this.fallback[key] ?? key;
  }

  field(name: string): string {
    return (this.view.fields as Record<string, string | undefined>)[name] ?? NOT_AVAILABLE;
  }

  resolve(tokens: readonly TemplateToken[]): string {
    let text = '';
    for (const token of tokens) {
      text +=
        token.kind === 'literal' ? token.text : token.kind === 'label' ? this.label(token.key) : this.field(token.name);
    }
    return text;
  }

  /**
   * Selects a font. The first time a Latin font is used in a document, the printable ASCII glyphs are put
   * in its subset before any text is drawn: the subset (glyphs in order of first use) is then the same
   * for every certificate whose values are ASCII, so its encoded, deflated bytes come from the cache instead
   * of being built again for every new name (`EmbeddedFont.encode` is pdfkit 0.20's, pinned).
   */
  useFont(font: LoadedFont, size: number): void {
    this.doc.font(font.key).fontSize(size);
    if (font.key.startsWith('latin') && !this.seeded.has(font.key)) {
      this.seeded.add(font.key);
      (this.doc as unknown as { _font: { encode(text: string): unknown } })._font.encode(PRINTABLE_ASCII);
    }
  }

  /** Draws one line with its baseline at `baseline`, starting at `x`. */
  drawLine(line: Line, x: number, baseline: number, size: number): void {
    const { doc } = this;
    let left = x;
    for (const run of line.runs) {
      this.useFont(run.font, size);
      if (run.script === 'devanagari') this.drawWithActualText(run.text, left, baseline);
      else doc.text(run.text, left, baseline, TEXT_OPTIONS);
      left += run.unitWidth * size;
    }
  }

  /**
   * Shaped Devanagari is stored in visual glyph order (a reph or an i-matra moves, conjuncts become one
   * glyph), so the glyphs alone do not give the text back. An ActualText span carries the logical text for
   * extraction, search and copy. It must open and close inside pdfkit's text object: readers place the
   * actual text with the graphics state at the span's end, and pdfkit restores its own state after `ET`.
   */
  drawWithActualText(text: string, x: number, baseline: number): void {
    const { doc } = this;
    const pieces: string[] = [];
    // Shadow the prototype's addContent on the instance for the one call, then uncover it again.
    doc.addContent = (data: string) => {
      pieces.push(data);
      return doc;
    };
    try {
      doc.text(text, x, baseline, TEXT_OPTIONS);
    } finally {
      delete (doc as { addContent?: unknown }).addContent;
    }
    const begin = pieces.indexOf('BT');
    const end = pieces.lastIndexOf('ET');
    const open = `/Span <</ActualText ${pdfTextString(text)}>> BDC`;
    if (begin >= 0 && end > begin) {
      pieces.splice(end, 0, 'EMC');
      pieces.splice(begin + 1, 0, open);
    } else {
      pieces.unshift(open);
      pieces.push('EMC');
    }
    doc.addContent(pieces.join('\n'));
  }

  /** A text in a box: `top` is the top of the first line, whose baseline is one Latin ascent below. */
  drawText(
    text: string,
    box: { x: number; top: number; width?: number | undefined; align: 'left' | 'center' | 'right' },
    style: { weight: FontWeight; size: number; color: string; maxLines: number; lineHeight: number },
    isStatic: boolean,
  ): void {
    const faces = fontsFor(this.fonts, style.weight);
    let fitted: Fitted | undefined;
    const key = isStatic ? `${style.weight}|${style.size}|${box.width}|${style.maxLines}|${text}` : '';
    if (isStatic) fitted = this.compiledTemplate.staticTexts.get(key);
    if (fitted === undefined) {
      fitted = fitText(text, faces, style.size, box.width, style.maxLines);
      if (isStatic) this.compiledTemplate.staticTexts.set(key, fitted);
    }
    const { size, lines } = fitted;
    const ascent = faces.latin.ascent / faces.latin.unitsPerEm;
    this.doc.fillColor(style.color);
    lines.forEach((line, index) => {
      const width = line.unitWidth * size;
      const offset =
        box.width === undefined || box.align === 'left'
          ? 0
          : box.align === 'center'
            ? (box.width - width) / 2
            : box.width - width;
      this.drawLine(line, box.x + offset, box.top + ascent * size + index * size * style.lineHeight, size);
    });
  }

  text(element: TextElement): void {
    const tokens = this.compiledTemplate.tokens.get(element) ?? templateTokens(element.text);
    this.drawText(
      this.resolve(tokens),
      { x: element.x, top: element.y, width: element.width, align: element.align },
      {
        weight: element.font,
        size: element.size,
        color: element.color,
        maxLines: element.maxLines,
        lineHeight: element.lineHeight,
      },
      tokens.every((token) => token.kind !== 'field'),
    );
  }

  image(element: ImageElement): void {
    const bytes = this.compiledTemplate.images.get(element);
    if (bytes === undefined) return;
    this.doc.image(bytes, element.x, element.y, {
      fit: [element.width, element.height],
      align: 'center',
      valign: 'center',
    });
  }

  line(element: LineElement): void {
    this.doc
      .moveTo(element.x1, element.y1)
      .lineTo(element.x2, element.y2)
      .lineWidth(element.width)
      .strokeColor(element.color)
      .stroke();
  }

  rect(element: RectElement): void {
    const { doc } = this;
    if (element.radius > 0) doc.roundedRect(element.x, element.y, element.width, element.height, element.radius);
    else doc.rect(element.x, element.y, element.width, element.height);
    doc.lineWidth(element.lineWidth);
    if (element.fill !== undefined && element.stroke !== undefined) doc.fillAndStroke(element.fill, element.stroke);
    else if (element.fill !== undefined) doc.fill(element.fill);
    else if (element.stroke !== undefined) doc.stroke(element.stroke);
  }

  table(element: TableElement): void {
    const { doc } = this;
    const rows = this.view.kind === 'vaccination' ? this.view.vaxEvents.slice(0, element.maxRows) : [];
    const width = element.columns.reduce((sum, column) => sum + column.width, 0);
    const height = element.rowHeight * (rows.length + 1);
    if (element.headerFill !== undefined) {
      doc.rect(element.x, element.y, width, element.rowHeight).fill(element.headerFill);
    }
    // The line box of Noto Sans (ascent + descent) is 1.36 em; centre it in the row.
    const inset = (element.rowHeight - 1.36 * element.size) / 2;
    const cell = (text: string, left: number, top: number, column: (typeof element.columns)[number], header: boolean) =>
      this.drawText(
        text,
        { x: left + CELL_PADDING, top: top + inset, width: column.width - 2 * CELL_PADDING, align: column.align },
        {
          weight: header ? 'bold' : 'regular',
          size: element.size,
          color: header ? element.headerColor : element.color,
          maxLines: 1,
          lineHeight: 1,
        },
        header,
      );
    let left = element.x;
    for (const column of element.columns) {
      cell(this.label(column.header), left, element.y, column, true);
      rows.forEach((row, index) => {
        const value = (row as Record<string, string | undefined>)[column.field] ?? NOT_AVAILABLE;
        cell(value, left, element.y + (index + 1) * element.rowHeight, column, false);
      });
      left += column.width;
    }
    doc.lineWidth(0.5).strokeColor(element.borderColor);
    for (let index = 0; index <= rows.length + 1; index++) {
      const y = element.y + index * element.rowHeight;
      doc.moveTo(element.x, y).lineTo(element.x + width, y);
    }
    left = element.x;
    doc.moveTo(left, element.y).lineTo(left, element.y + height);
    for (const column of element.columns) {
      left += column.width;
      doc.moveTo(left, element.y).lineTo(left, element.y + height);
    }
    doc.stroke();
  }

  /** The QR symbol as one vector path: a rectangle per horizontal run of dark modules, on a white quiet zone. */
  qrCode(element: QrElement): void {
    const { doc, qr } = this;
    const module = element.size / qr.size;
    const quiet = 4 * module;
    doc.rect(element.x - quiet, element.y - quiet, element.size + 2 * quiet, element.size + 2 * quiet).fill('#ffffff');
    doc.save();
    doc.transform(module, 0, 0, module, element.x, element.y);
    doc.fillColor('#000000');
    const parts: string[] = [];
    const { size, modules } = qr;
    for (let row = 0; row < size; row++) {
      const offset = row * size;
      let column = 0;
      while (column < size) {
        if (modules[offset + column] === 0) {
          column++;
          continue;
        }
        const start = column;
        while (column < size && modules[offset + column] !== 0) column++;
        parts.push(`${start} ${row} ${column - start} 1 re`);
      }
    }
    parts.push('f');
    doc.addContent(parts.join('\n'));
    doc.restore();
  }

  element(element: TemplateElement): void {
    switch (element.type) {
      case 'text':
        this.text(element);
        break;
      case 'image':
        this.image(element);
        break;
      case 'line':
        this.line(element);
        break;
      case 'rect':
        this.rect(element);
        break;
      case 'table':
        this.table(element);
        break;
      case 'qr':
        this.qrCode(element);
        break;
    }
  }
}

/** A pdfkit stream object as it is while the document is written (pdfkit 0.20 internals, pinned). */
interface StreamReference {
  compress: boolean;
  data: Record<string, unknown>;
  buffer: Uint8Array[];
  finalize(): void;
}

/** Deflated font subsets, by the (cached, reused) subset bytes they were made from. */
const deflatedSubsets = new WeakMap<Uint8Array, Uint8Array>();

/**
 * Deflates a stream: font subsets at the default level, once per distinct subset; everything else
 * (the page content, mostly the QR code's rectangles) at the fastest level, which costs a sixth of the
 * default level's time for about 20 % more bytes.
 */
const deflateStream = (chunks: Uint8Array[]): Uint8Array => {
  const single = chunks.length === 1 ? chunks[0] : undefined;
  if (single !== undefined && isEncodedSubset(single)) {
    let deflated = deflatedSubsets.get(single);
    if (deflated === undefined) {
      deflated = deflateSync(single);
      deflatedSubsets.set(single, deflated);
    }
    return deflated;
  }
  return deflateSync(single ?? Buffer.concat(chunks), { level: zlibConstants.Z_BEST_SPEED });
};

/**
 * A pdfkit document that keeps the pieces pdfkit writes instead of streaming them (a page is a few tens of
 * kilobytes, and the stream machinery would cost more than rendering it; `end()` finishes synchronously),
 * and that compresses its streams itself (see `deflateStream`) instead of at pdfkit's fixed default level.
 */
class BufferedDocument extends PDFDocument {
  declare private chunks: Uint8Array[] | undefined;

  override push(chunk: unknown): boolean {
    if (chunk instanceof Uint8Array) {
      if (this.chunks === undefined) this.chunks = [chunk];
      else this.chunks.push(chunk);
    }
    return true;
  }

  override ref(data: object = {}): PDFKit.PDFKitReference {
    const reference = super.ref(data);
    const stream = reference as unknown as StreamReference;
    if (stream.compress) {
      stream.compress = false;
      const finalize = stream.finalize;
      stream.finalize = () => {
        if (stream.buffer.length > 0) {
          stream.buffer = [deflateStream(stream.buffer)];
          stream.data.Filter = 'FlateDecode';
        }
        finalize.call(stream);
      };
    }
    return reference;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks ?? []);
  }
}

/**
 * Renders one certificate page. Fonts are parsed on the first call of the process; a template is prepared
 * (texts parsed, images decoded, label layouts kept) once per template object, so pass the object the
 * configuration store holds rather than a fresh copy each time.
 */
export const renderCertificatePdf = (input: RenderInput, options: RenderOptions = {}): Buffer => {
  const fonts = bundledFonts();
  const template = compile(input.template);
  const certificateId = input.view.fields.certificateId;
  const doc = new BufferedDocument({
    size: 'A4',
    margin: 0,
    compress: options.compress ?? true,
    pdfVersion: '1.5',
    // The language the labels are actually in (a language the template lacks falls back to English).
    lang: input.template.labels[input.lang] === undefined ? 'en' : input.lang,
    // No default font: pdfkit would load Helvetica's metrics for every document.
    font: null as unknown as string,
    info: {
      Title: `Certificate ${certificateId}`,
      Creator: `DIVOC-TS documents (template ${input.template.version})`,
      Producer: 'DIVOC-TS',
      CreationDate: input.view.issuedAt,
      ModDate: input.view.issuedAt,
    },
  });
  for (const key of FONT_KEYS) doc.registerFont(key, fonts[key].pdfFont as unknown as PDFKit.Mixins.PDFFontSource);
  const renderer = new Renderer(doc, fonts, template, input.view, input.qr, input.lang);
  for (const element of input.template.elements) renderer.element(element);
  doc.end();
  return doc.bytes();
};
