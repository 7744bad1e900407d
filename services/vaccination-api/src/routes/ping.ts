import type { HttpApp } from '@divoc/platform';

/** DIVOC's heartbeat, kept for existing monitors. */
export const registerPingRoute = (app: HttpApp): void => {
  app.get('/divoc/api/v1/ping', { schema: { summary: 'Heartbeat', tags: ['operations'] } }, async () => ({
    status: 'ok',
  }));
};
