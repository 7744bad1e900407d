import { VACCINATION_CSV_COLUMNS } from '@divoc/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadFile, CsvUploadInspector } from '../src/bulk/inspect.js';

const HEADER = VACCINATION_CSV_COLUMNS.join(',');

/** Feeds `data` to a fresh inspector in pieces cut at `cuts`; returns the columns or the BadFile. */
const inspect = (data: Buffer, cuts: number[] = []): { columns: string[] } | BadFile => {
  const inspector = new CsvUploadInspector('vaccination');
  const points = [...new Set(cuts.filter((cut) => cut > 0 && cut < data.length))].sort((a, b) => a - b);
  try {
    let from = 0;
    for (const point of [...points, data.length]) {
      if (point > from) inspector.push(data.subarray(from, point));
      from = point;
    }
    return inspector.end();
  } catch (error) {
    if (error instanceof BadFile) return error;
    throw error;
  }
};

describe('CsvUploadInspector', () => {
  it('accepts UTF-8 text however the stream cuts it, even inside a character', () => {
    const text = `\ufeff${HEADER}\r\nP-1,Ren\u00e9e \u0928\u092e\u0938\u094d\u0924\u0947 \u{1F600},9000012345\r\n`;
    const data = Buffer.from(text);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: data.length - 1 }), { maxLength: 12 }), (cuts) => {
        expect(inspect(data, cuts)).toEqual({ columns: [...VACCINATION_CSV_COLUMNS] });
      }),
      { numRuns: 300 },
    );
  });

  it('finds a byte that is not UTF-8 wherever the stream cuts, and names its line', () => {
    const data = Buffer.concat([
      Buffer.from(`${HEADER}\nP-1,A\nP-2,Ren`),
      Buffer.from([0xe9]),
      Buffer.from('e,9000012345\n'),
    ]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: data.length - 1 }), { maxLength: 6 }), (cuts) => {
        const result = inspect(data, cuts);
        expect(result).toBeInstanceOf(BadFile);
        expect((result as BadFile).code).toBe('NOT_UTF8');
        expect((result as BadFile).message).toMatch(/byte 0xE9 on line 3/);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a file that ends inside a character', () => {
    const data = Buffer.concat([Buffer.from(`${HEADER}\nP-1,`), Buffer.from('\u00e9').subarray(0, 1)]);
    expect(inspect(data)).toMatchObject({ code: 'NOT_UTF8', message: expect.stringMatching(/middle of a character/) });
  });

  it('checks the header as soon as its line is complete, before the rest arrives', () => {
    const inspector = new CsvUploadInspector('vaccination');
    inspector.push(Buffer.from(HEADER.slice(0, 40)));
    expect(() => inspector.push(Buffer.from(`${HEADER.slice(40)},extra\nP-1`))).toThrow(/unknown columns: extra/);
  });

  it('reads a quoted header and tells a header without rows from an empty file', () => {
    const quoted = VACCINATION_CSV_COLUMNS.map((column) => `"${column}"`).join(',');
    expect(inspect(Buffer.from(`${quoted}\nP-1\n`))).toEqual({ columns: [...VACCINATION_CSV_COLUMNS] });
    expect(inspect(Buffer.from(`${HEADER}\n\r\n,,,\n`))).toMatchObject({ code: 'NO_ROWS' });
    expect(inspect(Buffer.from(HEADER))).toMatchObject({ code: 'NO_ROWS' });
    expect(inspect(Buffer.from('\ufeff\r\n'))).toMatchObject({ code: 'EMPTY_FILE' });
  });

  it('recognises what people upload instead of a CSV', () => {
    const cases: [number[], string, RegExp][] = [
      [[0x50, 0x4b, 0x03, 0x04, 0x14], 'NOT_CSV', /Excel \.xlsx/],
      [[0xd0, 0xcf, 0x11, 0xe0, 0xa1], 'NOT_CSV', /\.xls workbook/],
      [[0x25, 0x50, 0x44, 0x46, 0x2d], 'NOT_CSV', /PDF/],
      [[0xff, 0xd8, 0xff, 0xe0], 'NOT_CSV', /JPEG/],
      [[0xfe, 0xff, 0x00, 0x70], 'NOT_UTF8', /UTF-16/],
      [[0x70, 0x00, 0x72, 0x00], 'NOT_CSV', /NUL bytes.*UTF-16/],
    ];
    for (const [bytes, code, message] of cases) {
      expect(inspect(Buffer.from([...bytes, 0x0a, 0x41]))).toMatchObject({
        code,
        message: expect.stringMatching(message),
      });
    }
  });
});
