export type { FastifyReply, FastifyRequest } from 'fastify';
export * from './access-control.js';
export * from './errors.js';
export * from './rate-limit.js';
export * from './server.js';
