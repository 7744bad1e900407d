import {
  CERTIFICATE_FIELDS,
  ETCD_KEYS,
  MAX_TEMPLATE_IMAGE_BYTES,
  TestCertificateTemplate,
  templateTokens,
  VaccineCertificateTemplate,
  validateTemplate,
} from '@divoc/contracts';
import { describe, expect, it } from 'vitest';
import { rawTemplate } from './support.js';

const PNG_1X1 =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC';

/** The default vaccination template with one element appended (its index is returned as well). */
const withElement = (element: unknown, kind: 'vaccination' | 'test' = 'vaccination') => {
  const template = rawTemplate(kind);
  template.elements.push(element);
  return { template, index: template.elements.length - 1 };
};

const problemsOf = (value: unknown, kind: 'vaccination' | 'test' = 'vaccination'): string[] => {
  const result = validateTemplate(kind, value);
  expect(result.success).toBe(false);
  return result.success ? [] : result.problems;
};

describe('default templates (etcd-config)', () => {
  it('validate against the schemas of their etcd keys', () => {
    expect(ETCD_KEYS.vaccineCertificateTemplate.safeParse(rawTemplate('vaccination')).success).toBe(true);
    expect(ETCD_KEYS.testCertificateTemplate.safeParse(rawTemplate('test')).success).toBe(true);
  });

  it('have English and Hindi labels for the same keys', () => {
    for (const kind of ['vaccination', 'test'] as const) {
      const { labels } = rawTemplate(kind);
      expect(Object.keys(labels).sort()).toEqual(['en', 'hi']);
      expect(Object.keys(labels.hi).sort()).toEqual(Object.keys(labels.en).sort());
    }
  });

  it('are specific to their kind: the test template names no vaccination field', () => {
    expect(VaccineCertificateTemplate.safeParse(rawTemplate('test')).success).toBe(false);
    expect(TestCertificateTemplate.safeParse(rawTemplate('vaccination')).success).toBe(false);
  });

  it('put the QR code at 2.5 × 2.5 inches', () => {
    for (const kind of ['vaccination', 'test'] as const) {
      const qr = rawTemplate(kind).elements.filter((element: any) => element.type === 'qr');
      expect(qr).toHaveLength(1);
      expect(qr[0].size).toBe(180);
    }
  });
});

describe('template validation rejects, naming the element index and field', () => {
  it('an unknown element type (no HTML, no code)', () => {
    for (const element of [
      { type: 'html', x: 10, y: 10, html: '<b>hi</b>' },
      { type: 'script', code: 'process.exit(1)' },
    ]) {
      const { template, index } = withElement(element);
      const problems = problemsOf(template);
      expect(problems.join('\n')).toMatch(new RegExp(`^elements\\[${index}\\]\\S*: unknown element type`, 'm'));
    }
  });

  it('a property an element does not have', () => {
    const { template, index } = withElement({ type: 'text', x: 10, y: 10, text: 'x', onClick: 'alert(1)' });
    expect(problemsOf(template).join('\n')).toContain(`elements[${index}]`);
  });

  it('a placeholder naming a field that does not exist, listing the known fields', () => {
    const { template, index } = withElement({ type: 'text', x: 10, y: 10, text: 'Name: {{nmae}}' });
    const [problem] = problemsOf(template);
    expect(problem).toContain(`elements[${index}].text`);
    expect(problem).toContain(`element ${index} (text), text: unknown field "nmae"`);
    for (const field of CERTIFICATE_FIELDS.vaccination) expect(problem).toContain(field);
  });

  it('a vaccination field in a test template', () => {
    const { template, index } = withElement({ type: 'text', x: 10, y: 10, text: '{{vaccine}}' }, 'test');
    const [problem] = problemsOf(template, 'test');
    expect(problem).toContain(`element ${index} (text), text: unknown field "vaccine"`);
    expect(problem).toContain('sampleDate');
  });

  it('a malformed placeholder', () => {
    for (const text of ['{{name}', '{{ }}', '{{na me}}', '{{label:}}', 'a }} b']) {
      const { template, index } = withElement({ type: 'text', x: 10, y: 10, text });
      expect(problemsOf(template).join('\n')).toContain(`elements[${index}].text`);
    }
  });

  it('a label referenced but missing in one declared language', () => {
    const template = rawTemplate('vaccination');
    template.labels.en.motto = 'Healthy together';
    const { index } = { index: template.elements.push({ type: 'text', x: 10, y: 10, text: '{{label:motto}}' }) - 1 };
    const [problem] = problemsOf(template);
    expect(problem).toContain(`elements[${index}].text`);
    expect(problem).toContain('label "motto" is missing in hi');
  });

  it('a table column whose header label is missing or whose field is unknown', () => {
    const table = rawTemplate('vaccination').elements.find((element: any) => element.type === 'table');
    const { template, index } = withElement({
      ...table,
      y: 20,
      columns: [
        { header: 'noSuchLabel', field: 'dose', width: 50 },
        { header: 'dose', field: 'lotNumber', width: 50 },
      ],
    });
    const problems = problemsOf(template).join('\n');
    expect(problems).toContain(`elements[${index}].columns[0].header`);
    expect(problems).toContain('label "noSuchLabel" is missing in en, hi');
    expect(problems).toContain(`elements[${index}].columns[1].field`);
    expect(problems).toContain('unknown field "lotNumber"; the fields of vaxEvents are dose, type, name');
  });

  it('a dose-history table in a test template', () => {
    const table = rawTemplate('vaccination').elements.find((element: any) => element.type === 'table');
    const { template, index } = withElement(
      { ...table, columns: [{ header: 'country', field: 'dose', width: 50 }] },
      'test',
    );
    expect(problemsOf(template, 'test').join('\n')).toContain(
      `elements[${index}].rows: element ${index} (table), rows: a test certificate has no "vaxEvents" rows`,
    );
  });

  it('an image that is not a PNG or JPEG data URL', () => {
    for (const data of [
      'https://example.org/logo.png',
      'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=',
      'data:image/png;base64,/9j/4AAQSkZJRgABAQ==',
      'data:image/jpeg;base64,iVBORw0KGgo=',
      'data:image/png;base64,not base64!',
    ]) {
      const { template, index } = withElement({ type: 'image', x: 10, y: 10, width: 20, height: 20, data });
      expect(problemsOf(template).join('\n')).toContain(`elements[${index}].data: element ${index} (image), data:`);
    }
  });

  it('an image larger than 200 KB', () => {
    const png = Buffer.from(PNG_1X1.split(',')[1] as string, 'base64');
    const big = Buffer.concat([png, Buffer.alloc(MAX_TEMPLATE_IMAGE_BYTES)]);
    const { template, index } = withElement({
      type: 'image',
      x: 10,
      y: 10,
      width: 20,
      height: 20,
      data: `data:image/png;base64,${big.toString('base64')}`,
    });
    expect(problemsOf(template).join('\n')).toMatch(
      new RegExp(`elements\\[${index}\\]\\.data: .*at most ${MAX_TEMPLATE_IMAGE_BYTES} are allowed`),
    );
    // A small real PNG is fine.
    const ok = withElement({ type: 'image', x: 10, y: 10, width: 20, height: 20, data: PNG_1X1 });
    expect(validateTemplate('vaccination', ok.template).success).toBe(true);
  });

  it('coordinates and extents off the A4 page', () => {
    const cases: [unknown, string][] = [
      [{ type: 'text', x: 600, y: 10, text: 'x' }, 'x'],
      [{ type: 'text', x: -1, y: 10, text: 'x' }, 'x'],
      [{ type: 'text', x: 10, y: 900, text: 'x' }, 'y'],
      [{ type: 'text', x: 500, y: 10, width: 200, text: 'x' }, 'width'],
      [{ type: 'text', x: 10, y: 838, text: 'x', size: 12 }, 'y'],
      [{ type: 'rect', x: 500, y: 10, width: 100, height: 10, fill: '#000000' }, 'width'],
      [{ type: 'image', x: 10, y: 800, width: 20, height: 50, data: PNG_1X1 }, 'height'],
      [{ type: 'line', x1: 0, y1: 0, x2: 700, y2: 0 }, 'x2'],
      [{ type: 'qr', x: 450, y: 10 }, 'size'],
      [
        { type: 'table', x: 40, y: 750, rows: 'vaxEvents', columns: [{ header: 'dose', field: 'dose', width: 40 }] },
        'maxRows',
      ],
    ];
    for (const [element, field] of cases) {
      const { template, index } = withElement(element);
      expect(problemsOf(template).join('\n')).toContain(`elements[${index}].${field}`);
    }
  });

  it('other malformed elements: colours, sizes, alignment without a box, a rect with neither stroke nor fill', () => {
    const cases: [unknown, string][] = [
      [{ type: 'text', x: 10, y: 10, text: 'x', color: 'red' }, 'color'],
      [{ type: 'text', x: 10, y: 10, text: 'x', size: 200 }, 'size'],
      [{ type: 'text', x: 10, y: 10, text: 'x', font: 'comic' }, 'font'],
      [{ type: 'text', x: 10, y: 10, text: 'x', align: 'center' }, 'align'],
      [{ type: 'rect', x: 10, y: 10, width: 10, height: 10 }, 'stroke'],
      [{ type: 'qr', x: 10, y: 10, size: 20 }, 'size'],
    ];
    for (const [element, field] of cases) {
      const { template, index } = withElement(element);
      expect(problemsOf(template).join('\n')).toContain(`elements[${index}].${field}`);
    }
  });

  it('labels without English, labels with placeholders, another page size', () => {
    const noEnglish = rawTemplate('vaccination');
    delete noEnglish.labels.en;
    expect(problemsOf(noEnglish).join('\n')).toContain('labels: labels must include "en"');
    const nested = rawTemplate('vaccination');
    nested.labels.hi.title = '{{name}}';
    expect(problemsOf(nested).join('\n')).toContain('labels.hi.title');
    const letter = rawTemplate('vaccination');
    letter.page = 'Letter';
    expect(problemsOf(letter).join('\n')).toContain('page');
  });
});

describe('templateTokens', () => {
  it('splits literals, fields and labels', () => {
    expect(templateTokens('{{label:name}}: {{ name }} ({{age}})')).toEqual([
      { kind: 'label', key: 'name' },
      { kind: 'literal', text: ': ' },
      { kind: 'field', name: 'name' },
      { kind: 'literal', text: ' (' },
      { kind: 'field', name: 'age' },
      { kind: 'literal', text: ')' },
    ]);
  });
});
