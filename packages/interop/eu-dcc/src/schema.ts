import { readFileSync } from 'node:fs';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { EuDccSchemaError } from './errors.js';
import type { DccPayload } from './payload.js';
import { isActiveCode } from './valuesets.js';

// ajv-formats is CommonJS with `exports.default = formatsPlugin`; under nodenext the default import is the
// whole module object, so take `.default` when it is there.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

let compiled: ValidateFunction | undefined;

/** The official schema (eu-dcc-schema 1.3.3, JSON Schema 2020-12), compiled once on first use. */
const validator = (): ValidateFunction => {
  if (compiled === undefined) {
    const schema = JSON.parse(readFileSync(new URL('../schema/DCC.combined-schema.json', import.meta.url), 'utf8'));
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
    addFormats(ajv);
    // strictRequired is off: the schema lists required properties inside oneOf branches, which is valid JSON
    // Schema but trips that lint. The schema annotates value-set-typed fields with this keyword; it constrains nothing by itself.
    ajv.addKeyword({ keyword: 'valueset-uri', schemaType: 'string' });
    compiled = ajv.compile(schema);
  }
  return compiled;
};

const describe = (error: ErrorObject): string => `${error.instancePath || '/'} ${error.message ?? 'is invalid'}`;

/** Problems of `payload` against the official DCC JSON schema (empty when valid). */
export const schemaIssues = (payload: unknown): string[] => {
  const validate = validator();
  return validate(payload) ? [] : (validate.errors ?? []).map(describe);
};

/** Problems of a vaccination payload's coded fields against the bundled value sets (active codes only). */
export const valueSetIssues = (payload: DccPayload): string[] => {
  const issues: string[] = [];
  for (const [index, entry] of (payload.v ?? []).entries()) {
    const at = `/v/${index}`;
    if (!isActiveCode('disease-agent-targeted', entry.tg))
      issues.push(`${at}/tg "${entry.tg}" is not an active disease code`);
    if (!isActiveCode('vaccine-prophylaxis', entry.vp))
      issues.push(`${at}/vp "${entry.vp}" is not an active vaccine-prophylaxis code`);
    if (!isActiveCode('vaccine-medicinal-product', entry.mp))
      issues.push(`${at}/mp "${entry.mp}" is not an active medicinal-product code`);
    if (!isActiveCode('vaccine-mah-manf', entry.ma))
      issues.push(`${at}/ma "${entry.ma}" is not an active marketing-authorisation-holder code`);
    if (!isActiveCode('country-2-codes', entry.co))
      issues.push(`${at}/co "${entry.co}" is not a country-2-codes value`);
  }
  return issues;
};

/** Throws `EuDccSchemaError` unless `payload` passes the official schema and (for vaccinations) the value sets. */
export const assertValidDccPayload = (payload: DccPayload): void => {
  const issues = schemaIssues(payload);
  if (issues.length === 0) issues.push(...valueSetIssues(payload));
  if (issues.length > 0) throw new EuDccSchemaError(issues);
};
