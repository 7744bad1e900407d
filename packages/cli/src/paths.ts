import { isAbsolute, join, resolve } from 'node:path';

/** The repository root (this file is packages/cli/dist/paths.js). */
export const repositoryRoot = (): string => resolve(import.meta.dirname, '..', '..', '..');

/** Paths the user typed are relative to where they ran `pnpm divoc`, not to the script's directory. */
export const userPath = (path: string): string =>
  isAbsolute(path) ? path : resolve(process.env.INIT_CWD ?? process.cwd(), path);

/** Local development data (keys, embedded database) lives here unless DIVOC_DATA_DIR says otherwise. */
export const dataDirectory = (): string =>
  process.env.DIVOC_DATA_DIR ? userPath(process.env.DIVOC_DATA_DIR) : join(repositoryRoot(), '.divoc-data');

/** The default etcd configuration files. */
export const configDirectory = (): string =>
  process.env.DIVOC_CONFIG_DIR ? userPath(process.env.DIVOC_CONFIG_DIR) : join(repositoryRoot(), 'etcd-config');
