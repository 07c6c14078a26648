/**
 * The lockout state machine, as pure functions of (state, now, policy).
 *
 * States of one identity:
 *   - unlocked, window open, failures < max   -> the attempt is counted and admitted ("count")
 *   - unlocked, window expired (or no state)  -> a new window starts with this attempt ("reset-window")
 *   - unlocked, window open, failures >= max  -> this attempt starts a lockout and is refused ("start-lockout")
 *   - locked (lockedUntil > now)              -> refused and NOT counted ("refuse-locked")
 *
 * Pre-authentication runs before Cognito checks the password, so every attempt is presumed failed;
 * post-authentication clears the state on success. Consequently at most `maxAttempts` password checks
 * happen per identity per lock cycle: the (maxAttempts + 1)-th attempt inside a window starts the lock.
 */

/** The persisted counters of one identity. Times are epoch milliseconds. */
export interface LockoutState {
  /** Attempts counted in the current failure window. */
  readonly failures: number;
  /** When the current failure window began. */
  readonly windowStart: number;
  /** The identity is locked while `now < lockedUntil`; 0 when never locked. */
  readonly lockedUntil: number;
  /** Lockouts since the last successful sign-in (drives backoff and permanent lockout). */
  readonly lockouts: number;
  /** Incremented on every write; the compare-and-set token for the slow path. */
  readonly rev: number;
  /**
   * When a password reset or an operator last cleared the identity (epoch ms), if that was recent enough to
   * matter: a function instance that locked the identity on its own while the store was failing never writes
   * back a lock that began before it (instance-record.ts).
   */
  readonly clearedAt?: number;
}

export interface RateLimitPolicy {
  /** Attempts admitted per window before the next one starts a lockout. At least 1. */
  readonly maxAttempts: number;
  /** Counted attempts older than this are forgotten. */
  readonly windowMs: number;
  /** Duration of the first lockout. */
  readonly lockoutMs: number;
  /** Each consecutive lockout lasts this many times the previous one (1 = no backoff). */
  readonly backoffMultiplier: number;
  /** Backoff never grows a lockout beyond this. */
  readonly maxLockoutMs: number;
  /** After this many temporary lockouts the next one is permanent; 0 = never permanent. */
  readonly maxTemporaryLockouts: number;
}

/**
 * A permanent lock is a lock that ends at the last instant `Date` can represent. Using a time keeps every
 * condition expression ("lockedUntil <= :now") uniform: nothing special-cases permanence but the TTL.
 */
export const PERMANENT_LOCK_UNTIL = 8_640_000_000_000_000;

export type Transition =
  | { readonly kind: 'refuse-locked'; readonly state: LockoutState }
  | { readonly kind: 'count'; readonly next: LockoutState }
  | { readonly kind: 'reset-window'; readonly next: LockoutState }
  | { readonly kind: 'start-lockout'; readonly next: LockoutState; readonly permanent: boolean };

export function isLocked(state: LockoutState | undefined, now: number): boolean {
  return state !== undefined && state.lockedUntil > now;
}

export function isPermanent(state: Pick<LockoutState, 'lockedUntil'>): boolean {
  return state.lockedUntil >= PERMANENT_LOCK_UNTIL;
}

/** The oldest window start that still counts at `now`; windows starting at or before it have expired. */
export function windowCutoff(now: number, policy: RateLimitPolicy): number {
  return now - policy.windowMs;
}

/**
 * How long the consecutive-lockout streak is remembered after a lock ends. Tied to the maximum lockout
 * so that one knob controls both: an identity quiet for a full maximum lockout starts backoff afresh.
 */
export function streakMemoryMs(policy: RateLimitPolicy): number {
  return policy.maxLockoutMs;
}

/**
 * Duration of the `lockoutNumber`-th consecutive lockout (1-based), or 'permanent'.
 * Grows geometrically from `lockoutMs`, capped at `maxLockoutMs`.
 */
export function lockoutDuration(lockoutNumber: number, policy: RateLimitPolicy): number | 'permanent' {
  if (policy.maxTemporaryLockouts > 0 && lockoutNumber > policy.maxTemporaryLockouts) return 'permanent';
  // Computed in floating point and capped before it can overflow: multiplier ** 1000 is Infinity, min() fixes it.
  const grown = policy.lockoutMs * Math.pow(policy.backoffMultiplier, Math.max(0, lockoutNumber - 1));
  return Math.min(Math.round(grown), policy.maxLockoutMs);
}

/** The single pure decision for one sign-in (or sign-up) attempt. */
export function decideAttempt(state: LockoutState | undefined, now: number, policy: RateLimitPolicy): Transition {
  if (state !== undefined && isLocked(state, now)) return { kind: 'refuse-locked', state };

  const rev = (state?.rev ?? 0) + 1;
  const kept = clearedMark(state);
  if (state === undefined || state.windowStart <= windowCutoff(now, policy)) {
    return {
      kind: 'reset-window',
      next: {
        failures: 1,
        windowStart: now,
        lockedUntil: state?.lockedUntil ?? 0,
        lockouts: streakContinues(state, now, policy) ? state!.lockouts : 0,
        rev,
        ...kept,
      },
    };
  }

  if (state.failures < policy.maxAttempts) {
    return { kind: 'count', next: { ...state, failures: state.failures + 1, rev } };
  }

  const lockouts = streakContinues(state, now, policy) ? state.lockouts + 1 : 1;
  const duration = lockoutDuration(lockouts, policy);
  const lockedUntil = duration === 'permanent' ? PERMANENT_LOCK_UNTIL : now + duration;
  return {
    kind: 'start-lockout',
    // The next window opens when the lock ends, so the first attempts after a lock take the fast path.
    next: { failures: 0, windowStart: lockedUntil, lockedUntil, lockouts, rev, ...kept },
    permanent: duration === 'permanent',
  };
}

/**
 * What a successful sign-in does to the state: 'clear' forgets failures and the lockout streak.
 * Never lifts an active lock: an attacker may have locked the account while the user's attempt was in flight.
 * The store applies this rule atomically as the condition of its DeleteItem (`clearUnlessLocked`); this is the
 * same rule as a function, for the policy's model-based tests.
 */
export function decideSuccess(state: LockoutState | undefined, now: number): 'clear' | 'keep' {
  if (state === undefined) return 'keep';
  return isLocked(state, now) ? 'keep' : 'clear';
}

function streakContinues(state: LockoutState | undefined, now: number, policy: RateLimitPolicy): boolean {
  if (state === undefined || state.lockouts === 0) return false;
  return state.lockedUntil + streakMemoryMs(policy) > now;
}

/** The `clearedAt` a transition carries over, as a spreadable object (absent when there is none). */
function clearedMark(state: LockoutState | undefined): { clearedAt?: number } {
  return state?.clearedAt === undefined ? {} : { clearedAt: state.clearedAt };
}

/**
 * How long a clear (a password reset, an operator unlock) must be remembered: a lock an instance started alone
 * before it lasts at most one maximum lockout, and until it ends the instance may try to write it back.
 */
export function clearMemoryMs(policy: RateLimitPolicy): number {
  return policy.maxLockoutMs;
}

/**
 * When DynamoDB may delete the item (epoch seconds), or undefined for a permanent lock (kept forever): when the
 * window ends, or, for an identity with a lockout streak, when the streak is forgotten, or while a clear must be
 * remembered. An item that only counts attempts lives for one window, not for the longest lockout.
 * Cleanup only: code re-checks every expiry because TTL deletion lags by hours.
 */
export function expiryEpochSeconds(state: LockoutState, policy: RateLimitPolicy): number | undefined {
  if (isPermanent(state)) return undefined;
  const lastRelevant = Math.max(
    state.windowStart + policy.windowMs,
    state.lockouts > 0 || state.lockedUntil > 0 ? state.lockedUntil + streakMemoryMs(policy) : 0,
    state.clearedAt === undefined ? 0 : state.clearedAt + clearMemoryMs(policy),
  );
  return Math.ceil(lastRelevant / 1000);
}
