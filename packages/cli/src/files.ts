import { readFileSync } from 'node:fs';
import { KeyDirectoryError } from '@divoc/credentials';
import { CliError } from './errors.js';

export const readInput = (path: string): Buffer => {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`${path}: no such file`);
    if (code === 'EISDIR') throw new CliError(`${path}: is a directory, expected a file`);
    throw new CliError(`${path}: cannot read (${code ?? (error as Error).message})`);
  }
};

export const parseJson = (bytes: Buffer, path: string): unknown => {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new CliError(`${path}: invalid JSON (${(error as Error).message})`);
  }
};

/** Runs a key-directory operation, turning its errors into one-line CLI errors. */
export const keyErrors = <T>(operation: () => T): T => {
  try {
    return operation();
  } catch (error) {
    if (error instanceof KeyDirectoryError) throw new CliError(error.message);
    throw error;
  }
};
