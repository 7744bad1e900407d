import { describe, expect, it } from 'vitest';
import { shapeOf } from '../src/canonical/shape.js';

/**
 * A shape key must differ whenever two documents differ in anything but their free values: the
 * canonicalizer picks the compiled graph by key, so two shapes sharing one would be signed wrongly.
 */
describe('shape keys', () => {
  it('are equal for documents that differ only in their values, and keep the values in walk order', () => {
    const a = shapeOf({ type: ['X'], name: 'Ann', dose: 1, address: { city: 'Pune' } });
    const b = shapeOf({ type: ['X'], name: 'Bob', dose: 2, address: { city: 'Goa' } });
    expect(a.key).toBe(b.key);
    expect(b.leaves).toEqual(['Bob', 2, 'Goa']);
  });

  it('differ for every pair of distinct shapes, across the one-character and quoted name tokens', () => {
    // More distinct names than there are one-character tokens, names that look like tokens or JSON, and
    // verbatim values (type, @context) that contain the same characters the name tokens use.
    const names = [
      ...Array.from({ length: 150 }, (_, index) => `member${index}`),
      'é',
      '\u0080',
      '"',
      'a":"b',
      's',
      '{',
      '',
    ];
    const documents: unknown[] = [
      ...names.map((name) => ({ [name]: 'v' })),
      ...names.map((name) => ({ [name]: 1 })),
      ...names.map((name) => ({ [name]: { [name]: 'v' } })),
      ...names.map((name) => ({ type: name })),
      ...names.map((name) => ({ type: [name, 'é'] })),
      ...names.map((name) => ({ '@context': [name], [name]: 'v' })),
      { member0: 'v', member1: 'v' },
      { member1: 'v', member0: 'v' },
      { member0: ['v', 'v'] },
      { member0: ['v'], member1: 'v' },
      { member0: [['v'], 'v'] },
      { member0: true },
      { member0: false },
      { member0: null },
      {},
      [],
      'v',
    ];
    const keys = new Map<string, unknown>();
    for (const document of documents) {
      const { key } = shapeOf(document);
      const earlier = keys.get(key);
      if (earlier !== undefined)
        expect.fail(`${JSON.stringify(earlier)} and ${JSON.stringify(document)} share a shape key`);
      keys.set(key, document);
    }
    expect(keys.size).toBe(documents.length);
  });
});
