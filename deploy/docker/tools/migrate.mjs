// Applies the database migrations of @divoc/store and exits: the Kubernetes migration Job and the compose
// `migrate` service run it before the services start (every service also migrates at start; the advisory lock
// in `migrate` makes concurrent runs safe).
//
//   node services/<service>/tools/migrate.mjs
//
// Reads DATABASE_URL (and DATABASE_POOL_SIZE, LOG_LEVEL). Without DATABASE_URL it migrates the embedded PGlite
// database under DIVOC_DATA_DIR, as the services do in embedded mode. Exit code 0: the schema is current.
import { join, resolve } from 'node:path';
import {
  createLogger,
  createPgliteDatabase,
  createPostgresDatabase,
  EnvironmentError,
  InfrastructureEnv,
  parseEnv,
} from '@divoc/platform';
import { migrate } from '@divoc/store';

const main = async () => {
  const env = parseEnv(InfrastructureEnv);
  const logger = createLogger({ service: 'migrate', level: env.LOG_LEVEL });
  const db = env.DATABASE_URL
    ? createPostgresDatabase({ url: env.DATABASE_URL, maxConnections: 1 })
    : await createPgliteDatabase({ dataDir: join(resolve(env.DIVOC_DATA_DIR), 'pglite') });
  try {
    const applied = await migrate(db, logger);
    logger.info(
      { database: env.DATABASE_URL ? 'postgres' : 'pglite', applied },
      applied.length === 0 ? 'schema is current' : `applied ${applied.length} migration(s)`,
    );
  } finally {
    await db.close();
  }
};

main().catch((error) => {
  const message = error instanceof EnvironmentError ? error.message : `migration failed: ${error.message}`;
  process.stderr.write(`migrate: ${message}\n`);
  process.exitCode = 1;
});
