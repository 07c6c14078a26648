/**
 * The at-most-N guarantee when the store fails, as a property over thousands of schedules: one instance (one
 * StoreGuard with the shipped defaults: store-error policy `local`, circuit breaker, instance record) against a
 * model of the store whose requests are answered, fail, or land with their answer lost, in any order, in
 * concurrent bursts. Whatever happens, the instance admits at most N attempts per identity per window; with every
 * request answered it admits exactly N.
 */
import fc from 'fast-check';
import { configFromSettings } from '../../lambdas/runtime/config';
import { DEFAULT_SETTINGS } from '../../lambdas/policy/settings';
import { StoreGuard } from '../../lambdas/store/store-guard';
import { FakeClock } from '../support/deps';
import { MemoryStore, type RequestFate } from '../support/memory-store';

const fate = fc.constantFrom<RequestFate>('answer', 'answer', 'fail', 'lose-answer');
const schedule = fc.record({
  maxAttempts: fc.integer({ min: 1, max: 6 }),
  bursts: fc.array(fc.integer({ min: 1, max: 25 }), { minLength: 1, maxLength: 12 }),
  fates: fc.array(fate, { minLength: 1, maxLength: 80 }),
  delays: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 80 }),
  /** Time between bursts: the circuit's open period passes, the failure window (15 min) does not. */
  gapMs: fc.integer({ min: 0, max: 3000 }),
});

/** Lets `ticks` rounds of pending callbacks run, so answers arrive out of order. */
const ticks = (n: number) =>
  Array.from({ length: n }).reduce<Promise<void>>((p) => p.then(() => new Promise((r) => setImmediate(r))), Promise.resolve());

async function run(s: { maxAttempts: number; bursts: number[]; fates: RequestFate[]; delays: number[]; gapMs: number }, allAnswered = false) {
  let f = 0;
  let d = 0;
  const store = new MemoryStore(
    () => (allAnswered ? 'answer' : s.fates[f++ % s.fates.length]),
    () => ticks(s.delays[d++ % s.delays.length]),
  );
  const clock = new FakeClock();
  const config = configFromSettings('model', { ...DEFAULT_SETTINGS, maxFailedAttempts: s.maxAttempts }, { caseSensitive: false });
  const guard = new StoreGuard(store, {
    decideLocally: DEFAULT_SETTINGS.storeErrorPolicy === 'local',
    budgetMs: DEFAULT_SETTINGS.storeTimeoutMs,
    clock: clock.now,
  });
  let admitted = 0;
  for (const size of s.bursts) {
    const now = clock.now();
    const outcomes = await Promise.all(Array.from({ length: size }, () => guard.attempt('signin#victim', now, config.signIn)));
    admitted += outcomes.filter((o) => o.kind === 'decided' && o.result.outcome === 'admitted').length;
    clock.advance(s.gapMs);
  }
  return { admitted, total: s.bursts.reduce((a, b) => a + b, 0), store };
}

describe('one instance while the store fails, flaps and loses answers', () => {
  it('admits at most N attempts per identity per window', async () => {
    await fc.assert(
      fc.asyncProperty(schedule, async (s) => {
        const { admitted } = await run(s);
        expect(admitted).toBeLessThanOrEqual(s.maxAttempts);
      }),
      { numRuns: 400 },
    );
  });

  it('admits exactly N when every request is answered, in any concurrency', async () => {
    await fc.assert(
      fc.asyncProperty(schedule, async (s) => {
        const { admitted, total } = await run(s, true);
        expect(admitted).toBe(Math.min(s.maxAttempts, total));
      }),
      { numRuns: 200 },
    );
  });

  it('writes a lock it started alone into the store when the store answers again', async () => {
    // Three failures open the circuit; the instance then decides alone, locks, and the first probe after the
    // open period carries the lock to the store, where the other instances and the admin CLI see it.
    let failing = true;
    const store = new MemoryStore(() => (failing ? 'fail' : 'answer'));
    const clock = new FakeClock();
    const config = configFromSettings('model', { ...DEFAULT_SETTINGS, maxFailedAttempts: 3 }, { caseSensitive: false });
    const guard = new StoreGuard(store, {
      decideLocally: DEFAULT_SETTINGS.storeErrorPolicy === 'local',
      budgetMs: DEFAULT_SETTINGS.storeTimeoutMs,
      clock: clock.now,
    });
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++)
      outcomes.push(((await guard.attempt('signin#x', clock.now(), config.signIn)) as { result: { outcome: string } }).result.outcome);
    expect(outcomes).toEqual(['admitted', 'admitted', 'admitted', 'lockout-started', 'locked']);
    expect(store.items.get('signin#x')).toBeUndefined();
    failing = false;
    clock.advance(1000);
    const probe = await guard.attempt('signin#x', clock.now(), config.signIn);
    expect(probe).toMatchObject({ kind: 'decided', result: { outcome: 'locked', source: 'store' } });
    expect(store.items.get('signin#x')).toMatchObject({ lockedUntil: clock.now() - 1000 + 15 * 60_000, lockouts: 1 });
  });

  /** A guard under the shipped defaults on a store whose answers the test switches on and off. */
  function defaultGuard() {
    const state = { failing: true };
    const store = new MemoryStore(() => (state.failing ? 'fail' : 'answer'));
    const clock = new FakeClock();
    const config = configFromSettings('model', DEFAULT_SETTINGS, { caseSensitive: false });
    const guard = new StoreGuard(store, {
      decideLocally: DEFAULT_SETTINGS.storeErrorPolicy === 'local',
      budgetMs: DEFAULT_SETTINGS.storeTimeoutMs,
      clock: clock.now,
    });
    const outcome = async (key: string) => ((await guard.attempt(key, clock.now(), config.signIn)) as { result: { outcome: string } }).result.outcome;
    return { state, store, clock, config, guard, outcome };
  }

  it('keeps the bound for a victim when 10,000 other names are sprayed during the outage', async () => {
    const { outcome, clock } = defaultGuard();
    const n = DEFAULT_SETTINGS.maxFailedAttempts;
    const victim: string[] = [];
    for (let i = 0; i < n; i++) victim.push(await outcome('signin#victim'));
    expect(victim.every((o) => o === 'admitted')).toBe(true);
    const spray: Record<string, number> = {};
    for (let i = 0; i < 10_000; i++) {
      const o = await outcome(`signin#sprayed-${i}`);
      spray[o] = (spray[o] ?? 0) + 1;
      if (i % 1000 === 0) clock.advance(1);
    }
    // The record holds 10,000 identities: the victim and 9,999 sprayed names; the rest are refused, not recorded.
    expect(spray).toEqual({ admitted: 9_999, contended: 1 });
    const after: string[] = [];
    for (let i = 0; i < 20; i++) after.push(await outcome('signin#victim'));
    expect(after.filter((o) => o === 'admitted')).toHaveLength(0);
    expect(after[0]).toBe('lockout-started');
  });

  it('never writes back a lock it started alone once a password reset or an operator unlock cleared the identity', async () => {
    const { state, store, clock, config, outcome } = defaultGuard();
    const n = DEFAULT_SETTINGS.maxFailedAttempts;
    const outcomes: string[] = [];
    for (let i = 0; i <= n; i++) outcomes.push(await outcome('signin#owner'));
    expect(outcomes.at(-1)).toBe('lockout-started');
    // The store answers again; the owner resets the password (post-confirmation, another instance) a minute later.
    state.failing = false;
    clock.advance(60_000);
    await store.clearAfterPasswordReset('signin#owner', false, clock.now(), config.signIn);
    clock.advance(1_000);
    expect(await outcome('signin#owner')).toBe('admitted');
    expect(store.items.get('signin#owner')).toMatchObject({ lockedUntil: 0, failures: 1 });
    // And a lock the instance starts after the clear is still written back.
    state.failing = true;
    for (let i = 0; i < 10; i++) await outcome('signin#owner');
    state.failing = false;
    clock.advance(5_000);
    expect(await outcome('signin#owner')).toBe('locked');
    expect(store.items.get('signin#owner')!.lockedUntil).toBeGreaterThan(clock.now());
  });
});
