import { type LockoutState, type RateLimitPolicy, decideAttempt, isLocked, isPermanent } from './policy';
import type { LockoutStore, RequestOptions } from './store';

/**
 * - admitted:        counted; Cognito goes on to check the password
 * - lockout-started: this attempt exceeded the maximum and started a lock; refused
 * - locked:          refused while locked; not counted
 * - contended:       the identity changed under this attempt twice in a row (concurrent attempts crossing a
 *                    window expiry or a lock at the same instant); refused, not counted. Refusing keeps the
 *                    at-most-N guarantee without a third request; only concurrent attempts for one identity
 *                    can reach it, which a person signing in does not make.
 */
export type AttemptOutcome = 'admitted' | 'lockout-started' | 'locked' | 'contended';

export interface AttemptResult {
  readonly outcome: AttemptOutcome;
  /** Attempts counted in the current window, this one included when admitted. */
  readonly failures: number;
  /** Epoch ms; 0 when never locked. */
  readonly lockedUntil: number;
  readonly permanent: boolean;
  readonly lockouts: number;
  /** DynamoDB requests this decision made: 1 in the steady state, never more than 2. */
  readonly requests: number;
}

const NO_STATE: LockoutState = { failures: 0, windowStart: 0, lockedUntil: 0, lockouts: 0, rev: 0 };

/** Counts one attempt for `key` under `policy`. Throws only on store errors (the caller applies its policy). */
export async function registerAttempt(
  store: LockoutStore,
  key: string,
  now: number,
  policy: RateLimitPolicy,
  options: RequestOptions = {},
): Promise<AttemptResult> {
  const fast = await store.countAttempt(key, now, policy, options);
  if (fast.ok) return result('admitted', fast.value, 1);

  const transition = decideAttempt(fast.observed, now, policy);
  if (transition.kind === 'refuse-locked') return result('locked', transition.state, 1);

  const slow = await store.compareAndSet(key, fast.observed, transition.next, policy, options);
  if (slow.ok) return result(transition.kind === 'start-lockout' ? 'lockout-started' : 'admitted', slow.value, 2);
  const seen = slow.observed ?? NO_STATE;
  return result(isLocked(seen, now) ? 'locked' : 'contended', seen, 2);
}

function result(outcome: AttemptOutcome, state: LockoutState, requests: number): AttemptResult {
  return {
    outcome,
    failures: state.failures,
    lockedUntil: state.lockedUntil,
    permanent: isPermanent(state),
    lockouts: state.lockouts,
    requests,
  };
}
