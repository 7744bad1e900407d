import { z } from 'zod';

/** A process started with a missing or malformed variable stops with a message naming each one. */
export class EnvironmentError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid environment: ${problems.join('; ')}`);
  }
}

const list = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  )
  .refine((items) => items.length > 0, 'must list at least one entry (comma-separated)');

/** Helpers for env schemas: comma-separated lists, booleans that can really be turned off, ports. */
export const envList = list;
export const envBoolean = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
    .transform((value) => ['true', '1', 'yes'].includes(value))
    .default(fallback);
export const envPort = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);
export const envUrl = z.string().url('must be a URL');

/**
 * The variables that choose the infrastructure (DESIGN §4): each real adapter is used when its
 * variable is set, the embedded one otherwise.
 */
export const InfrastructureEnv = z.object({
  KAFKA_BROKERS: list.optional(),
  /** Prepended to every topic name, so several environments (or test runs) can share one cluster. */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'may contain only letters, digits, ".", "_" and "-"')
    .default(''),
  DATABASE_URL: envUrl.optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  REDIS_URL: envUrl.optional(),
  REDIS_PREFIX: z.string().default('divoc:'),
  ETCD_HOSTS: list.optional(),
  /** Prepended to every etcd key (DIVOC's keys are flat; a prefix lets environments share a cluster). */
  ETCD_PREFIX: z.string().default(''),
  KEYCLOAK_URL: envUrl.optional(),
  KEYCLOAK_REALM: z.string().min(1).default('divoc'),
  /** The client that holds the roles of DESIGN §9 (roles of any other client are ignored). */
  KEYCLOAK_ROLES_CLIENT: z.string().min(1).default('divoc'),
  /** Clients (`azp`) whose tokens are accepted. */
  KEYCLOAK_ALLOWED_CLIENTS: list.default(['admin-api', 'facility-portal', 'citizen-portal', 'verification-app']),
  /** Embedded mode's data: PGlite database, dev issuer key, dev signing keys, config files. */
  DIVOC_DATA_DIR: z.string().min(1).default('.divoc-data'),
  /** The default etcd values (one file per key), used for keys etcd does not have yet. */
  DIVOC_CONFIG_DEFAULTS: z.string().min(1).default('etcd-config'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type InfrastructureEnv = z.infer<typeof InfrastructureEnv>;

/** Parses the environment once at start; every problem is named, none is guessed around. */
export const parseEnv = <S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> => {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new EnvironmentError(result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'} ${issue.message}`));
};
