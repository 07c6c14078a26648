/**
 * Runs `task(0)` to `task(count - 1)` with at most `concurrency` under way at once, each next one started as one ends
 * (callers queued behind an instance's sockets, as the attack and throughput rows drive a bundle). A task must not
 * throw: each row counts its own outcomes.
 */
export async function inPool(count: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
}
