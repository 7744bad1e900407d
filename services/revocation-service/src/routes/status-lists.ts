import { ErrorEnvelope } from '@divoc/contracts';
import { type Database, type HttpApp, notFound } from '@divoc/platform';
import { findPublishedList } from '@divoc/store';
import { z } from 'zod';

/**
 * The signed status lists, at stable URLs, for verifiers to download and check offline. ETag and
 * short public caching: a CDN or a verifier app revalidates cheaply (304) and sees a change within
 * a minute.
 */
export const registerStatusListRoutes = (app: HttpApp, { db }: { db: Database }): void => {
  app.get(
    '/status-lists/:listId',
    {
      schema: {
        summary: 'A status list credential (StatusList2021): one bit per certificate, 1 = revoked',
        tags: ['revocation'],
        params: z.object({ listId: z.coerce.number().int().min(1) }),
        response: { 200: z.record(z.string(), z.unknown()), 304: z.null(), 404: ErrorEnvelope },
      },
    },
    async (request, reply) => {
      const list = await findPublishedList(db, request.params.listId);
      if (list === undefined) throw notFound(`no status list ${request.params.listId}`);
      reply
        .header('etag', list.etag)
        .header('cache-control', 'public, max-age=60, must-revalidate')
        .header('last-modified', list.publishedAt.toUTCString())
        .header('access-control-allow-origin', '*');
      if (request.headers['if-none-match'] === list.etag) return reply.status(304).send(null);
      return list.credential as Record<string, unknown>;
    },
  );
};
