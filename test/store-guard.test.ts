/**
 * The parts that keep decisions bounded when the store fails: the circuit breaker, the instance record and the
 * guard that combines them with the store, through the handlers as Lambda runs them (mocked DynamoDB client).
 */
import { DeleteCommand, DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { CircuitBreaker, DEFAULT_CIRCUIT } from '../lambdas/store/circuit-breaker';
import { configFromSettings } from '../lambdas/runtime/config';
import {
  DEFAULT_RECORD_LIMITS,
  EMPTY_ENTRY,
  ENTRY_OVERHEAD_BYTES,
  InstanceRecord,
  LONGEST_RECORD_KEY_LENGTH,
  RECORD_CAPACITY,
  decideWithoutStore,
} from '../lambdas/store/instance-record';
import { deviceRecordKey, devicesIdentity } from '../lambdas/devices/device-bucket';
import { identityRef, unknownNameIdentity, userIdentity } from '../lambdas/identity/identity';
import { GENERIC_FAILURE_MESSAGE } from '../lambdas/shared/messages';
import { checkDeviceToken, issueDeviceToken, parseDeviceKeySet } from '../lambdas/devices/device-token';
import { DEFAULT_SETTINGS } from '../lambdas/policy/settings';
import { createPostAuthenticationHandler } from '../lambdas/handlers/post-authentication';
import { createPreAuthenticationHandler } from '../lambdas/handlers/pre-authentication';
import { createPreSignUpHandler } from '../lambdas/handlers/pre-signup';
import { testDeps } from './support/deps';
import { postAuthEvent, preAuthEvent, preSignUpEvent, unknownUserPreAuthEvent } from '../sandbox/sample-events';

const ddb = mockClient(DynamoDBDocumentClient);
beforeEach(() => ddb.reset());
const outage = Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), { name: 'ThrottlingException', $fault: 'client' });
const REFUSAL = DEFAULT_SETTINGS.refusalMessage;
const policy = configFromSettings('t', DEFAULT_SETTINGS, { caseSensitive: false }).signIn;

describe('circuit breaker', () => {
  it('opens after three consecutive failures and lets one probe through when the open period ends', () => {
    const breaker = new CircuitBreaker();
    expect([1, 2].map(() => breaker.failed(breaker.permit(0), 0))).toEqual([undefined, undefined]);
    expect(breaker.failed(breaker.permit(0), 10)).toEqual({ from: 'closed', to: 'open', consecutiveFailures: 3, openUntil: 1010 });
    expect(breaker.permit(1009)).toBe('bypass');
    expect(breaker.permit(1010)).toBe('probe');
    expect(breaker.permit(1011)).toBe('bypass'); // one probe at a time
    expect(breaker.succeeded('probe')).toEqual({ from: 'half-open', to: 'closed', consecutiveFailures: 0 });
    expect(breaker.permit(1012)).toBe('request');
  });

  it('doubles the open period after each failed probe, up to five seconds', () => {
    const breaker = new CircuitBreaker();
    let openUntil = 0;
    for (let i = 0; i < DEFAULT_CIRCUIT.failureThreshold; i++) openUntil = breaker.failed(breaker.permit(0), 0)?.openUntil ?? openUntil;
    const periods: number[] = [];
    for (let i = 0; i < 5; i++) {
      const probe = breaker.permit(openUntil);
      expect(probe).toBe('probe');
      const reopened = breaker.failed(probe, openUntil)!.openUntil!;
      periods.push(reopened - openUntil);
      openUntil = reopened;
    }
    expect(periods).toEqual([2000, 4000, 5000, 5000, 5000]);
  });

  it('a success in between resets the count of consecutive failures', () => {
    const breaker = new CircuitBreaker();
    breaker.failed(breaker.permit(0), 0);
    breaker.failed(breaker.permit(0), 0);
    breaker.succeeded(breaker.permit(0));
    expect(breaker.failed(breaker.permit(0), 0)).toBeUndefined();
    expect(breaker.state).toBe('closed');
  });
});

/** A device id as pre token generation issues it. */
function issuedDeviceId(): string {
  const sub = 'a1b2c3d4-0000-4000-8000-00000000000a';
  const keys = parseDeviceKeySet(JSON.stringify({ key: 'K'.repeat(40) }));
  const now = Date.UTC(2026, 10, 21);
  const check = checkDeviceToken(keys, issueDeviceToken(keys, sub, now, 86_400_000), sub, now);
  if (!check.valid) throw new Error('a freshly issued token must check');
  return check.claims.did;
}

describe('instance record', () => {
  const keyOf = (i: number) => `signin#${i.toString(16).padStart(64, '0')}`;
  /** What the store last said of an identity it counts: nothing this instance must keep. */
  const remembered = { ...EMPTY_ENTRY, state: { failures: 1, windowStart: 1, lockedUntil: 0, lockouts: 0, rev: 1 } };

  it('stays within its entry and byte bounds under 50,000 identities the store knows, least recently used out', () => {
    const record = new InstanceRecord();
    for (let i = 0; i < 50_000; i++) record.set(keyOf(i), remembered);
    expect(record.size).toBeLessThanOrEqual(record.limits.maxEntries);
    expect(record.approximateBytes).toBeLessThanOrEqual(record.limits.maxBytes);
    expect(record.get(keyOf(49_999)).state).toEqual(remembered.state);
    expect(record.get(keyOf(0))).toBe(EMPTY_ENTRY);
  });

  it('holds exactly 10,000 identities of every kind of key the functions record, and has no room for the 10,001st', () => {
    const now = 5_000_000;
    const pinned = { ...EMPTY_ENTRY, unsynced: 1, unsyncedSince: now, unsyncedUntil: now + policy.windowMs };
    const sub = (i: number) => `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000001`;
    const kinds: Record<string, (i: number) => string> = {
      'a known user': (i) => userIdentity(sub(i)).key,
      'an unknown name': (i) => unknownNameIdentity(`name-${i}@example.com`, { caseSensitive: false }).key,
      'a device bucket': (i) => deviceRecordKey(devicesIdentity(sub(i)).key, 'A'.repeat(22 - String(i).length) + i),
      'a sign-up email domain': (i) => identityRef('signup-email-domain', `domain-${i}.example`).key,
    };
    for (const [kind, keyOf] of Object.entries(kinds)) {
      const record = new InstanceRecord(DEFAULT_RECORD_LIMITS, () => now);
      let admitted = 0;
      while (record.hasRoom(keyOf(admitted)) && admitted < 20_000) record.set(keyOf(admitted++), pinned);
      expect([kind, admitted, record.size]).toEqual([kind, RECORD_CAPACITY, RECORD_CAPACITY]);
      expect(record.hasRoom(keyOf(admitted))).toBe(false);
      expect(record.approximateBytes).toBeLessThanOrEqual(DEFAULT_RECORD_LIMITS.maxBytes);
    }
    expect(RECORD_CAPACITY).toBe(10_000);
  });

  it('derives its byte bound from the longest key the functions record, so the entry bound always binds first', () => {
    const did = issuedDeviceId();
    expect(deviceRecordKey(devicesIdentity('a1b2c3d4-0000-4000-8000-00000000000a').key, did)).toHaveLength(LONGEST_RECORD_KEY_LENGTH);
    for (const scope of ['signin', 'signup-username', 'signup-email', 'signup-phone', 'signup-email-domain', 'signup-phone-prefix'] as const)
      expect(identityRef(scope, 'x').key.length).toBeLessThan(LONGEST_RECORD_KEY_LENGTH);
    expect(DEFAULT_RECORD_LIMITS.maxBytes).toBe(RECORD_CAPACITY * (LONGEST_RECORD_KEY_LENGTH + ENTRY_OVERHEAD_BYTES));
  });

  it('evicts by bytes when entries are small in number but the byte bound is lower', () => {
    const record = new InstanceRecord({ maxEntries: 1000, maxBytes: 10 * 240 });
    for (let i = 0; i < 100; i++) record.set(keyOf(i), remembered);
    expect(record.approximateBytes).toBeLessThanOrEqual(10 * 240);
    expect(record.size).toBe(10);
  });

  it('keeps nothing for an entry that knows nothing', () => {
    const record = new InstanceRecord();
    record.set(keyOf(1), EMPTY_ENTRY);
    expect(record.size).toBe(0);
    expect(record.approximateBytes).toBe(0);
  });

  it('never evicts an entry with requests in flight', () => {
    const record = new InstanceRecord({ maxEntries: 2, maxBytes: 1 << 20 });
    record.set('busy', { ...EMPTY_ENTRY, inFlight: 3 });
    for (let i = 0; i < 10; i++) record.set(`idle-${i}`, remembered);
    expect(record.get('busy').inFlight).toBe(3);
  });

  it('never evicts unsynced admissions or its own lock: when full of them, it has no room for a new identity', () => {
    const now = 5_000_000;
    const record = new InstanceRecord({ maxEntries: 100, maxBytes: 1 << 20 }, () => now);
    const admissions = { ...EMPTY_ENTRY, unsynced: 1, unsyncedSince: now, unsyncedUntil: now + policy.windowMs };
    const lock = { failures: 0, windowStart: now + 60_000, lockedUntil: now + 60_000, lockouts: 1, rev: 0 };
    record.set('victim', { ...admissions, unsynced: 5 });
    record.set('own-lock', { ...EMPTY_ENTRY, unsyncedLock: true, unsyncedLockAt: now, state: lock });
    for (let i = 0; i < 10_000 && record.hasRoom(keyOf(i)); i++) record.set(keyOf(i), admissions);
    expect(record.size).toBe(100);
    expect(record.hasRoom('newcomer')).toBe(false);
    expect(record.hasRoom('victim')).toBe(true);
    expect(record.get('victim').unsynced).toBe(5);
    expect(record.get('own-lock').unsyncedLock).toBe(true);
  });

  it('lets pinned entries go when their window or lock ends', () => {
    let now = 5_000_000;
    const record = new InstanceRecord({ maxEntries: 10, maxBytes: 1 << 20 }, () => now);
    for (let i = 0; i < 10; i++) record.set(keyOf(i), { ...EMPTY_ENTRY, unsynced: 1, unsyncedSince: now, unsyncedUntil: now + policy.windowMs });
    expect(record.hasRoom('newcomer')).toBe(false);
    now += policy.windowMs;
    expect(record.hasRoom('newcomer')).toBe(true);
  });

  it('makes room by evicting what the store knows before refusing', () => {
    const now = Date.now();
    const record = new InstanceRecord({ maxEntries: 3, maxBytes: 1 << 20 }, () => now);
    record.set('pinned', { ...EMPTY_ENTRY, unsynced: 1, unsyncedSince: now, unsyncedUntil: now + policy.windowMs });
    record.set('a', remembered);
    record.set('b', remembered);
    expect(record.hasRoom('c')).toBe(true);
    expect(record.size).toBe(2);
    expect(record.get('pinned').unsynced).toBe(1);
  });

  it('evicts store-reported locks only after everything loose, and keeps within its bounds while the store is up', () => {
    const now = Date.now();
    const record = new InstanceRecord({ maxEntries: 3, maxBytes: 1 << 20 }, () => now);
    const locked = { ...EMPTY_ENTRY, state: { failures: 0, windowStart: now + 60_000, lockedUntil: now + 60_000, lockouts: 1, rev: 2 } };
    record.set('locked-1', locked);
    record.set('loose', remembered);
    record.set('locked-2', locked);
    record.set('locked-3', locked);
    expect(record.get('loose')).toBe(EMPTY_ENTRY);
    for (let i = 0; i < 100; i++) record.set(`more-locks-${i}`, locked);
    expect(record.size).toBe(3);
  });

  it('decides without the store by the same policy: N admitted, then a lock', () => {
    let entry = EMPTY_ENTRY;
    const outcomes: string[] = [];
    for (let i = 0; i < 7; i++) {
      const decision = decideWithoutStore(entry, 1_000_000, policy);
      entry = decision.entry;
      outcomes.push(decision.transition.kind);
    }
    expect(outcomes).toEqual(['reset-window', 'count', 'count', 'count', 'count', 'start-lockout', 'refuse-locked']);
  });

  it('counts attempts in flight as admitted, holding this one back without starting a lock', () => {
    const decision = decideWithoutStore({ ...EMPTY_ENTRY, unsynced: 1, unsyncedSince: 1_000_000, inFlight: 4 }, 1_000_000, policy);
    expect(decision).toMatchObject({ admitted: false, contended: true });
    expect(decision.entry.unsyncedLock).toBe(false);
    expect(decideWithoutStore({ ...EMPTY_ENTRY, unsynced: 1, unsyncedSince: 1_000_000, inFlight: 3 }, 1_000_000, policy).admitted).toBe(true);
  });

  it('never starts a permanent lock without the store: at most one maximum lockout, for the store to judge later', () => {
    const strict = { ...policy, maxTemporaryLockouts: 1 };
    const now = 1_000_000_000;
    const afterOneLock = { ...EMPTY_ENTRY, state: { failures: 5, windowStart: now - 1000, lockedUntil: now - 2000, lockouts: 1, rev: 9 } };
    const decision = decideWithoutStore(afterOneLock, now, strict);
    expect(decision.transition).toMatchObject({
      kind: 'start-lockout',
      permanent: false,
      next: { lockedUntil: now + strict.maxLockoutMs, lockouts: 2 },
    });
  });

  it('forgets its own admissions when their window ends', () => {
    let entry = EMPTY_ENTRY;
    for (let i = 0; i < 5; i++) entry = decideWithoutStore(entry, 1_000_000, policy).entry;
    expect(decideWithoutStore(entry, 1_000_000, policy).admitted).toBe(false);
    expect(decideWithoutStore(entry, 1_000_000 + policy.windowMs, policy).admitted).toBe(true);
  });
});

describe('handlers under the default store-error policy (local)', () => {
  it('keeps refusing after N attempts when the store fails on every request', async () => {
    const deps = testDeps();
    const preAuth = createPreAuthenticationHandler(deps);
    ddb.on(UpdateCommand).rejects(outage);
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++)
      outcomes.push(
        await preAuth(preAuthEvent('victim')).then(
          () => 'admitted',
          (e: Error) => e.message,
        ),
      );
    expect(outcomes).toEqual([...Array(5).fill('admitted'), ...Array(3).fill(REFUSAL)]);
  });

  it('treats unknown names exactly like known ones while the store fails', async () => {
    const run = async (event: () => ReturnType<typeof preAuthEvent>) => {
      const preAuth = createPreAuthenticationHandler(testDeps());
      const outcomes: string[] = [];
      for (let i = 0; i < 7; i++)
        outcomes.push(
          await preAuth(event()).then(
            () => 'admitted',
            (e: Error) => e.message,
          ),
        );
      return outcomes;
    };
    ddb.on(UpdateCommand).rejects(outage);
    expect(await run(() => unknownUserPreAuthEvent('ghost'))).toEqual(await run(() => preAuthEvent('known')));
  });

  it('stops asking a failing store after three failures, then probes once the open period has passed', async () => {
    const deps = testDeps();
    const addMetric = jest.spyOn(deps.telemetry.metrics, 'addMetric');
    const preAuth = createPreAuthenticationHandler(deps);
    ddb.on(UpdateCommand).rejects(outage);
    for (let i = 0; i < 3; i++) await preAuth(preAuthEvent(`user-${i}`));
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(3); // mocked above the SDK's retries: one call each
    const before = ddb.calls().length;
    for (let i = 3; i < 20; i++) await preAuth(preAuthEvent(`user-${i}`));
    expect(ddb.calls().length).toBe(before); // decided without waiting for the store
    expect(addMetric.mock.calls.map((c) => c[0])).toContain('StoreCircuitOpened');
    expect(addMetric.mock.calls.filter((c) => c[0] === 'StoreBypassed')).toHaveLength(17);

    ddb.reset();
    ddb.on(UpdateCommand).resolves({ Attributes: { failures: 1, windowStart: deps.clock.time, lockedUntil: 0, lockouts: 0, rev: 1 } });
    deps.clock.advance(DEFAULT_CIRCUIT.openMs);
    await preAuth(preAuthEvent('after-recovery'));
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
    expect(addMetric.mock.calls.map((c) => c[0])).toContain('StoreCircuitClosed');
  });

  it('turns the 10,001st sprayed name away with the generic message, counted and alarmed, never as a lockout refusal', async () => {
    const deps = testDeps();
    const addMetric = jest.spyOn(deps.telemetry.metrics, 'addMetric');
    const preAuth = createPreAuthenticationHandler(deps);
    ddb.on(UpdateCommand).rejects(outage);
    for (let i = 0; i < RECORD_CAPACITY; i++) await preAuth(unknownUserPreAuthEvent(`spray-${i}@example.com`));
    const answer = (event: ReturnType<typeof preAuthEvent>) =>
      preAuth(event).then(
        () => 'admitted',
        (e: Error) => e.message,
      );
    // A real user and a stranger's name alike: the same answer, so it tells nothing about existence.
    expect(await answer(preAuthEvent('jane'))).toBe(GENERIC_FAILURE_MESSAGE);
    expect(await answer(unknownUserPreAuthEvent('ghost'))).toBe(GENERIC_FAILURE_MESSAGE);
    // A sprayed name the record holds is still decided by the policy.
    expect(await answer(unknownUserPreAuthEvent('spray-7@example.com'))).toBe('admitted');
    const names = addMetric.mock.calls.map((c) => c[0]);
    expect(names.filter((n) => n === 'InstanceRecordFull')).toHaveLength(2);
    // Counted as refused, so the UnexpectedErrors alarm (errors minus refusals) stays quiet; not an internal error.
    expect(names.filter((n) => n === 'AttemptsRefused')).toHaveLength(2);
    expect(names).not.toContain('InternalErrors');
  });

  it('answers a sign-up the full record cannot take with the generic message, not the sign-up refusal', async () => {
    const deps = testDeps();
    const preSignUp = createPreSignUpHandler(deps);
    ddb.on(UpdateCommand).rejects(outage);
    const now = deps.clock.now();
    for (let i = 0; i < RECORD_CAPACITY; i++)
      deps.guard.record.set(`signup-email#spray-${i}`, { ...EMPTY_ENTRY, unsynced: 1, unsyncedSince: now, unsyncedUntil: now + policy.windowMs });
    await expect(preSignUp(preSignUpEvent({ email: 'new@example.com' }))).rejects.toThrow(GENERIC_FAILURE_MESSAGE);
  });

  it('admits the new name in monitor mode, which never refuses', async () => {
    const deps = testDeps({ settings: { lockoutMode: 'monitor' } });
    const preAuth = createPreAuthenticationHandler(deps);
    ddb.on(UpdateCommand).rejects(outage);
    const now = deps.clock.now();
    for (let i = 0; i < RECORD_CAPACITY; i++)
      deps.guard.record.set(`signin#spray-${i}`, { ...EMPTY_ENTRY, unsynced: 1, unsyncedSince: now, unsyncedUntil: now + policy.windowMs });
    await expect(preAuth(preAuthEvent('jane'))).resolves.toBeDefined();
  });

  it('post-authentication clears the instance record, so a user signing in again and again is never locked by it', async () => {
    const deps = testDeps();
    const preAuth = createPreAuthenticationHandler(deps);
    const postAuth = createPostAuthenticationHandler(deps);
    ddb.on(UpdateCommand).rejects(outage);
    ddb.on(DeleteCommand).rejects(outage);
    for (let i = 0; i < 12; i++) {
      await expect(preAuth(preAuthEvent('regular'))).resolves.toBeDefined();
      await postAuth(postAuthEvent('regular'));
    }
  });
});
