/**
 * The engine against Amazon's DynamoDB Local, started here: real conditional writes, real concurrency.
 * Handlers are built by `runtimeDeps`, exactly as in Lambda, with the endpoint from AWS_ENDPOINT_URL_DYNAMODB.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { createLockoutTable, startDynamoDbLocal } from '../sandbox/dynamodb-local';
import { PortTakenError, freePort } from '../sandbox/ports';
import { identityRef, unknownNameIdentity, userIdentity } from '../lambdas/identity/identity';
import { type TriggerDeps, runtimeDeps } from '../lambdas/runtime/deps';
import { settingsToEnv, type LockoutSettings } from '../lambdas/policy/settings';
import { PARTITION_KEY, TTL_ATTRIBUTE } from '../lambdas/store/store';
import { createPostAuthenticationHandler } from '../lambdas/handlers/post-authentication';
import { createPreAuthenticationHandler } from '../lambdas/handlers/pre-authentication';
import { createPreSignUpHandler } from '../lambdas/handlers/pre-signup';
import { createPostConfirmationHandler } from '../lambdas/handlers/post-confirmation';
import { GENERIC_FAILURE_MESSAGE } from '../lambdas/shared/messages';
import { FakeClock } from './support/deps';
import { useDynamoDbLocal } from './support/local-services';
import { whileStoreAnswers, withoutStore } from './support/answering-store';
import {
  federatedPreAuthEvent,
  postAuthEvent,
  postConfirmationEvent,
  preAuthEvent,
  preSignUpEvent,
  unknownUserPreAuthEvent,
} from '../sandbox/sample-events';

const MINUTE = 60_000;
const REFUSAL = 'Too many failed sign-in attempts. Try again later.';
const local = useDynamoDbLocal();
let tableCount = 0;

/**
 * A fresh table and handlers wired as in Lambda (configuration and endpoint from the environment, the shipped
 * defaults for every setting a test does not name), with a clock the test controls.
 */
async function fixture(settings: Partial<LockoutSettings> = {}, endpoint?: string) {
  const tableName = `lockout-${++tableCount}`;
  await createLockoutTable(local.engine().client, tableName, PARTITION_KEY, TTL_ATTRIBUTE);
  // The SDK resolves this lazily, at the first request: it stays set until the next fixture replaces it.
  process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint ?? local.engine().endpoint;
  const clock = FakeClock.onTheHour();
  const deps: TriggerDeps = {
    ...runtimeDeps('PreAuthentication', { LOCKOUT_TABLE_NAME: tableName, LOCKOUT_SIGN_IN_CASE_SENSITIVE: 'false', ...settingsToEnv(settings) }),
    now: clock.now,
  };
  const metricNames: string[] = [];
  jest.spyOn(deps.telemetry.metrics, 'addMetric').mockImplementation((name) => {
    metricNames.push(name);
    return deps.telemetry.metrics;
  });
  return {
    deps,
    clock,
    tableName,
    metricNames,
    preAuth: createPreAuthenticationHandler(deps),
    postAuth: createPostAuthenticationHandler(deps),
    preSignUp: createPreSignUpHandler(deps),
    postConfirmation: createPostConfirmationHandler(deps),
    item: async (key: string) =>
      (await local.documents().send(new GetCommand({ TableName: tableName, Key: { [PARTITION_KEY]: key }, ConsistentRead: true }))).Item,
  };
}

type Outcome = 'admitted' | 'refused';
async function attempt(call: () => Promise<unknown>): Promise<Outcome> {
  try {
    await call();
    return 'admitted';
  } catch (error) {
    expect((error as Error).message).toMatch(/^Too many/);
    return 'refused';
  }
}
const admittedCount = (outcomes: Outcome[]) => outcomes.filter((o) => o === 'admitted').length;

describe('lockout engine on DynamoDB Local', () => {
  it('admits exactly N of 200 concurrent attempts on one identity, and locks once', async () => {
    const { f, outcomes } = await whileStoreAnswers(async () => {
      const f = await fixture();
      const outcomes = await Promise.all(Array.from({ length: 200 }, () => attempt(() => f.preAuth(preAuthEvent('victim')))));
      expect(admittedCount(outcomes)).toBeLessThanOrEqual(5);
      return { storeErrors: withoutStore(f.metricNames), result: { f, outcomes } };
    });
    expect(admittedCount(outcomes)).toBe(5);
    expect(f.metricNames.filter((m) => m === 'LockoutsStarted')).toHaveLength(1);
    expect(await f.item(userIdentity('victim').key)).toMatchObject({ lockouts: 1, failures: 0, lockedUntil: f.clock.now() + 15 * MINUTE });
  });

  it('keeps the guarantee for N = 1 and N = 10 under 100 concurrent attempts', async () => {
    for (const maxFailedAttempts of [1, 10]) {
      const outcomes = await whileStoreAnswers(async () => {
        const f = await fixture({ maxFailedAttempts });
        const outcomes = await Promise.all(Array.from({ length: 100 }, () => attempt(() => f.preAuth(preAuthEvent('victim')))));
        expect(admittedCount(outcomes)).toBeLessThanOrEqual(maxFailedAttempts);
        return { storeErrors: withoutStore(f.metricNames), result: outcomes };
      });
      expect(admittedCount(outcomes)).toBe(maxFailedAttempts);
    }
  });

  it('keeps 10 interleaved identities independent', async () => {
    const f = await fixture({ maxFailedAttempts: 3 });
    const names = Array.from({ length: 10 }, (_, i) => `user-${i}`);
    const calls = Array.from({ length: 8 }, () => names).flat();
    const outcomes = await Promise.all(calls.map((name) => attempt(() => f.preAuth(preAuthEvent(name))).then((o) => [name, o] as const)));
    for (const name of names) {
      expect(outcomes.filter(([n, o]) => n === name && o === 'admitted')).toHaveLength(3);
      expect(await f.item(userIdentity(name).key)).toMatchObject({ lockouts: 1 });
    }
  });

  it('makes one request in the steady state and two when a window expires', async () => {
    const f = await fixture();
    const requests = async () => {
      const before = f.deps.guard.store.requestCount;
      await f.preAuth(preAuthEvent('steady'));
      return f.deps.guard.store.requestCount - before;
    };
    expect(await requests()).toBe(1); // first attempt creates the item
    expect(await requests()).toBe(1); // inside the window
    f.clock.advance(16 * MINUTE);
    expect(await requests()).toBe(2); // window expired: fast path refused, compare-and-set resets it
    expect(await requests()).toBe(1);
  });

  it('refuses while locked without counting, and admits again when the lock ends', async () => {
    const f = await fixture({ maxFailedAttempts: 2, lockoutDurationSeconds: 600 });
    const key = userIdentity('locked-out').key;
    for (let i = 0; i < 3; i++) await attempt(() => f.preAuth(preAuthEvent('locked-out')));
    const locked = await f.item(key);
    await expect(f.preAuth(preAuthEvent('locked-out'))).rejects.toThrow(REFUSAL);
    expect(await f.item(key)).toEqual(locked);
    f.clock.advance(600_000);
    await expect(f.preAuth(preAuthEvent('locked-out'))).resolves.toBeDefined();
    expect(locked![TTL_ATTRIBUTE]).toBeGreaterThan(locked!.lockedUntil / 1000);
  });

  it('leaves an active lock in place when a sign-in succeeds during it', async () => {
    const f = await fixture({ maxFailedAttempts: 2 });
    const key = userIdentity('raced').key;
    for (let i = 0; i < 3; i++) await attempt(() => f.preAuth(preAuthEvent('raced')));
    const locked = await f.item(key);
    await expect(f.postAuth(postAuthEvent('raced'))).resolves.toBeDefined();
    expect(await f.item(key)).toEqual(locked);
    await expect(f.preAuth(preAuthEvent('raced'))).rejects.toThrow(REFUSAL);
  });

  it('clears failures and the lockout streak on success', async () => {
    const f = await fixture({ maxFailedAttempts: 2 });
    for (let i = 0; i < 2; i++) await f.preAuth(preAuthEvent('forgetful'));
    await f.postAuth(postAuthEvent('forgetful'));
    expect(await f.item(userIdentity('forgetful').key)).toMatchObject({ failures: 0, lockouts: 0, lockedUntil: 0 });
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await attempt(() => f.preAuth(preAuthEvent('forgetful'))));
    expect(outcomes).toEqual(['admitted', 'admitted', 'refused']);
  });

  it('backs off consecutive lockouts on the real store', async () => {
    const f = await fixture({ maxFailedAttempts: 1, lockoutDurationSeconds: 60, lockoutBackoffMultiplier: 3 });
    const key = userIdentity('repeat').key;
    const durations: number[] = [];
    for (let i = 0; i < 3; i++) {
      await attempt(() => f.preAuth(preAuthEvent('repeat')));
      await attempt(() => f.preAuth(preAuthEvent('repeat')));
      const item = await f.item(key);
      durations.push(item!.lockedUntil - f.clock.now());
      f.clock.time = item!.lockedUntil;
    }
    expect(durations).toEqual([60_000, 180_000, 540_000]);
  });

  it('counts unknown names as the case-insensitive pool compares them: case variants share, padded and width variants do not', async () => {
    const f = await fixture({ maxFailedAttempts: 3 });
    const outcomes = [];
    for (const name of ['Jane.Doe', 'jane.doe', 'JANE.DOE', 'jane.DOE']) outcomes.push(await attempt(() => f.preAuth(unknownUserPreAuthEvent(name))));
    expect(outcomes).toEqual(['admitted', 'admitted', 'admitted', 'refused']);
    // Cognito resolves neither of these to "jane.doe": they are other names, with counters of their own.
    for (const name of [' jane.doe', 'Ｊａｎｅ．Ｄｏｅ']) expect(await attempt(() => f.preAuth(unknownUserPreAuthEvent(name)))).toBe('admitted');
  });

  it('gives a known user one counter for every name and alias Cognito resolves to it, and no look-alike a share', async () => {
    const f = await fixture({ maxFailedAttempts: 3 });
    const alice = { sub: 'sub-of-alice', email: 'alice@example.com' };
    const outcomes = [];
    for (const typed of ['alice', 'Alice', 'alice@example.com'])
      outcomes.push(await attempt(() => f.preAuth(preAuthEvent(typed, { userAttributes: alice }))));
    // A look-alike registered as its own user, and its successful sign-in: neither touches alice's counter.
    const lookAlike = { sub: 'sub-of-fullwidth-alice' };
    outcomes.push(await attempt(() => f.preAuth(preAuthEvent('ａｌｉｃｅ', { userAttributes: lookAlike }))));
    await f.postAuth(postAuthEvent('ａｌｉｃｅ', lookAlike));
    outcomes.push(await attempt(() => f.preAuth(preAuthEvent('ALICE', { userAttributes: alice }))));
    expect(outcomes).toEqual(['admitted', 'admitted', 'admitted', 'admitted', 'refused']);
    // Nor does the look-alike's own password reset lift alice's lock.
    await f.postConfirmation({ ...postConfirmationEvent('ａｌｉｃｅ'), request: { userAttributes: lookAlike } });
    expect(await attempt(() => f.preAuth(preAuthEvent('alice', { userAttributes: alice })))).toBe('refused');
  });

  it('answers the real address the same whether or not it exists after N attempts on a variant Cognito does not resolve', async () => {
    const answers = [];
    for (const exists of [true, false]) {
      const f = await fixture({ maxFailedAttempts: 3 });
      for (let i = 0; i < 4; i++) await attempt(() => f.preAuth(unknownUserPreAuthEvent('ｊane@example.com')));
      const real = exists
        ? preAuthEvent('jane@example.com', { userAttributes: { sub: 'sub-of-jane', email: 'jane@example.com' } })
        : unknownUserPreAuthEvent('jane@example.com');
      answers.push(await attempt(() => f.preAuth(real)));
    }
    expect(answers).toEqual(['admitted', 'admitted']);
  });

  it('limits unknown user names exactly like known ones', async () => {
    const f = await fixture({ maxFailedAttempts: 3 });
    const run = async (make: () => ReturnType<typeof preAuthEvent>) => {
      const outcomes = [];
      for (let i = 0; i < 5; i++) outcomes.push(await attempt(() => f.preAuth(make())));
      return outcomes;
    };
    const known = await run(() => preAuthEvent('known-user'));
    const unknown = await run(() => unknownUserPreAuthEvent('ghost-user'));
    expect(unknown).toEqual(known);
    const [k, u] = [await f.item(userIdentity('known-user').key), await f.item(unknownNameIdentity('ghost-user', { caseSensitive: false }).key)];
    // The same state; only the known user's item carries its sub, for the notifier (an unknown name has none).
    expect({ ...u, pk: undefined }).toEqual({ ...k, pk: undefined, sub: undefined });
    expect(k).toMatchObject({ sub: 'known-user' });
  });

  it('exempts federated users', async () => {
    const f = await fixture({ maxFailedAttempts: 1 });
    for (let i = 0; i < 5; i++) await expect(f.preAuth(federatedPreAuthEvent())).resolves.toBeDefined();
    expect(await f.item(userIdentity(federatedPreAuthEvent().userName).key)).toBeUndefined();
  });

  it('limits sign-ups per email, across plus-tag and case variants, under concurrency', async () => {
    const f = await fixture({ signUpMaxAttempts: 5 });
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, i) => attempt(() => f.preSignUp(preSignUpEvent({ email: `Target+${i}@Example.com` })))),
    );
    expect(admittedCount(outcomes)).toBe(5);
    expect(await f.item(identityRef('signup-email', 'target@example.com').key)).toMatchObject({ lockouts: 1 });
    await expect(f.preSignUp(preSignUpEvent({ email: 'someone.else@example.com' }))).resolves.toBeDefined();
  });

  it('limits sign-up waves per email domain when enabled', async () => {
    const f = await fixture({ signUpMaxPerEmailDomain: 3 });
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push(await attempt(() => f.preSignUp(preSignUpEvent({ email: `user${i}@spam.example` }))));
    expect(outcomes).toEqual(['admitted', 'admitted', 'admitted', 'refused', 'refused']);
    await expect(f.preSignUp(preSignUpEvent({ email: 'user@good.example' }))).resolves.toBeDefined();
  });

  it('limits SMS pumping per phone country code when enabled', async () => {
    const f = await fixture({ signUpMaxPerPhonePrefix: 2 });
    const outcomes = [];
    for (const n of ['+3725000001', '+3725000002', '+3725000003'])
      outcomes.push(await attempt(() => f.preSignUp(preSignUpEvent({ phone_number: n }))));
    expect(outcomes).toEqual(['admitted', 'admitted', 'refused']);
    await expect(f.preSignUp(preSignUpEvent({ phone_number: '+447700900123' }))).resolves.toBeDefined();
  });

  it('uses the table TTL attribute the store writes', async () => {
    const f = await fixture();
    const ttl = await local.engine().client.send(new DescribeTimeToLiveCommand({ TableName: f.tableName }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe(TTL_ATTRIBUTE);
    await f.preAuth(preAuthEvent('ttl'));
    expect((await f.item(userIdentity('ttl').key))![TTL_ATTRIBUTE]).toBeGreaterThan(f.clock.now() / 1000);
  });
});

describe('a confirmed password reset on DynamoDB Local', () => {
  const lockOut = async (f: Awaited<ReturnType<typeof fixture>>, name: string, attempts: number) => {
    for (let i = 0; i < attempts; i++) await attempt(() => f.preAuth(preAuthEvent(name)));
  };

  it('lifts a temporary lock and clears the counts and the streak, in one write', async () => {
    const f = await fixture({ maxFailedAttempts: 2 });
    await lockOut(f, 'reset-me', 3);
    await expect(f.preAuth(preAuthEvent('reset-me'))).rejects.toThrow(REFUSAL);
    const event = postConfirmationEvent('reset-me');
    await expect(f.postConfirmation(event)).resolves.toBe(event);
    expect(await f.item(userIdentity('reset-me').key)).toMatchObject({ failures: 0, lockedUntil: 0, lockouts: 0, clearedAt: f.clock.now() });
    expect(f.metricNames).toContain('UnlockedByPasswordReset');
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push(await attempt(() => f.preAuth(preAuthEvent('reset-me'))));
    expect(outcomes).toEqual(['admitted', 'admitted', 'refused']); // a fresh window, and a first lock again
    expect(await f.item(userIdentity('reset-me').key)).toMatchObject({ lockouts: 1 });
  });

  it('keeps a permanent lock for an operator by default, and lifts it with unlockOnPasswordReset all', async () => {
    for (const [unlockOnPasswordReset, expected] of [
      ['temporary', 'refused'],
      ['all', 'admitted'],
    ] as const) {
      const f = await fixture({ maxFailedAttempts: 1, maxTemporaryLockouts: 1, lockoutDurationSeconds: 60, unlockOnPasswordReset });
      await lockOut(f, 'forever', 2); // the first lockout
      f.clock.advance(60_000);
      await lockOut(f, 'forever', 2); // the second: permanent
      expect((await f.item(userIdentity('forever').key))!.lockedUntil).toBeGreaterThan(Date.UTC(9999, 0));
      await f.postConfirmation(postConfirmationEvent('forever'));
      expect(await attempt(() => f.preAuth(preAuthEvent('forever')))).toBe(expected);
    }
  });

  it('leaves sign-up confirmations and unknown users alone', async () => {
    const f = await fixture({ maxFailedAttempts: 1 });
    await lockOut(f, 'new-user', 2);
    await f.postConfirmation(postConfirmationEvent('new-user', 'PostConfirmation_ConfirmSignUp'));
    await expect(f.preAuth(preAuthEvent('new-user'))).rejects.toThrow(REFUSAL);
    await expect(f.postConfirmation(postConfirmationEvent('never-seen'))).resolves.toBeDefined();
    // Nothing to lift, but the reset is remembered (clearedAt) so that no instance's outage lock outlives it.
    expect(await f.item(userIdentity('never-seen').key)).toMatchObject({ failures: 0, lockedUntil: 0, lockouts: 0, clearedAt: f.clock.now() });
  });
});

describe('when the store is unreachable', () => {
  let sockets: Socket[] = [];
  let blackHole: Server;
  let blackHoleEndpoint: string;
  beforeAll(async () => {
    // Accepts connections and never answers: the worst case, a store that hangs.
    blackHole = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    blackHoleEndpoint = `http://127.0.0.1:${(blackHole.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    sockets = [];
    await new Promise((resolve) => blackHole.close(resolve));
  });

  async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; outcome: Outcome }> {
    const started = Date.now();
    const outcome = await attempt(work);
    return { ms: Date.now() - started, outcome };
  }

  it.each([
    ['a hanging store', 'allow', 'admitted'],
    ['a hanging store', 'deny', 'refused'],
    ['a closed port', 'allow', 'admitted'],
    ['a closed port', 'deny', 'refused'],
  ] as const)('pre-authentication with %s follows the %s policy well within 5 s', async (kind, storeErrorPolicy, expected) => {
    const endpoint = kind === 'a closed port' ? `http://127.0.0.1:${await freePort()}` : blackHoleEndpoint;
    const f = await fixture({ storeErrorPolicy, storeTimeoutMs: 1500 }, endpoint);
    const { ms, outcome } = await timed(() => f.preAuth(preAuthEvent('outage')));
    expect(outcome).toBe(expected);
    expect(ms).toBeLessThan(3000);
    expect(f.metricNames).toContain('StoreErrors');
  });

  it('post-authentication completes the sign-in when the store hangs', async () => {
    const f = await fixture({ storeErrorPolicy: 'deny', storeTimeoutMs: 1500 }, blackHoleEndpoint);
    const { ms, outcome } = await timed(() => f.postAuth(postAuthEvent('outage')));
    expect(outcome).toBe('admitted');
    expect(ms).toBeLessThan(3000);
  });

  it('post-confirmation fails the password reset within its budget when the store hangs: the revocation of device tokens must not be lost', async () => {
    const f = await fixture({ storeTimeoutMs: 1500 }, blackHoleEndpoint);
    const started = Date.now();
    await expect(f.postConfirmation(postConfirmationEvent('outage'))).rejects.toThrow(GENERIC_FAILURE_MESSAGE);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(f.metricNames).toEqual(expect.arrayContaining(['StoreErrors', 'DeviceRevocationsFailed']));
  });

  it('post-confirmation completes the password reset when the store hangs and device tokens are off', async () => {
    const f = await fixture({ storeTimeoutMs: 1500, deviceTokens: 'off' }, blackHoleEndpoint);
    const { ms, outcome } = await timed(() => f.postConfirmation(postConfirmationEvent('outage')));
    expect(outcome).toBe('admitted');
    expect(ms).toBeLessThan(3000);
    expect(f.metricNames).toContain('StoreErrors');
  });

  it('pre-signup follows the deny policy when the store hangs', async () => {
    const f = await fixture({ storeErrorPolicy: 'deny', storeTimeoutMs: 1500 }, blackHoleEndpoint);
    const { ms, outcome } = await timed(() => f.preSignUp(preSignUpEvent()));
    expect(outcome).toBe('refused');
    expect(ms).toBeLessThan(3000);
  });
});

describe('starting DynamoDB Local', () => {
  it('reports a port another process holds as taken (what a start on a chosen port retries on)', async () => {
    // The engine binds 0.0.0.0, so the holder does too; it hangs up on the readiness probes it receives.
    const holder = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => holder.listen(0, '0.0.0.0', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const failure = await startDynamoDbLocal({ port }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(PortTakenError);
      expect((failure as Error).message).toBe(`port ${port} is already in use: DynamoDB Local could not listen on it`);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  }, 30_000);
});
