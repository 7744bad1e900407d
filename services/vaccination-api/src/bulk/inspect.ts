import { isUtf8 } from 'node:buffer';
import { type CertificateKind, checkCsvHeader } from '@divoc/contracts';
import { parse } from 'csv-parse/sync';

/** A file refused at upload (400): a stable code and a message that says what to do. */
export class BadFile extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const SAVE_AS = 'save the sheet as "CSV UTF-8 (comma delimited)"';

/** File signatures of what people upload instead of a CSV. */
const SIGNATURES: { bytes: number[]; what: string }[] = [
  { bytes: [0x89, 0x50, 0x4e, 0x47], what: 'a PNG image' },
  { bytes: [0xff, 0xd8, 0xff], what: 'a JPEG image' },
  { bytes: [0x47, 0x49, 0x46, 0x38], what: 'a GIF image' },
  { bytes: [0x25, 0x50, 0x44, 0x46], what: 'a PDF document' },
  { bytes: [0x50, 0x4b, 0x03, 0x04], what: `a ZIP archive (an Excel .xlsx workbook is one; ${SAVE_AS})` },
  { bytes: [0xd0, 0xcf, 0x11, 0xe0], what: `an Excel .xls workbook (${SAVE_AS})` },
  { bytes: [0x1f, 0x8b], what: 'a gzip archive' },
];

const startsWith = (data: Buffer, bytes: number[]) => bytes.every((byte, index) => data[index] === byte);

/** The header line may not be longer than this (28 column names fit in well under 1 KB). */
const MAX_HEADER_BYTES = 16 * 1024;
const BOM = [0xef, 0xbb, 0xbf];
const LF = 0x0a;

/** True for a byte that starts a UTF-8 sequence (or is ASCII): a chunk may be split before it. */
const isLeadByte = (byte: number) => (byte & 0xc0) !== 0x80;

/**
 * Inspects an uploaded CSV as it streams in, without keeping it: recognizes files that are not CSV
 * text (images, workbooks, archives, NUL bytes), checks that every byte is UTF-8 (across chunk
 * boundaries), checks the header as soon as its line is complete — so a wrong template is refused
 * after the first chunk — and notices whether any data row follows. Throws BadFile.
 */
export class CsvUploadInspector {
  bytes = 0;
  private columns: string[] | undefined;
  /** The bytes of the first line, until it is complete. */
  private head: Buffer = Buffer.alloc(0);
  /** An incomplete UTF-8 sequence at the end of the previous chunk. */
  private carry: Buffer = Buffer.alloc(0);
  private lines = 1;
  private sawData = false;

  constructor(private readonly kind: CertificateKind) {}

  push(chunk: Buffer): void {
    const first = this.bytes === 0;
    this.bytes += chunk.length;
    if (first) this.checkSignature(chunk);
    if (chunk.includes(0)) {
      throw new BadFile(
        'NOT_CSV',
        `the file is not a CSV text file: it contains binary data (NUL bytes)${this.utf16(chunk) ? `; it looks UTF-16 encoded: ${SAVE_AS}` : ''}`,
      );
    }
    this.checkUtf8(chunk);
    let rest = chunk;
    // The header is the first line that is not blank (blank lines are skipped, as the worker skips them).
    while (this.columns === undefined) {
      const end = rest.indexOf(LF);
      if (end === -1) {
        this.head = Buffer.concat([this.head, rest]);
        if (this.head.length > MAX_HEADER_BYTES) {
          throw new BadFile(
            'NOT_CSV',
            `the first line is longer than ${MAX_HEADER_BYTES} bytes: it is not a CSV header`,
          );
        }
        return;
      }
      const line = Buffer.concat([this.head, rest.subarray(0, end)]);
      this.head = Buffer.alloc(0);
      rest = rest.subarray(end + 1);
      if (!this.isBlank(line)) this.checkHeader(line);
    }
    if (!this.sawData)
      this.sawData = rest.some((byte) => byte !== 0x0d && byte !== LF && byte !== 0x20 && byte !== 0x2c);
  }

  /** The file is complete: returns its header columns, or throws what is wrong with it. */
  end(): { columns: string[] } {
    if (this.bytes === 0) throw new BadFile('EMPTY_FILE', 'the file is empty');
    if (this.carry.length > 0) {
      throw new BadFile('NOT_UTF8', `the file is not UTF-8 text: it ends in the middle of a character; ${SAVE_AS}`);
    }
    if (this.columns === undefined) {
      if (this.stripBom(this.head).toString('utf8').trim() === '') throw new BadFile('EMPTY_FILE', 'the file is empty');
      this.checkHeader(this.head);
    }
    if (!this.sawData) throw new BadFile('NO_ROWS', 'the file has a header but no data rows');
    return { columns: this.columns as string[] };
  }

  private utf16(chunk: Buffer): boolean {
    return this.lines === 1 && chunk.length >= 2 && chunk[1] === 0 && (chunk[0] as number) < 0x80;
  }

  private checkSignature(chunk: Buffer) {
    if (startsWith(chunk, [0xff, 0xfe]) || startsWith(chunk, [0xfe, 0xff])) {
      throw new BadFile('NOT_UTF8', `the file is UTF-16 encoded, not UTF-8: ${SAVE_AS}`);
    }
    const match = SIGNATURES.find((signature) => startsWith(chunk, signature.bytes));
    if (match) throw new BadFile('NOT_CSV', `the file is not a CSV text file: it looks like ${match.what}`);
  }

  /** Validates whole characters only; an incomplete one at the end waits for the next chunk. */
  private checkUtf8(chunk: Buffer) {
    const data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    let split = data.length;
    for (let back = 1; back <= Math.min(3, data.length); back++) {
      if (isLeadByte(data[data.length - back] as number)) {
        split = data.length - back;
        break;
      }
    }
    // The last lead byte starts a character that may continue in the next chunk.
    const lead = data[split] as number | undefined;
    const needed = lead === undefined ? 0 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (split + needed <= data.length) split = data.length;
    const whole = data.subarray(0, split);
    this.carry = Buffer.from(data.subarray(split));
    if (!isUtf8(whole)) {
      const at = firstInvalidUtf8(whole);
      const line = this.lines + countLines(whole.subarray(0, at));
      throw new BadFile(
        'NOT_UTF8',
        `the file is not UTF-8 text (byte 0x${(whole[at] ?? 0).toString(16).toUpperCase()} on line ${line} is not UTF-8; Excel's plain "CSV" is Windows-1252): ${SAVE_AS}`,
      );
    }
    this.lines += countLines(whole);
  }

  /** An empty line (CSV parsers skip those; a line of spaces is a record). */
  private isBlank(line: Buffer): boolean {
    const rest = this.stripBom(line);
    return rest.length === 0 || (rest.length === 1 && rest[0] === 0x0d);
  }

  private stripBom(line: Buffer): Buffer {
    return startsWith(line, BOM) ? line.subarray(3) : line;
  }

  private checkHeader(line: Buffer) {
    const text = this.stripBom(line).toString('utf8').replace(/\r$/, '');
    let header: string[];
    try {
      header = (parse(text, { relax_column_count: true }) as string[][])[0] ?? [];
    } catch {
      throw new BadFile('NOT_CSV', 'the first line is not a CSV header row');
    }
    const check = checkCsvHeader(this.kind, header);
    if (!check.ok) throw new BadFile('INVALID_TEMPLATE', check.message);
    this.columns = check.columns;
  }
}

const countLines = (data: Buffer): number => {
  let count = 0;
  for (let at = data.indexOf(LF); at !== -1; at = data.indexOf(LF, at + 1)) count++;
  return count;
};

/** The offset of the first byte that breaks UTF-8 (only called once a chunk is known to be invalid). */
const firstInvalidUtf8 = (data: Buffer): number => {
  let at = 0;
  while (at < data.length) {
    const byte = data[at] as number;
    const length =
      byte < 0x80
        ? 1
        : byte >= 0xc2 && byte <= 0xdf
          ? 2
          : byte >= 0xe0 && byte <= 0xef
            ? 3
            : byte >= 0xf0 && byte <= 0xf4
              ? 4
              : 0;
    if (length === 0) return at;
    if (!isUtf8(data.subarray(at, at + length))) return at;
    at += length;
  }
  return at;
};
