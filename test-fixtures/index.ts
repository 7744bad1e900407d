import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Public test data copied from `../shared/fixtures` (sources and licences in `public/README.md`),
 * kept in the repository so a clean checkout tests the same data.
 */
export const fixturePath = (...segments: string[]): string => join(import.meta.dirname, 'public', ...segments);

export const readFixture = (...segments: string[]): string => readFileSync(fixturePath(...segments), 'utf8');

export const readJsonFixture = <T = any>(...segments: string[]): T => JSON.parse(readFixture(...segments)) as T;
