import { withDeadline } from '../shared/deadline';

/**
 * The pauses between the tries of a write that must land (a password reset's revocation): short, because every try
 * and pause share one store budget (1.5 s by default); at most five tries, so a failure that will not pass (a missing
 * permission) costs a bounded handful of requests.
 */
export const MUST_LAND_PAUSES_MS: readonly number[] = [50, 100, 200, 400];

/**
 * Runs `work` until it succeeds, pausing between tries, all within `ms`: the deadline aborts the try under way and
 * ends the pauses, so the whole never takes longer than one budget, however the store fails. Throws the last error
 * (or the deadline's) when no try succeeded.
 */
export async function retryWithinDeadline<T>(
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
  pauses: readonly number[] = MUST_LAND_PAUSES_MS,
): Promise<T> {
  return withDeadline(ms, async (signal) => {
    for (let tried = 0; ; tried++) {
      try {
        return await work(signal);
      } catch (error) {
        if (signal.aborted || tried >= pauses.length) throw error;
        await pause(pauses[tried], signal);
        if (signal.aborted) throw error;
      }
    }
  });
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
