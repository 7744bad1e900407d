import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PUBLISHED_SCHEMAS, toJsonSchema } from '../src/index.js';

describe('published JSON Schema', () => {
  it.each(Object.keys(PUBLISHED_SCHEMAS))(
    'json-schema/%s.json is up to date (pnpm --filter @divoc/contracts json-schema)',
    (name) => {
      const committed = JSON.parse(
        readFileSync(join(import.meta.dirname, '..', 'json-schema', `${name}.json`), 'utf8'),
      );
      expect(committed).toEqual(toJsonSchema(name as keyof typeof PUBLISHED_SCHEMAS));
    },
  );

  it('describes the certify request fields an integrator needs', () => {
    const schema = toJsonSchema('CertificationRequestV2') as { required: string[]; properties: Record<string, any> };
    expect(schema.required).toEqual(
      expect.arrayContaining(['preEnrollmentCode', 'recipient', 'vaccination', 'facility']),
    );
    expect(schema.properties.vaccination.properties.dose).toMatchObject({ type: 'integer', minimum: 1 });
    expect(schema.properties.vaccination.properties.date).toMatchObject({ format: 'date-time' });
  });
});
