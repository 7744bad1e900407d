import { z } from 'zod';
import type { CertificateKind } from './events.js';

/**
 * Certificate PDF templates (etcd `vaccineCertificateTemplate`, `testCertificateTemplate`): data, never
 * code. A template is a list of positioned elements on an A4 page (PDF points, origin top-left) whose texts
 * name certificate fields as `{{field}}` and labels as `{{label:key}}`; labels come in one set per language.
 * There is no HTML, no expression, no loop other than the one table over the dose history.
 */

/** A4 in PDF points (1 pt = 1/72 in). */
export const A4 = { width: 595.28, height: 841.89 } as const;

/** The fields a template may name, per certificate kind (the view model fills every one, "NA" when unknown). */
export const CERTIFICATE_FIELDS = {
  vaccination: [
    'name',
    'age',
    'dob',
    'gender',
    'identity',
    'nationality',
    'beneficiaryId',
    'recipientAddress',
    'vaccine',
    'icd11Code',
    'prophylaxis',
    'vaccineType',
    'manufacturer',
    'batch',
    'vaccinationDate',
    'dose',
    'doseNumber',
    'totalDoses',
    'doseType',
    'vaccinatedBy',
    'vaccinatedAt',
    'country',
    'certificateId',
    'issuanceDate',
    'validFrom',
    'validity',
  ],
  test: [
    'name',
    'dob',
    'gender',
    'identity',
    'nationality',
    'beneficiaryId',
    'recipientAddress',
    'disease',
    'testType',
    'testName',
    'manufacturer',
    'batch',
    'sampleDate',
    'resultDate',
    'result',
    'sampleOrigin',
    'verifiedBy',
    'testedAt',
    'country',
    'certificateId',
    'issuanceDate',
  ],
} as const satisfies Record<CertificateKind, readonly string[]>;
export type VaccinationField = (typeof CERTIFICATE_FIELDS.vaccination)[number];
export type TestField = (typeof CERTIFICATE_FIELDS.test)[number];

/** The columns a `vaxEvents` table may show: one row per dose of the beneficiary. */
export const VAX_EVENT_FIELDS = ['dose', 'type', 'name', 'batch', 'manufacturer', 'date', 'country'] as const;
export type VaxEventField = (typeof VAX_EVENT_FIELDS)[number];

/** The row sources a table may iterate over, per kind (test certificates have none). */
export const TEMPLATE_TABLE_ROWS = {
  vaccination: { vaxEvents: VAX_EVENT_FIELDS },
  test: {},
} as const satisfies Record<CertificateKind, Record<string, readonly string[]>>;

/** Largest embedded image (decoded bytes). */
export const MAX_TEMPLATE_IMAGE_BYTES = 200 * 1024;

const onPage = (axis: 'x' | 'y') => {
  const limit = axis === 'x' ? A4.width : A4.height;
  return z
    .number({ error: 'must be a number of points' })
    .refine((value) => Number.isFinite(value) && value >= 0 && value <= limit, {
      error: `must lie on the A4 page (0 to ${limit} pt)`,
    });
};
const extent = (max: number) =>
  z
    .number({ error: 'must be a number of points' })
    .refine((value) => Number.isFinite(value) && value > 0 && value <= max, {
      error: `must be more than 0 and at most ${max} pt`,
    });
const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour written #rrggbb');
const fontName = z.enum(['regular', 'bold']);
const align = z.enum(['left', 'center', 'right']);
const labelKey = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, 'must be a label key such as beneficiaryName');
const fontSize = z
  .number()
  .refine((value) => value >= 4 && value <= 72, { error: 'must be a font size from 4 to 72 pt' });

export const TextElement = z.strictObject({
  type: z.literal('text'),
  x: onPage('x'),
  y: onPage('y'),
  /** The box the text is laid out in; needed for `center` / `right`. Too long a text wraps (up to `maxLines`), then shrinks. */
  width: extent(A4.width).optional(),
  text: z.string().min(1).max(1000),
  font: fontName.default('regular'),
  size: fontSize.default(10),
  color: color.default('#000000'),
  align: align.default('left'),
  maxLines: z.int().min(1).max(6).default(1),
  /** Line pitch as a multiple of the font size. */
  lineHeight: z.number().min(1).max(3).default(1.25),
});

export const ImageElement = z.strictObject({
  type: z.literal('image'),
  x: onPage('x'),
  y: onPage('y'),
  width: extent(A4.width),
  height: extent(A4.height),
  /** `data:image/png;base64,…` or `data:image/jpeg;base64,…`, at most 200 KB decoded. */
  data: z.string(),
});

export const LineElement = z.strictObject({
  type: z.literal('line'),
  x1: onPage('x'),
  y1: onPage('y'),
  x2: onPage('x'),
  y2: onPage('y'),
  color: color.default('#000000'),
  width: z.number().min(0.1).max(20).default(1),
});

export const RectElement = z.strictObject({
  type: z.literal('rect'),
  x: onPage('x'),
  y: onPage('y'),
  width: extent(A4.width),
  height: extent(A4.height),
  stroke: color.optional(),
  fill: color.optional(),
  lineWidth: z.number().min(0.1).max(20).default(1),
  radius: z.number().min(0).max(50).default(0),
});

export const TableColumn = z.strictObject({
  /** Label key of the column heading. */
  header: labelKey,
  /** A field of the row source (for `vaxEvents`: one of VAX_EVENT_FIELDS). */
  field: z.string().min(1).max(64),
  width: extent(A4.width),
  align: align.default('left'),
});

export const TableElement = z.strictObject({
  type: z.literal('table'),
  x: onPage('x'),
  y: onPage('y'),
  rows: z.literal('vaxEvents'),
  rowHeight: z.number().min(8).max(60).default(18),
  /** Rows beyond this many are not drawn (the page layout reserves room for them). */
  maxRows: z.int().min(1).max(20).default(6),
  size: fontSize.default(9),
  color: color.default('#000000'),
  headerColor: color.default('#000000'),
  headerFill: color.optional(),
  borderColor: color.default('#9aa5b1'),
  columns: z.array(TableColumn).min(1).max(10),
});

/** The credential's QR code, drawn as vector modules. `size` is the symbol without its 4-module quiet zone. */
export const QrElement = z.strictObject({
  type: z.literal('qr'),
  x: onPage('x'),
  y: onPage('y'),
  size: z.number().min(72).max(400).default(180),
});

export const ELEMENT_TYPES = ['text', 'image', 'line', 'rect', 'table', 'qr'] as const;

export const TemplateElement = z.discriminatedUnion(
  'type',
  [TextElement, ImageElement, LineElement, RectElement, TableElement, QrElement],
  { error: `unknown element type; an element is one of ${ELEMENT_TYPES.join(', ')}` },
);
export type TemplateElement = z.output<typeof TemplateElement>;
export type TextElement = z.output<typeof TextElement>;
export type ImageElement = z.output<typeof ImageElement>;
export type LineElement = z.output<typeof LineElement>;
export type RectElement = z.output<typeof RectElement>;
export type TableElement = z.output<typeof TableElement>;
export type QrElement = z.output<typeof QrElement>;

const languageTag = z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a language tag such as en or hi');
const labelText = z
  .string()
  .min(1)
  .max(300)
  .refine((value) => !value.includes('{{') && !value.includes('}}'), {
    error: 'a label is plain text: it cannot contain {{ or }}',
  });

const TemplateShape = z.strictObject({
  version: z.string().min(1).max(64),
  page: z.literal('A4'),
  /** Label texts by language; `en` is required (it is the fallback for a language a template lacks). */
  labels: z
    .record(languageTag, z.record(labelKey, labelText))
    .refine((labels) => labels.en !== undefined, { error: 'labels must include "en"' }),
  elements: z.array(TemplateElement).min(1).max(300),
});
export type CertificateTemplate = z.output<typeof TemplateShape>;

/** A piece of a template text: literal text, a certificate field or a label. */
export type TemplateToken =
  | { kind: 'literal'; text: string }
  | { kind: 'field'; name: string }
  | { kind: 'label'; key: string };

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;

/**
 * Splits a template text into literals, `{{field}}` and `{{label:key}}`; throws on a malformed placeholder
 * (stray braces, an empty or non-identifier name). The renderer uses the same parser as the validator.
 */
export const templateTokens = (text: string): TemplateToken[] => {
  const tokens: TemplateToken[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const literal = text.slice(last, match.index);
    if (literal.includes('{{') || literal.includes('}}')) throw new Error(`unbalanced braces in "${literal}"`);
    if (literal !== '') tokens.push({ kind: 'literal', text: literal });
    const inner = (match[1] ?? '').trim();
    const label = /^label:\s*(.*)$/.exec(inner);
    if (label !== null) {
      const key = label[1] ?? '';
      if (!labelKey.safeParse(key).success) throw new Error(`"{{${inner}}}" does not name a label key`);
      tokens.push({ kind: 'label', key });
    } else {
      if (!/^[A-Za-z][A-Za-z0-9]*$/.test(inner)) throw new Error(`"{{${inner}}}" is not a field name`);
      tokens.push({ kind: 'field', name: inner });
    }
    last = match.index + match[0].length;
  }
  const rest = text.slice(last);
  if (rest.includes('{{') || rest.includes('}}')) throw new Error(`unbalanced braces in "${rest}"`);
  if (rest !== '') tokens.push({ kind: 'literal', text: rest });
  return tokens;
};

const DATA_URL = /^data:image\/(png|jpeg);base64,([A-Za-z0-9+/]*={0,2})$/;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The decoded bytes of an image element's data URL, or why it is not acceptable. */
export const decodeTemplateImage = (
  data: string,
): { ok: true; format: 'png' | 'jpeg'; bytes: Uint8Array } | { ok: false; problem: string } => {
  const match = DATA_URL.exec(data);
  if (match === null) return { ok: false, problem: 'must be a data:image/png;base64 or data:image/jpeg;base64 URL' };
  const format = match[1] as 'png' | 'jpeg';
  const base64 = match[2] ?? '';
  const size = Math.floor((base64.length * 3) / 4) - (base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0);
  if (size > MAX_TEMPLATE_IMAGE_BYTES) {
    return { ok: false, problem: `the image is ${size} bytes; at most ${MAX_TEMPLATE_IMAGE_BYTES} are allowed` };
  }
  const bytes = Uint8Array.from(Buffer.from(base64, 'base64'));
  const isPng = PNG_SIGNATURE.every((byte, index) => bytes[index] === byte);
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  if (format === 'png' && !isPng) return { ok: false, problem: 'the data is not a PNG image' };
  if (format === 'jpeg' && !isJpeg) return { ok: false, problem: 'the data is not a JPEG image' };
  return { ok: true, format, bytes };
};

const where = (index: number, element: TemplateElement, field: string) =>
  `element ${index} (${element.type}), ${field}`;

/** The cross-field rules: placement on the page, known fields, labels present in every language, images. */
const checkTemplate = (kind: CertificateKind, template: CertificateTemplate, ctx: z.RefinementCtx): void => {
  const fields: readonly string[] = CERTIFICATE_FIELDS[kind];
  const tables: Record<string, readonly string[]> = TEMPLATE_TABLE_ROWS[kind];
  const languages = Object.keys(template.labels);
  const issue = (index: number, field: string, message: string) =>
    ctx.addIssue({
      code: 'custom',
      path: ['elements', index, ...field.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part))],
      message: `${where(index, template.elements[index] as TemplateElement, field)}: ${message}`,
    });
  const checkLabel = (index: number, field: string, key: string) => {
    const missing = languages.filter((language) => template.labels[language]?.[key] === undefined);
    if (missing.length > 0) issue(index, field, `label "${key}" is missing in ${missing.join(', ')}`);
  };
  const fits = (index: number, field: string, start: number, length: number, limit: number, axis: string) => {
    if (start + length > limit + 1e-6) {
      issue(
        index,
        field,
        `reaches ${axis} = ${Math.round((start + length) * 100) / 100} pt, off the A4 page (${limit})`,
      );
    }
  };

  template.elements.forEach((element, index) => {
    switch (element.type) {
      case 'text': {
        if (element.width !== undefined) fits(index, 'width', element.x, element.width, A4.width, 'x');
        else if (element.align !== 'left') issue(index, 'align', `"${element.align}" alignment needs a width`);
        fits(index, 'y', element.y, element.size * element.lineHeight * element.maxLines, A4.height, 'y');
        let tokens: TemplateToken[];
        try {
          tokens = templateTokens(element.text);
        } catch (error) {
          issue(index, 'text', (error as Error).message);
          return;
        }
        for (const token of tokens) {
          if (token.kind === 'label') checkLabel(index, 'text', token.key);
          if (token.kind === 'field' && !fields.includes(token.name)) {
            issue(
              index,
              'text',
              `unknown field "${token.name}"; the fields of a ${kind} certificate are ${fields.join(', ')}`,
            );
          }
        }
        return;
      }
      case 'image': {
        fits(index, 'width', element.x, element.width, A4.width, 'x');
        fits(index, 'height', element.y, element.height, A4.height, 'y');
        const image = decodeTemplateImage(element.data);
        if (!image.ok) issue(index, 'data', image.problem);
        return;
      }
      case 'rect':
        fits(index, 'width', element.x, element.width, A4.width, 'x');
        fits(index, 'height', element.y, element.height, A4.height, 'y');
        if (element.stroke === undefined && element.fill === undefined) {
          issue(index, 'stroke', 'a rect needs a stroke colour, a fill colour or both');
        }
        return;
      case 'qr':
        fits(index, 'size', element.x, element.size, A4.width, 'x');
        fits(index, 'size', element.y, element.size, A4.height, 'y');
        return;
      case 'table': {
        const columns = tables[element.rows];
        if (columns === undefined) {
          const sources = Object.keys(tables);
          issue(
            index,
            'rows',
            `a ${kind} certificate has no "${element.rows}" rows${sources.length > 0 ? `; use ${sources.join(', ')}` : ''}`,
          );
          return;
        }
        const width = element.columns.reduce((sum, column) => sum + column.width, 0);
        fits(index, 'columns', element.x, width, A4.width, 'x');
        fits(index, 'maxRows', element.y, element.rowHeight * (element.maxRows + 1), A4.height, 'y');
        element.columns.forEach((column, position) => {
          checkLabel(index, `columns.${position}.header`, column.header);
          if (!columns.includes(column.field)) {
            issue(
              index,
              `columns.${position}.field`,
              `unknown field "${column.field}"; the fields of ${element.rows} are ${columns.join(', ')}`,
            );
          }
        });
        return;
      }
      case 'line':
        return;
    }
  });
};

/** The schema of a template for one kind of certificate. */
export const certificateTemplate = (kind: CertificateKind) =>
  TemplateShape.superRefine((template, ctx) => checkTemplate(kind, template, ctx));

export const VaccineCertificateTemplate = certificateTemplate('vaccination');
export const TestCertificateTemplate = certificateTemplate('test');

const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>(
    (text, part) =>
      typeof part === 'number' ? `${text}[${part}]` : text === '' ? String(part) : `${text}.${String(part)}`,
    '',
  );

/**
 * Validates a template for a kind: the parsed template (defaults filled in) or every problem as
 * `path: message`, e.g. `elements[4].text: element 4 (text), text: unknown field "nmae"; …`.
 */
export const validateTemplate = (
  kind: CertificateKind,
  value: unknown,
): { success: true; template: CertificateTemplate } | { success: false; problems: string[] } => {
  const result = certificateTemplate(kind).safeParse(value);
  if (result.success) return { success: true, template: result.data };
  return {
    success: false,
    problems: result.error.issues.map((issue) => `${formatPath(issue.path) || '(template)'}: ${issue.message}`),
  };
};
