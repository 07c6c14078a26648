import {
  type LockoutState,
  PERMANENT_LOCK_UNTIL,
  type RateLimitPolicy,
  decideAttempt,
  decideSuccess,
  expiryEpochSeconds,
  lockoutDuration,
} from '../lambdas/policy/policy';
import { combineInputs, verdictFor } from '../lambdas/decision/verdict';
import { FakeClock } from './support/deps';

const MINUTE = 60_000;
const policy: RateLimitPolicy = {
  maxAttempts: 5,
  windowMs: 15 * MINUTE,
  lockoutMs: 15 * MINUTE,
  backoffMultiplier: 2,
  maxLockoutMs: 24 * 60 * MINUTE,
  maxTemporaryLockouts: 0,
};

/** Drives the pure policy as the store would: applies each transition's next state. */
class Identity {
  state: LockoutState | undefined;
  constructor(
    private readonly clock: FakeClock,
    private readonly p: RateLimitPolicy = policy,
  ) {}
  attempt(): 'admitted' | 'refused' {
    const t = decideAttempt(this.state, this.clock.now(), this.p);
    if (t.kind === 'refuse-locked') return 'refused';
    this.state = t.next;
    return t.kind === 'start-lockout' ? 'refused' : 'admitted';
  }
  attempts(n: number): string[] {
    return Array.from({ length: n }, () => this.attempt());
  }
  succeed(): void {
    if (decideSuccess(this.state, this.clock.now()) === 'clear') this.state = undefined;
  }
}

describe('sign-in lockout policy', () => {
  it('admits the configured number of attempts and locks on the next one', () => {
    const id = new Identity(new FakeClock());
    expect(id.attempts(6)).toEqual(['admitted', 'admitted', 'admitted', 'admitted', 'admitted', 'refused']);
    expect(id.state).toMatchObject({ lockouts: 1, failures: 0 });
  });

  it('refuses without counting while locked, and admits again when the lock ends', () => {
    const clock = new FakeClock();
    const id = new Identity(clock);
    id.attempts(6);
    const locked = id.state;
    expect(id.attempts(3)).toEqual(['refused', 'refused', 'refused']);
    expect(id.state).toBe(locked);
    clock.advance(15 * MINUTE - 1);
    expect(id.attempt()).toBe('refused');
    clock.advance(1);
    expect(id.attempt()).toBe('admitted');
  });

  it('forgets failures older than the window', () => {
    const clock = new FakeClock();
    const id = new Identity(clock);
    id.attempts(5);
    clock.advance(15 * MINUTE);
    expect(id.attempts(5)).toEqual(Array(5).fill('admitted'));
    expect(id.attempt()).toBe('refused');
  });

  it('doubles each consecutive lockout and caps it at the maximum', () => {
    const clock = new FakeClock();
    const id = new Identity(clock, { ...policy, maxLockoutMs: 100 * MINUTE });
    const durations: number[] = [];
    for (let i = 0; i < 5; i++) {
      id.attempts(6);
      durations.push(id.state!.lockedUntil - clock.now());
      clock.time = id.state!.lockedUntil;
    }
    expect(durations).toEqual([15, 30, 60, 100, 100].map((m) => m * MINUTE));
  });

  it('locks permanently after the maximum number of temporary lockouts', () => {
    const clock = new FakeClock();
    const id = new Identity(clock, { ...policy, maxTemporaryLockouts: 2 });
    id.attempts(6);
    clock.time = id.state!.lockedUntil;
    id.attempts(6);
    clock.time = id.state!.lockedUntil;
    id.attempts(6);
    expect(id.state!.lockedUntil).toBe(PERMANENT_LOCK_UNTIL);
    clock.advance(10 * 365 * 24 * 60 * MINUTE);
    expect(id.attempt()).toBe('refused');
    expect(expiryEpochSeconds(id.state!, policy)).toBeUndefined();
  });

  it('starts backoff afresh once a full maximum lockout passes without another lockout', () => {
    const clock = new FakeClock();
    const id = new Identity(clock);
    id.attempts(6);
    clock.time = id.state!.lockedUntil + policy.maxLockoutMs;
    id.attempts(6);
    expect(id.state).toMatchObject({ lockouts: 1, lockedUntil: clock.now() + 15 * MINUTE });
  });

  it('clears failures and the streak on success, but never lifts an active lock', () => {
    const clock = new FakeClock();
    const id = new Identity(clock);
    id.attempts(4);
    id.succeed();
    expect(id.state).toBeUndefined();
    id.attempts(6);
    const locked = id.state;
    id.succeed();
    expect(id.state).toBe(locked);
    clock.time = locked!.lockedUntil;
    id.succeed();
    id.attempts(6);
    expect(id.state!.lockouts).toBe(1);
  });

  it('admits exactly one attempt per window when the maximum is 1', () => {
    const id = new Identity(new FakeClock(), { ...policy, maxAttempts: 1 });
    expect(id.attempts(3)).toEqual(['admitted', 'refused', 'refused']);
  });

  it('keeps the TTL beyond both the window and the streak memory', () => {
    const clock = new FakeClock();
    const id = new Identity(clock);
    id.attempts(6);
    const ttl = expiryEpochSeconds(id.state!, policy)!;
    expect(ttl * 1000).toBeGreaterThanOrEqual(id.state!.lockedUntil + policy.maxLockoutMs);
  });

  it('computes lockout durations from the policy', () => {
    expect(lockoutDuration(1, policy)).toBe(15 * MINUTE);
    expect(lockoutDuration(3, policy)).toBe(60 * MINUTE);
    expect(lockoutDuration(2000, policy)).toBe(policy.maxLockoutMs);
    expect(lockoutDuration(4, { ...policy, backoffMultiplier: 1 })).toBe(15 * MINUTE);
    expect(lockoutDuration(3, { ...policy, maxTemporaryLockouts: 2 })).toBe('permanent');
  });
});

describe('verdicts', () => {
  it('refuses in enforce mode and only reports in monitor mode', () => {
    expect(verdictFor('lockout-started', 'enforce', 'allow')).toEqual({ allow: false, wouldRefuse: true });
    expect(verdictFor('locked', 'monitor', 'allow')).toEqual({ allow: true, wouldRefuse: true });
    expect(verdictFor('admitted', 'enforce', 'deny')).toEqual({ allow: true, wouldRefuse: false });
  });

  it('applies the store-error policy, which monitor mode still never enforces', () => {
    expect(verdictFor('store-error', 'enforce', 'allow')).toEqual({ allow: true, wouldRefuse: false });
    expect(verdictFor('store-error', 'enforce', 'deny')).toEqual({ allow: false, wouldRefuse: true });
    expect(verdictFor('store-error', 'monitor', 'deny')).toEqual({ allow: true, wouldRefuse: true });
  });

  it('lets any refusal win over store errors and admissions', () => {
    expect(combineInputs(['admitted', 'store-error', 'locked'])).toBe('locked');
    expect(combineInputs(['admitted', 'store-error'])).toBe('store-error');
    expect(combineInputs(['admitted', 'admitted'])).toBe('admitted');
  });
});
