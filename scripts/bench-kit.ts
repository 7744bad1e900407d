import { cpus, freemem, totalmem } from 'node:os';

/** One line describing where a benchmark ran; every report starts with it. */
export const machine = (): string => {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB (${Math.round(freemem() / 2 ** 30)} free), Node ${process.version}`;
};

export interface Rate {
  perSecond: number;
  meanMs: number;
  iterations: number;
}

/**
 * Runs `task` repeatedly on this thread (one core) for about `seconds`, after a warm-up, and reports
 * the throughput. Awaits each call, so async tasks are measured end to end.
 */
export const measure = async (task: () => unknown, seconds = 2, warmup = 200): Promise<Rate> => {
  for (let i = 0; i < warmup; i++) await task();
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  let iterations = 0;
  while (performance.now() < deadline) {
    for (let i = 0; i < 50; i++) await task();
    iterations += 50;
  }
  const elapsed = performance.now() - start;
  return { perSecond: (iterations / elapsed) * 1000, meanMs: elapsed / iterations, iterations };
};

export const fmt = (value: number, digits = 0): string =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export const table = (rows: (string | number)[][]): string => {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => String(row[column]).length))) ?? [];
  return rows.map((row) => row.map((cell, column) => String(cell).padEnd(widths[column] ?? 0)).join('  ')).join('\n');
};
