#!/usr/bin/env node
// `pnpm bench`: runs every `bench/*.bench.ts` of every package and service (and of nested packages such
// as `packages/interop/*`), one after the other (benchmarks compete for the same two cores, so they never
// run in parallel).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const only = process.argv.slice(2);
const directories = (dir) =>
  readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== 'node_modules')
    .map((entry) => join(dir, entry.name));
const benches = ['packages', 'services']
  .flatMap((group) => directories(join(root, group)))
  .flatMap((dir) => [dir, ...directories(dir)])
  .map((dir) => join(dir, 'bench'))
  .filter((dir) => existsSync(dir))
  .flatMap((dir) =>
    readdirSync(dir)
      .filter((file) => file.endsWith('.bench.ts'))
      .map((file) => join(dir, file)),
  )
  .filter((file) => only.length === 0 || only.some((word) => file.includes(word)));

// Pin each benchmark to one core when taskset is available, so "per core" means what it says.
const taskset = spawnSync('taskset', ['--version']).status === 0;
let failed = false;
for (const file of benches) {
  process.stdout.write(`\n=== ${file.slice(root.length + 1)}\n`);
  const command = [process.execPath, '--import', 'tsx', file];
  const run = taskset
    ? spawnSync('taskset', ['-c', '1', ...command], {
        stdio: 'inherit',
        cwd: root,
        env: { ...process.env, BENCH_CPU: '1' },
      })
    : spawnSync(command[0], command.slice(1), { stdio: 'inherit', cwd: root });
  if (run.status !== 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
