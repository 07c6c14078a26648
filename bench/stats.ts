/** The benchmark's arithmetic: rounding for tables, and percentiles of timing samples. */

export const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** p50, p95 and p99 of `samples`, rounded to `digits`. */
export function percentiles(samples: readonly number[], digits = 2): { p50: number; p95: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))], digits);
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}
