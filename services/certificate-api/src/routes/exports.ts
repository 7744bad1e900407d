import { ErrorEnvelope, preEnrollmentCode } from '@divoc/contracts';
import { qrPng, type VaccinationCredential } from '@divoc/credentials';
import { EuDccInputError, EuDccMappingError, EuDccSchemaError, withTransliteration } from '@divoc/eu-dcc';
import { FhirMappingError } from '@divoc/fhir';
import { type Database, type FastifyReply, type HttpApp, HttpError } from '@divoc/platform';
import { ShcMappingError } from '@divoc/shc';
import { z } from 'zod';
import type { PdfRenderer } from '../artifacts.js';
import type { TravelExports, TravelQr } from '../exports/travel-exports.js';
import { type ActiveCertificates, activeCertificates } from '../lookup.js';

export interface ExportDeps {
  db: Database;
  renderer: PdfRenderer;
  exports: TravelExports;
}

const errors = {
  400: ErrorEnvelope,
  401: ErrorEnvelope,
  403: ErrorEnvelope,
  404: ErrorEnvelope,
  422: ErrorEnvelope,
  503: ErrorEnvelope,
};
const security = [{ bearer: [] }];
const refId = preEnrollmentCode.meta({ description: "The beneficiary's preEnrollmentCode (DIVOC's refId)." });
const Format = z
  .enum(['qrcode', 'pdf', 'text'])
  .default('pdf')
  .meta({ description: 'qrcode: PNG of the QR; pdf: the certificate with this QR; text: the QR content itself.' });
const Language = z
  .string()
  .regex(/^[a-z]{2,3}$/, 'must be a language code such as en or hi')
  .default('en');
const ExportQuery = z.object({ refId, type: Format, lang: Language });
const HolderNames = z
  .object({
    fn: z.string().min(1).max(80).meta({ description: 'Surname(s) as written, e.g. "D\'Souza".' }),
    fnt: z
      .string()
      .max(80)
      .optional()
      .meta({ description: 'Surname(s) in ICAO 9303 letters (A–Z and <); derived from fn when omitted.' }),
    gn: z.string().max(80).optional().meta({ description: 'Forename(s) as written.' }),
    gnt: z
      .string()
      .max(80)
      .optional()
      .meta({ description: 'Forename(s) in ICAO 9303 letters; derived from gn when omitted.' }),
  })
  .meta({ description: 'The holder names as in the travel document (the certificate has one name string only).' });

/** The library errors that describe the data, as the answers an integrator can act on. */
const asHttpError = (error: unknown): unknown => {
  if (error instanceof EuDccInputError) {
    return new HttpError(
      422,
      'VALIDATION_FAILED',
      error.message,
      error.issues.map((issue) => ({ path: /^(fnt?|gnt?)\b/.exec(issue)?.[1] ?? 'body', message: issue })),
    );
  }
  if (error instanceof EuDccMappingError || error instanceof ShcMappingError || error instanceof FhirMappingError) {
    return new HttpError(422, error.code, error.message, [{ path: error.field, message: error.message }]);
  }
  if (error instanceof EuDccSchemaError) {
    return new HttpError(
      422,
      error.code,
      error.message,
      error.issues.map((issue) => ({ path: 'payload', message: issue })),
    );
  }
  return error;
};

/** Runs an export, turning the library errors that describe the data into their 422 answers. */
const exporting = async <T>(make: () => T | Promise<T>): Promise<T> => {
  try {
    return await make();
  } catch (error) {
    throw asHttpError(error);
  }
};

const credentialOf = (row: { credential: unknown }) => row.credential as VaccinationCredential;

/** DIVOC's travel exports: EU-DCC (HC1), SMART Health Card and the WHO DDCC FHIR document. */
export const registerExportRoutes = (app: HttpApp, { db, renderer, exports }: ExportDeps): void => {
  const send = async (
    reply: FastifyReply,
    query: z.infer<typeof ExportQuery>,
    { latest: certificate, all: history }: ActiveCertificates,
    qr: TravelQr,
    name: string,
  ) => {
    reply.header('cache-control', 'private, no-store');
    if (query.type === 'text') return reply.type('text/plain; charset=utf-8').send(qr.content);
    if (query.type === 'qrcode') return reply.type('image/png').send(qrPng(qr.matrix));
    if (!renderer.languages('vaccination').includes(query.lang)) {
      throw new HttpError(400, 'BAD_REQUEST', `lang must be one of ${renderer.languages('vaccination').join(', ')}`);
    }
    const pdf = await renderer.render({ certificate, history, lang: query.lang, qr: qr.matrix });
    return reply
      .type('application/pdf')
      .header('content-disposition', `inline; filename="${name}-${certificate.certificateId}.pdf"`)
      .send(pdf);
  };

  app.post(
    '/certificate/api/eu-certificate',
    {
      schema: {
        summary: 'The latest vaccination certificate as an EU Digital COVID Certificate (HC1 QR or PDF)',
        description:
          'Signed with the Document Signer Certificate (ES256 or PS256). A vaccine or manufacturer missing from the ' +
          'etcd maps euVaccineCode / euVaccineProph / euVaccineManuf answers 422 naming the key: never an empty code.',
        tags: ['travel exports'],
        security,
        querystring: ExportQuery,
        body: HolderNames,
        response: { 200: z.any().meta({ description: 'image/png, application/pdf or text/plain' }), ...errors },
      },
    },
    async (request, reply) => {
      const doses = await activeCertificates(db, request, request.query.refId, 'vaccination');
      const qr = await exporting(() => exports.euDcc(credentialOf(doses.latest), withTransliteration(request.body)));
      return send(reply, request.query, doses, qr, 'eu-certificate');
    },
  );

  app.get(
    '/certificate/api/shc-certificate',
    {
      schema: {
        summary: "The beneficiary's vaccination doses as a SMART Health Card (shc:/ QR or PDF)",
        description:
          'ES256 compact JWS; the issuer keys are at /.well-known/jwks.json. A vaccine missing from the etcd map ' +
          'shcVaccineCode answers 422 naming the key.',
        tags: ['travel exports'],
        security,
        querystring: ExportQuery,
        response: { 200: z.any().meta({ description: 'image/png, application/pdf or text/plain' }), ...errors },
      },
    },
    async (request, reply) => {
      const doses = await activeCertificates(db, request, request.query.refId, 'vaccination');
      const qr = await exporting(() => exports.shc(doses.all.map(credentialOf)));
      return send(reply, request.query, doses, qr, 'shc-certificate');
    },
  );

  app.get(
    '/certificate/api/fhir-certificate',
    {
      schema: {
        summary: 'The latest vaccination certificate as a WHO DDCC:VS FHIR R4 document Bundle',
        description: 'Carries the signed DIVOC QR (and the SMART Health Card QR when enabled) as DocumentReferences.',
        tags: ['travel exports'],
        security,
        querystring: z.object({ refId }),
        response: { 200: z.any().meta({ description: 'application/fhir+json' }), ...errors },
      },
    },
    async (request, reply) => {
      const doses = await activeCertificates(db, request, request.query.refId, 'vaccination');
      const bundle = await exporting(() => exports.fhir(credentialOf(doses.latest), doses.all.map(credentialOf)));
      return reply
        .type('application/fhir+json; charset=utf-8')
        .header('cache-control', 'private, no-store')
        .send(JSON.stringify(bundle));
    },
  );

  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        summary: 'The SMART Health Card issuer keys (public JWKS; rotated-out keys stay listed)',
        tags: ['verification'],
        response: { 200: z.object({ keys: z.array(z.looseObject({ kty: z.string().optional(), kid: z.string() })) }) },
      },
    },
    async (_request, reply) =>
      // SHC verifiers fetch this from browsers: the spec requires CORS.
      reply
        .header('access-control-allow-origin', '*')
        .header('cache-control', 'public, max-age=3600')
        .send(exports.jwks()),
  );
};
