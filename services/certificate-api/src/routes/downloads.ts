import { type CertificateKind, ErrorEnvelope, preEnrollmentCode } from '@divoc/contracts';
import { badRequest, type Database, type FastifyReply, type HttpApp } from '@divoc/platform';
import { type CertificateRow, findActiveCertificates } from '@divoc/store';

import { z } from 'zod';
import type { Artifacts, PdfRenderer } from '../artifacts.js';
import { activeCertificateById, activeCertificates, latestCertificate } from '../lookup.js';

const ByCode = z.object({ preEnrollmentCode });
const Language = z.object({
  lang: z
    .string()
    .regex(/^[a-z]{2,3}$/, 'must be a language code such as en or hi')
    .default('en')
    .meta({ description: 'Label language of the PDF (en, hi, …: the languages of the template).' }),
});
const errors = { 400: ErrorEnvelope, 401: ErrorEnvelope, 403: ErrorEnvelope, 404: ErrorEnvelope };
const security = [{ bearer: [] }];
const PDF_RESPONSE = { 200: z.any().meta({ description: 'application/pdf' }), ...errors };

export interface DownloadDeps {
  db: Database;
  artifacts: Artifacts;
  renderer: PdfRenderer;
}

/** Citizens, print desks and service accounts download certificates (DIVOC's certificate_api paths). */
export const registerDownloadRoutes = (app: HttpApp, { db, artifacts, renderer }: DownloadDeps): void => {
  const language = (kind: CertificateKind, lang: string) => {
    const available = renderer.languages(kind);
    if (!available.includes(lang)) throw badRequest(`lang must be one of ${available.join(', ')}`);
    return lang;
  };
  /** `history`: the beneficiary's active certificates when already read; otherwise read on a cache miss. */
  const sendPdf = async (
    reply: FastifyReply,
    certificate: CertificateRow,
    lang: string,
    history?: CertificateRow[],
  ) => {
    const pdf = await artifacts.pdf(
      certificate,
      async () => history ?? findActiveCertificates(db, certificate.preEnrollmentCode, certificate.kind),
      lang,
    );
    return reply
      .type('application/pdf')
      .header('content-disposition', `inline; filename="certificate-${certificate.certificateId}.pdf"`)
      .header('cache-control', 'private, no-store')
      .send(pdf);
  };

  app.get(
    '/certificate/api/certificatePDF/:preEnrollmentCode',
    {
      // The explicit HEAD route below answers without rendering.
      exposeHeadRoute: false,
      schema: {
        summary: "The beneficiary's latest vaccination certificate (highest dose, newest revision) as PDF",
        tags: ['downloads'],
        security,
        params: ByCode,
        querystring: Language,
        response: PDF_RESPONSE,
      },
    },
    async (request, reply) => {
      const { latest, all } = await activeCertificates(db, request, request.params.preEnrollmentCode, 'vaccination');
      return sendPdf(reply, latest, language('vaccination', request.query.lang), all);
    },
  );

  // Declared explicitly: Fastify's automatic HEAD would run the GET handler and render the PDF.
  app.head(
    '/certificate/api/certificatePDF/:preEnrollmentCode',
    {
      schema: {
        summary: 'Whether the beneficiary has a vaccination certificate (200) or not (404); renders nothing',
        tags: ['downloads'],
        security,
        params: ByCode,
      },
    },
    async (request, reply) => {
      await latestCertificate(db, request, request.params.preEnrollmentCode, 'vaccination');
      return reply.status(200).send();
    },
  );

  app.get(
    '/certificate/api/certificateQRCode/:preEnrollmentCode',
    {
      schema: {
        summary: "The QR code of the beneficiary's latest vaccination certificate (PNG)",
        tags: ['downloads'],
        security,
        params: ByCode,
        response: { 200: z.any().meta({ description: 'image/png' }), ...errors },
      },
    },
    async (request, reply) => {
      const certificate = await latestCertificate(db, request, request.params.preEnrollmentCode, 'vaccination');
      return reply
        .type('image/png')
        .header('cache-control', 'private, no-store')
        .send(await artifacts.qrPng(certificate));
    },
  );

  app.get(
    '/certificate/api/certificatePDF',
    {
      schema: {
        summary: 'A certificate by its id, as PDF (only an active certificate: never a superseded or revoked one)',
        tags: ['downloads'],
        security,
        querystring: Language.extend({ certificateId: z.string().min(1).max(64) }),
        response: PDF_RESPONSE,
      },
    },
    async (request, reply) => {
      const certificate = await activeCertificateById(db, request, request.query.certificateId);
      return sendPdf(reply, certificate, language(certificate.kind, request.query.lang));
    },
  );

  app.get(
    '/certificate/api/test/certificatePDF/:preEnrollmentCode',
    {
      schema: {
        summary: "The beneficiary's latest test-result certificate as PDF",
        tags: ['downloads'],
        security,
        params: ByCode,
        querystring: Language,
        response: PDF_RESPONSE,
      },
    },
    async (request, reply) => {
      const { latest, all } = await activeCertificates(db, request, request.params.preEnrollmentCode, 'test');
      return sendPdf(reply, latest, language('test', request.query.lang), all);
    },
  );
};
