import { type LockoutState, type RateLimitPolicy, decideAttempt, isLocked, isPermanent } from '../policy/policy';
import { deviceRecordKey } from '../devices/device-bucket';
import type { AttemptStore, ItemFacts, RequestOptions, WriteResult } from './store';

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
  /** DynamoDB requests this decision made: 1 in the steady state, never more than 2; 0 when decided without the store. */
  readonly requests: number;
  /** The state the decision saw or wrote, for the instance's record. */
  readonly state: LockoutState;
  /** Who decided: the store, or this instance from its own record because the store failed. */
  readonly source: 'store' | 'instance';
}

export const NO_STATE: LockoutState = { failures: 0, windowStart: 0, lockedUntil: 0, lockouts: 0, rev: 0 };

/**
 * Lets concurrent attempts on one identity in one instance share a compare-and-set: while one is under way, the
 * others wait for it instead of sending their own, which would lose the race against it anyway (they were decided
 * from the same revision). A storm in one process then costs the store one slow-path request, not one per attempt.
 */
export class SlowPathGate {
  private readonly pending = new Map<string, Promise<WriteResult>>();

  /** Runs `write` unless one for `key` is under way; `shared` is true when this attempt waited for another's. */
  async run(key: string, write: () => Promise<WriteResult>): Promise<{ written: WriteResult; shared: boolean }> {
    const running = this.pending.get(key);
    if (running !== undefined) return { written: await running, shared: true };
    const own = write();
    this.pending.set(key, own);
    try {
      return { written: await own, shared: false };
    } finally {
      this.pending.delete(key);
    }
  }
}

/** Counts one attempt for `key` under `policy`. Throws only on store errors (the caller applies its policy). */
export async function registerAttempt(
  store: AttemptStore,
  key: string,
  now: number,
  policy: RateLimitPolicy,
  options: RequestOptions & { readonly gate?: SlowPathGate } = {},
  facts: ItemFacts = {},
): Promise<AttemptResult> {
  const fast = await store.countAttempt(key, now, policy, { abortSignal: options.abortSignal }, facts);
  if (fast.ok) return result('admitted', fast.value, 1);

  const transition = decideAttempt(fast.observed, now, policy);
  if (transition.kind === 'refuse-locked') return result('locked', transition.state, 1);

  // A device write replaces the item's `open` set as the fast path saw it (store.ts).
  const casFacts = { ...facts, attemptAt: now, ...(facts.device === undefined ? {} : { device: { ...facts.device, observedOpen: fast.open } }) };
  const cas = () => store.compareAndSet(key, fast.observed, transition.next, policy, { abortSignal: options.abortSignal }, casFacts);
  // Device buckets share their item but not their races: each bucket has its own gate.
  const gateKey = facts.device === undefined ? key : deviceRecordKey(key, facts.device.did);
  const { written, shared } = options.gate ? await options.gate.run(gateKey, cas) : { written: await cas(), shared: false };
  if (written.ok && !shared) return result(transition.kind === 'start-lockout' ? 'lockout-started' : 'admitted', written.value, 2);
  // Lost the race, or waited for another attempt's write: this attempt was not counted, so it is refused.
  const seen = written.ok ? written.value : (written.observed ?? NO_STATE);
  return result(isLocked(seen, now) ? 'locked' : 'contended', seen, shared ? 1 : 2);
}

export function result(outcome: AttemptOutcome, state: LockoutState, requests: number, source: AttemptResult['source'] = 'store'): AttemptResult {
  return {
    state,
    source,
    outcome,
    failures: state.failures,
    lockedUntil: state.lockedUntil,
    permanent: isPermanent(state),
    lockouts: state.lockouts,
    requests,
  };
}
