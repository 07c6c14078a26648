/**
 * Properties of the pure policy over arbitrary sequences of attempts, successful sign-ins and clock moves.
 */
import fc from 'fast-check';
import { type LockoutState, PERMANENT_LOCK_UNTIL, type RateLimitPolicy, decideAttempt, decideSuccess, isLocked } from '../../lambdas/policy/policy';
import { type DecisionInput, verdictFor } from '../../lambdas/decision/verdict';

const policyArb: fc.Arbitrary<RateLimitPolicy> = fc
  .record({
    maxAttempts: fc.integer({ min: 1, max: 10 }),
    windowMs: fc.integer({ min: 1, max: 3_600_000 }),
    lockoutMs: fc.integer({ min: 1, max: 3_600_000 }),
    backoffMultiplier: fc.double({ min: 1, max: 10, noNaN: true }),
    extraMaxMs: fc.oneof(fc.integer({ min: 0, max: 600_000 }), fc.integer({ min: 0, max: 86_400_000 })),
    maxTemporaryLockouts: fc.integer({ min: 0, max: 4 }),
  })
  .map(({ extraMaxMs, ...p }) => ({ ...p, maxLockoutMs: p.lockoutMs + extraMaxMs }));

type Event = { kind: 'attempt' } | { kind: 'success' } | { kind: 'advance'; ms: number };
const eventArb: fc.Arbitrary<Event> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'attempt' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'success' as const }) },
  // Mostly short moves, as an attacker retries quickly, so runs reach consecutive lockouts; sometimes long ones.
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 60_000 }).map((ms) => ({ kind: 'advance' as const, ms })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 3_600_000 }).map((ms) => ({ kind: 'advance' as const, ms })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 48 * 3_600_000 }).map((ms) => ({ kind: 'advance' as const, ms })) },
);

interface Step {
  readonly now: number;
  readonly before: LockoutState | undefined;
  readonly after: LockoutState | undefined;
  readonly kind: string;
}

/** Runs the events through the policy as the store would apply them. */
function simulate(policy: RateLimitPolicy, events: readonly Event[]): Step[] {
  let now = 1_700_000_000_000;
  let state: LockoutState | undefined;
  const steps: Step[] = [];
  for (const event of events) {
    const before = state;
    if (event.kind === 'advance') now += event.ms;
    else if (event.kind === 'success') {
      if (decideSuccess(state, now) === 'clear') state = undefined;
      steps.push({ now, before, after: state, kind: 'success' });
    } else {
      const t = decideAttempt(state, now, policy);
      if (t.kind !== 'refuse-locked') state = t.next;
      steps.push({ now, before, after: state, kind: t.kind });
    }
  }
  return steps;
}

const admitted = (kind: string) => kind === 'count' || kind === 'reset-window';
const RUNS = { numRuns: 300 };

describe('policy properties', () => {
  it('never admits more than N attempts between resets (a success, a new window, or a lock)', () => {
    fc.assert(
      fc.property(policyArb, fc.array(eventArb, { minLength: 20, maxLength: 300, size: 'large' }), (policy, events) => {
        let sinceReset = 0;
        for (const step of simulate(policy, events)) {
          if (step.kind === 'success' || step.kind === 'start-lockout') sinceReset = 0;
          else if (step.kind === 'reset-window') sinceReset = 1;
          else if (step.kind === 'count') sinceReset += 1;
          if (sinceReset > policy.maxAttempts) return false;
        }
        return true;
      }),
      RUNS,
    );
  });

  it('admits at most N attempts inside any one window of a lock cycle, however attempts are timed', () => {
    fc.assert(
      fc.property(policyArb, fc.array(eventArb, { minLength: 20, maxLength: 300, size: 'large' }), (policy, events) => {
        // Every admitted attempt belongs to the window recorded in the state after it: count per window start.
        const perWindow = new Map<number, number>();
        for (const step of simulate(policy, events)) {
          if (step.kind === 'success') perWindow.clear();
          if (admitted(step.kind)) perWindow.set(step.after!.windowStart, (perWindow.get(step.after!.windowStart) ?? 0) + 1);
        }
        return [...perWindow.values()].every((n) => n <= policy.maxAttempts);
      }),
      RUNS,
    );
  });

  it('never shortens an active lock, whatever happens while it holds', () => {
    fc.assert(
      fc.property(policyArb, fc.array(eventArb, { minLength: 20, maxLength: 300, size: 'large' }), (policy, events) =>
        simulate(policy, events).every((s) => !isLocked(s.before, s.now) || (s.after !== undefined && s.after.lockedUntil >= s.before!.lockedUntil)),
      ),
      RUNS,
    );
  });

  it('refuses every attempt while locked, and never counts it', () => {
    fc.assert(
      fc.property(policyArb, fc.array(eventArb, { minLength: 20, maxLength: 300, size: 'large' }), (policy, events) =>
        simulate(policy, events).every(
          (s) => s.kind === 'success' || !isLocked(s.before, s.now) || (s.kind === 'refuse-locked' && s.after === s.before),
        ),
      ),
      RUNS,
    );
  });

  it('never backs a lockout off beyond the maximum, and makes it permanent only past the threshold', () => {
    fc.assert(
      fc.property(policyArb, fc.array(eventArb, { minLength: 20, maxLength: 300, size: 'large' }), (policy, events) =>
        simulate(policy, events)
          .filter((s) => s.kind === 'start-lockout')
          .every((s) => {
            const { lockedUntil, lockouts } = s.after!;
            if (lockedUntil === PERMANENT_LOCK_UNTIL) return policy.maxTemporaryLockouts > 0 && lockouts > policy.maxTemporaryLockouts;
            const duration = lockedUntil - s.now;
            return duration >= Math.min(policy.lockoutMs, policy.maxLockoutMs) && duration <= policy.maxLockoutMs;
          }),
      ),
      RUNS,
    );
  });

  it('generates runs that reach consecutive lockouts (so the backoff properties are not vacuous)', () => {
    const samples = fc.sample(fc.tuple(policyArb, fc.array(eventArb, { minLength: 20, maxLength: 300, size: 'large' })), { numRuns: 300, seed: 42 });
    const deep = samples.filter(([policy, events]) => simulate(policy, events).some((s) => s.kind === 'start-lockout' && s.after!.lockouts >= 3));
    expect(deep.length).toBeGreaterThanOrEqual(10);
  });

  it('never refuses in monitor mode, whatever the outcome or store-error policy', () => {
    const inputs: DecisionInput[] = ['admitted', 'lockout-started', 'locked', 'contended', 'store-error'];
    fc.assert(
      fc.property(
        fc.constantFrom(...inputs),
        fc.constantFrom('allow' as const, 'deny' as const),
        (input, storePolicy) => verdictFor(input, 'monitor', storePolicy).allow,
      ),
    );
  });
});
