import type { IncomingMessage, ServerResponse } from 'node:http';
import { type FieldError, formatPath, type ServiceName } from '@divoc/contracts';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
  type RawServerDefault,
} from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Authenticator } from '../auth/jwt.js';
import type { Logger } from '../logging.js';
import { registerAccessControl } from './access-control.js';
import { HttpError } from './errors.js';

export type HttpApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** A dependency /health/ready checks: resolves when reachable. */
export type ReadinessCheck = () => Promise<void>;

export interface HttpAppOptions {
  service: ServiceName;
  title: string;
  description: string;
  logger: Logger;
  metrics: Registry;
  authenticator: Authenticator;
  /** The service's own dependencies, by name (e.g. database, bus). */
  readiness: Record<string, ReadinessCheck>;
  /** Largest accepted request body (default 1 MiB). */
  bodyLimit?: number;
}

const READINESS_TIMEOUT_MS = 2000;

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });

/** zod validation issues → field errors; a body that is an array gets its first path segment as the item index. */
interface ZodValidationIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: { expected?: string };
}

/** zod's wording for a missing or mistyped value, in the words the contracts package uses. */
const describe = (issue: ZodValidationIssue): string => {
  if (issue.keyword === 'invalid_type') {
    return /received undefined$/.test(issue.message ?? '')
      ? 'is required'
      : `must be ${issue.params.expected ?? 'of another type'}`;
  }
  return issue.message ?? 'is invalid';
};

/** Validation issues → field errors; a body that is an array gets its first path segment as the item index. */
const fieldErrors = (validation: readonly ZodValidationIssue[]): FieldError[] =>
  validation.map((issue) => {
    const path: PropertyKey[] = issue.instancePath
      .split('/')
      .slice(1)
      .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
    const index = typeof path[0] === 'number' ? (path.shift() as number) : undefined;
    return { ...(index === undefined ? {} : { index }), path: formatPath(path) || '(root)', message: describe(issue) };
  });

/**
 * The Fastify bootstrap every service shares: zod schemas (validation and OpenAPI at /docs), access
 * control from the contracts table, JSON errors without stack traces, security headers, request
 * metrics and logs (route patterns only: URLs can carry personal data), /health/live,
 * /health/ready and /metrics.
 */
export const createHttpApp = async (options: HttpAppOptions): Promise<HttpApp> => {
  const { service, logger, metrics } = options;
  const app = Fastify({
    loggerInstance: logger,
    // Requests are logged by the onResponse hook below, with the route pattern instead of the URL.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    return503OnClosing: true,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
  }).withTypeProvider<ZodTypeProvider>() as unknown as HttpApp;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const requests = new Counter({
    name: 'divoc_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [metrics],
  });
  const latency = new Histogram({
    name: 'divoc_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [metrics],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unknown';
    requests.inc({ method: request.method, route, status: reply.statusCode });
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    if (reply.statusCode >= 500 || logger.isLevelEnabled('debug')) {
      request.log.info(
        { method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
        'request',
      );
    }
  });

  await app.register(helmet, { global: true, contentSecurityPolicy: false });
  await app.register(swagger, {
    openapi: {
      info: { title: options.title, description: options.description, version: '1.0.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    transform: jsonSchemaTransform,
  });
  registerAccessControl(app as never, service, options.authenticator);
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? 'body';
      const details = fieldErrors(error.validation as unknown as ZodValidationIssue[]);
      // A well-formed request whose content breaks the contract is 422 (as DIVOC answered); a bad
      // path or query is 400.
      const status = where === 'body' ? 422 : 400;
      return reply
        .status(status)
        .send({ code: 'VALIDATION_FAILED', message: `the request ${where} is invalid`, details });
    }
    if (error instanceof HttpError) {
      return reply
        .status(error.statusCode)
        .send({ code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) });
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      // Fastify's own client errors: malformed JSON, body too large, wrong content type.
      return reply.status(error.statusCode).send({ code: error.code ?? 'BAD_REQUEST', message: error.message });
    }
    request.log.error({ err: error, route: request.routeOptions.url }, 'request failed');
    return reply
      .status(500)
      .send({ code: 'INTERNAL', message: `the request failed; it was logged with id ${request.id}` });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );

  app.get('/health/live', { schema: { hide: true } }, async () => ({ status: 'live' }));
  app.get('/health/ready', { schema: { hide: true } }, async (_request, reply) => {
    const results = await Promise.all(
      Object.entries(options.readiness).map(async ([name, check]) => {
        try {
          await withTimeout(check(), READINESS_TIMEOUT_MS);
          return [name, 'ok'] as const;
        } catch (error) {
          return [name, `unavailable: ${(error as Error).message}`] as const;
        }
      }),
    );
    const ready = results.every(([, state]) => state === 'ok');
    return reply
      .status(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'unready', checks: Object.fromEntries(results) });
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(metrics.contentType).send(await metrics.metrics()),
  );
  return app;
};
