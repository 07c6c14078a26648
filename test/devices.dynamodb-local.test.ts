/**
 * Device tokens against DynamoDB Local: each valid token counts in its own bucket, everything else in the user's
 * anonymous bucket, with every guarantee per bucket under the shipped defaults (N = 5, 15-minute window and lock).
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { PreAuthenticationTriggerEvent } from 'aws-lambda';
import { createLockoutTable } from '../sandbox/dynamodb-local';
import type { TriggerDeps } from '../lambdas/runtime/deps';
import { DeviceKeys } from '../lambdas/devices/device-keys';
import { MAX_DEVICES_PER_USER, bucketAttribute, devicesIdentity, lockedDeviceCount, windowIndex } from '../lambdas/devices/device-bucket';
import { issueDeviceToken, parseDeviceKeySet } from '../lambdas/devices/device-token';
import { userIdentity, unknownNameIdentity } from '../lambdas/identity/identity';
import { DEFAULT_SETTINGS } from '../lambdas/policy/settings';
import { PARTITION_KEY, PRUNE_KEEPS_DEVICES, TTL_ATTRIBUTE } from '../lambdas/store/store';
import { createPostAuthenticationHandler } from '../lambdas/handlers/post-authentication';
import { createPostConfirmationHandler } from '../lambdas/handlers/post-confirmation';
import { createPreAuthenticationHandler } from '../lambdas/handlers/pre-authentication';
import { createPreTokenGenerationHandler } from '../lambdas/handlers/pre-token-generation';
import { postAuthEvent, postConfirmationEvent, preAuthEvent, preTokenGenerationEvent, unknownUserPreAuthEvent } from '../sandbox/sample-events';
import { freePort } from '../sandbox/ports';
import type { TriggerName } from '../lambdas/shared/telemetry';
import { FakeClock } from './support/deps';
import { enforcedTriggerDeps } from './support/iam';
import { useDynamoDbLocal } from './support/local-services';
import { AdminStore } from '../lib/admin/admin-store';
import { countOf, whileStoreAnswers, withoutStore } from './support/answering-store';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const N = DEFAULT_SETTINGS.maxFailedAttempts;
const CLAIM = DEFAULT_SETTINGS.deviceTokenClaim;
const KEY_A = 'a'.repeat(20) + 'first-key-0123456789';
const KEY_B = 'b'.repeat(20) + 'second-key-012345678';
const LIFETIME = DEFAULT_SETTINGS.deviceTokenLifetimeDays * DAY;
const WINDOW = DEFAULT_SETTINGS.failureWindowSeconds * 1000;

const local = useDynamoDbLocal();
let tableCount = 0;

/** The secret's text as the construct generates it, or as a rotation writes it. */
let secretText = JSON.stringify({ key: KEY_A });

async function fixture(endpoint?: string) {
  const tableName = `devices-${++tableCount}`;
  await createLockoutTable(local.engine().client, tableName, PARTITION_KEY, TTL_ATTRIBUTE);
  const clock = FakeClock.onTheHour();
  const metricNames: string[] = [];
  // The keys as an instance holds them, read from the secret's text (the secret itself is the construct's).
  const deviceKeys = new DeviceKeys(async () => secretText, { clock: clock.now, onError: () => undefined });
  // Each trigger with a store client of its own that its role in the synthesized app confines (test/support/iam.ts).
  const depsOf = (trigger: TriggerName): TriggerDeps => {
    const base = enforcedTriggerDeps(trigger, { endpoint: endpoint ?? local.engine().endpoint, tableName, now: clock.now });
    jest.spyOn(base.telemetry.metrics, 'addMetric').mockImplementation((name) => {
      metricNames.push(name);
      return base.telemetry.metrics;
    });
    return { ...base, deviceKeys: trigger === 'PostConfirmation' ? undefined : deviceKeys };
  };
  const deps = depsOf('PreAuthentication');
  return {
    deps,
    depsOf,
    clock,
    metricNames,
    preAuth: createPreAuthenticationHandler(deps),
    postAuth: createPostAuthenticationHandler(depsOf('PostAuthentication')),
    postConfirmation: createPostConfirmationHandler(depsOf('PostConfirmation')),
    preToken: createPreTokenGenerationHandler(depsOf('PreTokenGeneration')),
    item: async (key: string) =>
      (await local.documents().send(new GetCommand({ TableName: tableName, Key: { [PARTITION_KEY]: key }, ConsistentRead: true }))).Item,
    revoke: (sub: string) =>
      local.documents().send(
        new UpdateCommand({
          TableName: tableName,
          Key: { [PARTITION_KEY]: devicesIdentity(sub).key },
          UpdateExpression: 'SET revokedBefore = :now',
          ExpressionAttributeValues: { ':now': clock.now() },
        }),
      ),
  };
}

const USER = 'a1b2c3d4-0000-4000-8000-0000000000d1';
const OTHER = 'a1b2c3d4-0000-4000-8000-0000000000d2';
const withToken = (token: unknown, user = USER): PreAuthenticationTriggerEvent =>
  preAuthEvent(user, { validationData: { [CLAIM]: token as string, unrelated: 'kept' } });
const tokenFor = (sub: string, now: number, key = KEY_A, lifetime = LIFETIME) =>
  issueDeviceToken(parseDeviceKeySet(JSON.stringify({ key })), sub, now, lifetime)!;

type Outcome = 'admitted' | 'refused';
async function attempt(call: () => Promise<unknown>): Promise<Outcome> {
  try {
    await call();
    return 'admitted';
  } catch (error) {
    expect((error as Error).message).toBe(DEFAULT_SETTINGS.refusalMessage);
    return 'refused';
  }
}
const admitted = (outcomes: Outcome[]) => outcomes.filter((o) => o === 'admitted').length;
const fire = (count: number, event: () => PreAuthenticationTriggerEvent, preAuth: (e: PreAuthenticationTriggerEvent) => Promise<unknown>) =>
  Promise.all(Array.from({ length: count }, () => attempt(() => preAuth(event()))));

beforeEach(() => {
  secretText = JSON.stringify({ key: KEY_A });
});

describe('device tokens on DynamoDB Local, shipped defaults', () => {
  it('admits exactly N of 200 concurrent anonymous attempts while a valid token is still admitted, during and after', async () => {
    const { f, token, anonymous, device } = await whileStoreAnswers(async () => {
      const f = await fixture();
      const token = tokenFor(USER, f.clock.now());
      // Two of the owner's attempts during the storm: a write the SDK retries after its answer was lost can count one
      // attempt twice (docs/policy.md), so two can weigh four, and the owner's next attempt still fits under N = 5.
      const [anonymous, device] = await Promise.all([fire(200, () => preAuthEvent(USER), f.preAuth), fire(2, () => withToken(token), f.preAuth)]);
      expect(admitted(anonymous)).toBeLessThanOrEqual(N);
      return { storeErrors: withoutStore(f.metricNames), result: { f, token, anonymous, device } };
    });
    expect(admitted(anonymous)).toBe(N);
    expect(admitted(device)).toBe(2);
    // The anonymous bucket is locked; the owner's device still signs in.
    await expect(f.preAuth(preAuthEvent(USER))).rejects.toThrow(DEFAULT_SETTINGS.refusalMessage);
    await expect(f.preAuth(withToken(token))).resolves.toBeDefined();
    expect(await f.item(userIdentity(USER).key)).toMatchObject({ lockouts: 1, lockedUntil: f.clock.now() + 15 * MINUTE });
    expect(countOf(f.metricNames, 'LockoutsStarted')).toBe(1);
    expect(f.metricNames).not.toContain('DeviceLockoutsStarted');
  });

  it('admits exactly N of 200 concurrent attempts with one token; its lock refuses only that token', async () => {
    const { f, stolen, outcomes } = await whileStoreAnswers(async () => {
      const f = await fixture();
      const stolen = tokenFor(USER, f.clock.now());
      const outcomes = await fire(200, () => withToken(stolen), f.preAuth);
      expect(admitted(outcomes)).toBeLessThanOrEqual(N);
      return { storeErrors: withoutStore(f.metricNames), result: { f, stolen, outcomes } };
    });
    expect(admitted(outcomes)).toBe(N);
    expect(countOf(f.metricNames, 'DeviceLockoutsStarted')).toBe(1);
    await expect(f.preAuth(withToken(stolen))).rejects.toThrow(DEFAULT_SETTINGS.refusalMessage);
    // Another device of the same user, and the anonymous bucket, are untouched.
    await expect(f.preAuth(withToken(tokenFor(USER, f.clock.now())))).resolves.toBeDefined();
    await expect(f.preAuth(preAuthEvent(USER))).resolves.toBeDefined();
    const item = await f.item(devicesIdentity(USER).key);
    expect(lockedDeviceCount(item!, f.clock.now())).toBe(1);
    // The lock is announced like any other: top-level lockedUntil, marked as a device bucket's.
    expect(item).toMatchObject({ op: 'count', bucket: 'device', lockedUntil: f.clock.now() + 15 * MINUTE, sub: USER });
    expect(await f.item(userIdentity(USER).key)).toMatchObject({ failures: 1, lockedUntil: 0 });
  });

  it('makes one DynamoDB request per steady-state device decision, and passes other validationData keys untouched', async () => {
    const f = await fixture();
    const token = tokenFor(USER, f.clock.now());
    for (let i = 0; i < N; i++) {
      const before = f.deps.guard.store.requestCount;
      const event = withToken(token);
      await expect(f.preAuth(event)).resolves.toBe(event);
      expect(event.request.validationData).toEqual({ [CLAIM]: token, unrelated: 'kept' });
      expect(f.deps.guard.store.requestCount - before).toBe(1);
    }
  });

  it.each([
    ['tampered', (t: string) => t.slice(0, 10) + (t[10] === 'A' ? 'B' : 'A') + t.slice(11)],
    ['signed with another key', (_t: string, now: number) => tokenFor(USER, now, KEY_B)],
    ['expired', (_t: string, now: number) => tokenFor(USER, now - LIFETIME - MINUTE)],
    ['issued in the future', (_t: string, now: number) => tokenFor(USER, now + DAY)],
    ["another user's", (_t: string, now: number) => tokenFor(OTHER, now)],
    ['too long', (t: string) => t + 'A'.repeat(700)],
    ['not a string', () => 12345],
    ['badly encoded', () => '%%%.###'],
  ])('counts a token that is %s in the anonymous bucket', async (_, make) => {
    const f = await fixture();
    const bad = (make as (t: string, now: number) => unknown)(tokenFor(USER, f.clock.now()), f.clock.now());
    const outcomes = await fire(20, () => withToken(bad), f.preAuth);
    expect(admitted(outcomes)).toBe(N);
    await expect(f.preAuth(preAuthEvent(USER))).rejects.toThrow(DEFAULT_SETTINGS.refusalMessage);
    expect(await f.item(devicesIdentity(USER).key)).toBeUndefined();
    expect(f.metricNames.filter((m) => m === 'DeviceTokensRejected').length).toBeGreaterThanOrEqual(N);
  });

  it("counts an unknown name with a real user's token as that unknown name", async () => {
    const f = await fixture();
    const token = tokenFor(USER, f.clock.now());
    const event = unknownUserPreAuthEvent('nobody@example.com');
    event.request.validationData = { [CLAIM]: token };
    await f.preAuth(event);
    expect(await f.item(unknownNameIdentity('nobody@example.com', { caseSensitive: false }).key)).toMatchObject({ failures: 1 });
    expect(await f.item(devicesIdentity(USER).key)).toBeUndefined();
  });

  it('keeps tokens of the previous key valid through a rotation, signs with the new key from its signFrom, and drops the oldest', async () => {
    const f = await fixture();
    const old = tokenFor(USER, f.clock.now());
    await f.preAuth(withToken(old)); // the instance holds key A
    // A rotation: B signs from 10 minutes on; A still verifies.
    secretText = JSON.stringify({ keys: [{ key: KEY_B, signFrom: f.clock.now() + 10 * MINUTE }, { key: KEY_A }] });
    f.clock.advance(6 * MINUTE); // past the refresh period: the next decision starts a re-read, the one after sees it
    await f.preAuth(withToken(old));
    await new Promise((resolve) => setImmediate(resolve));
    const issued = async () => {
      const event = preTokenGenerationEvent(USER);
      await f.preToken(event);
      return event.response.claimsOverrideDetails?.claimsToAddOrOverride?.[CLAIM] as string;
    };
    const beforeSignFrom = await issued();
    expect(tokenForCheck(beforeSignFrom, KEY_A, f.clock.now())).toBe(beforeSignFrom);
    f.clock.advance(5 * MINUTE);
    const fresh = await issued();
    expect(tokenForCheck(fresh, KEY_B, f.clock.now())).toBe(fresh);
    // Through the overlap, both count apart: the old token's bucket already holds its two attempts.
    await f.preAuth(withToken(old));
    await f.preAuth(withToken(fresh));
    expect(await f.item(userIdentity(USER).key)).toBeUndefined();
    // The next rotation drops A: its tokens count as anonymous from then on.
    secretText = JSON.stringify({ keys: [{ key: 'c'.repeat(40), signFrom: f.clock.now() + 10 * MINUTE }, { key: KEY_B }] });
    f.clock.advance(6 * MINUTE);
    await f.preAuth(withToken(fresh));
    await new Promise((resolve) => setImmediate(resolve));
    await f.preAuth(withToken(old));
    expect(await f.item(userIdentity(USER).key)).toMatchObject({ failures: 1 });
    await f.preAuth(withToken(fresh));
    expect(await f.item(userIdentity(USER).key)).toMatchObject({ failures: 1 });
  });

  it('counts a revoked token anonymously, and a token issued after the revocation apart', async () => {
    const f = await fixture();
    const stolen = tokenFor(USER, f.clock.now());
    await f.preAuth(withToken(stolen));
    f.clock.advance(1000);
    await f.revoke(USER);
    f.clock.advance(1000);
    const outcomes = await fire(20, () => withToken(stolen), f.preAuth);
    expect(admitted(outcomes)).toBe(N);
    expect(f.metricNames.filter((m) => m === 'DeviceTokensRevoked').length).toBeGreaterThanOrEqual(N);
    await expect(f.preAuth(preAuthEvent(USER))).rejects.toThrow(DEFAULT_SETTINGS.refusalMessage);
    await expect(f.preAuth(withToken(tokenFor(USER, f.clock.now())))).resolves.toBeDefined();
  });

  it("clears only the device's bucket when the owner signs in with it: the attacker's anonymous lock stays", async () => {
    const f = await fixture();
    const token = tokenFor(USER, f.clock.now());
    await fire(N + 1, () => preAuthEvent(USER), f.preAuth);
    await f.preAuth(withToken(token));
    const success = postAuthEvent(USER);
    success.request.clientMetadata = { [CLAIM]: token };
    await f.postAuth(success);
    const devices = (await f.item(devicesIdentity(USER).key))!;
    // The counts go; the device stays known, with its last write and its newest token counted.
    expect(
      Object.keys(devices)
        .filter((name) => name.startsWith(`${tokenDid(token)}.`))
        .sort(),
    ).toEqual([bucketAttribute(tokenDid(token), 'a'), bucketAttribute(tokenDid(token), 'i')].sort());
    // ...and it holds no place among the devices counting in this window.
    expect(devices.open).toBeUndefined();
    expect(await f.item(userIdentity(USER).key)).toMatchObject({ lockouts: 1, lockedUntil: f.clock.now() + 15 * MINUTE });
    await expect(f.preAuth(preAuthEvent(USER))).rejects.toThrow(DEFAULT_SETTINGS.refusalMessage);
  });

  it('lifts the locks of every bucket at a password reset, and revokes the tokens issued before it', async () => {
    const f = await fixture();
    const stolen = tokenFor(USER, f.clock.now());
    await fire(N + 1, () => withToken(stolen), f.preAuth);
    await fire(N + 1, () => preAuthEvent(USER), f.preAuth);
    f.clock.advance(1000);
    await f.postConfirmation(postConfirmationEvent(USER));
    f.clock.advance(1000);
    expect(lockedDeviceCount((await f.item(devicesIdentity(USER).key))!, f.clock.now())).toBe(0);
    // One at a time: concurrent attempts crossing a bucket's restart are refused as contended (limiter.ts).
    const oneByOne = async (event: () => PreAuthenticationTriggerEvent) => {
      const outcomes: Outcome[] = [];
      for (let i = 0; i < N + 3; i++) outcomes.push(await attempt(() => f.preAuth(event())));
      return admitted(outcomes);
    };
    // The reset also revokes every token issued before it: the old one now counts in the anonymous bucket, which
    // the reset lifted (N admitted, then locked again)...
    expect(await f.item(devicesIdentity(USER).key)).toMatchObject({ revokedBefore: f.clock.now() - 1000 });
    expect(await oneByOne(() => withToken(stolen))).toBe(N);
    await expect(f.preAuth(preAuthEvent(USER))).rejects.toThrow(DEFAULT_SETTINGS.refusalMessage);
    // ...and a token issued after it (the owner's next sign-in) counts apart, in a bucket of its own.
    const fresh = tokenFor(USER, f.clock.now());
    expect(await oneByOne(() => withToken(fresh))).toBe(N);
  });

  it('revokes at a password reset even under a permanent operator lock, which it keeps: a later unlock brings no old token back', async () => {
    const f = await fixture();
    const stolen = tokenFor(USER, f.clock.now());
    const admin = new AdminStore(local.documents(), f.deps.config.tableName, f.clock.now);
    await admin.lock(userIdentity(USER).key, 'permanent', { arn: 'arn:aws:iam::123456789012:user/support' }, USER);
    f.clock.advance(1000);
    await f.postConfirmation(postConfirmationEvent(USER));
    const item = (await f.item(devicesIdentity(USER).key))!;
    expect(item).toMatchObject({ revokedBefore: f.clock.now(), operatorLockedUntil: expect.any(Number) });
    expect(item[TTL_ATTRIBUTE]).toBeUndefined();
    await admin.unlock(userIdentity(USER).key, { arn: 'arn:aws:iam::123456789012:user/support' }, USER);
    f.clock.advance(1000);
    await f.preAuth(withToken(stolen));
    expect(f.metricNames).toContain('DeviceTokensRevoked');
  });

  it('voids at a password reset a device lock an instance made alone during an outage, even without a devices item', async () => {
    const f = await fixture();
    await f.postConfirmation(postConfirmationEvent(USER));
    expect(await f.item(devicesIdentity(USER).key)).toMatchObject({ clearedAt: f.clock.now(), revokedBefore: f.clock.now() });
  });

  it('issues a fresh token bound to sub at every sign-in, never at a refresh, and it counts apart', async () => {
    const f = await fixture();
    const event = preTokenGenerationEvent(USER);
    await f.preToken(event);
    const first = event.response.claimsOverrideDetails!.claimsToAddOrOverride![CLAIM];
    const again = preTokenGenerationEvent(USER);
    await f.preToken(again);
    expect(again.response.claimsOverrideDetails!.claimsToAddOrOverride![CLAIM]).not.toBe(first);
    const refresh = preTokenGenerationEvent(USER, 'TokenGeneration_RefreshTokens');
    await f.preToken(refresh);
    expect(refresh.response).toEqual({ claimsOverrideDetails: {} });
    await fire(N + 1, () => preAuthEvent(USER), f.preAuth);
    await expect(f.preAuth(withToken(first))).resolves.toBeDefined();
  });

  it('keeps the buckets apart in the instance record while the store fails: at most N each, the token admitted', async () => {
    const f = await fixture(`http://127.0.0.1:${await freePort()}`);
    const token = tokenFor(USER, f.clock.now());
    const oneByOne = async (event: () => PreAuthenticationTriggerEvent, count: number) => {
      const outcomes: Outcome[] = [];
      for (let i = 0; i < count; i++) outcomes.push(await attempt(() => f.preAuth(event())));
      return admitted(outcomes);
    };
    expect(await oneByOne(() => preAuthEvent(USER), 12)).toBe(N);
    expect(await oneByOne(() => withToken(token), 12)).toBe(N);
    const fresh = tokenFor(USER, f.clock.now());
    expect(await oneByOne(() => withToken(fresh), 2)).toBe(2);
    expect(f.metricNames).toContain('StoreErrors');
  });

  it('keeps the bound on stolen tokens while the store fails: each instance admits at most deviceBucketsPerWindow devices apart', async () => {
    const f = await fixture(`http://127.0.0.1:${await freePort()}`);
    const stolen = Array.from({ length: 10 }, () => tokenFor(USER, f.clock.now()));
    const outcomes: Outcome[] = [];
    for (let i = 0; i < N + 2; i++)
      for (const token of [...stolen, undefined])
        outcomes.push(await attempt(() => f.preAuth(token === undefined ? preAuthEvent(USER) : withToken(token))));
    expect(admitted(outcomes)).toBe((DEFAULT_SETTINGS.deviceBucketsPerWindow + 1) * N);
    expect(f.metricNames).toContain('DeviceBucketsFull');
  });

  it('makes room at a sign-in: beyond half the devices an item keeps, the least recently written quiet ones go', async () => {
    const f = await fixture();
    // Sign-ins whose success signal saw no token (USER_PASSWORD_AUTH): each leaves a device with one failure.
    const abandoned: string[] = [];
    for (let i = 0; i < PRUNE_KEEPS_DEVICES + 3; i++) {
      abandoned.push(tokenFor(USER, f.clock.now()));
      await f.preAuth(withToken(abandoned[i]));
      f.clock.advance(16 * MINUTE);
    }
    const current = tokenFor(USER, f.clock.now());
    await f.preAuth(withToken(current));
    await f.preToken(preTokenGenerationEvent(USER));
    const item = (await f.item(devicesIdentity(USER).key))!;
    const kept = [...(item.devices as Set<string>)];
    expect(kept).toHaveLength(PRUNE_KEEPS_DEVICES);
    // The oldest went, every attribute of theirs with them; the one counting now stayed.
    for (const token of abandoned.slice(0, 4)) {
      expect(kept).not.toContain(tokenDid(token));
      // Attribute names hold a dot: read them as keys, not as property paths.
      expect(Object.keys(item).filter((name) => name.startsWith(`${tokenDid(token)}.`))).toEqual([]);
    }
    expect(kept).toContain(tokenDid(abandoned.at(-1)!));
    expect(item[bucketAttribute(tokenDid(current), 'f')]).toBe(1);
  });

  it('issues nothing, and fails no sign-in, when the key cannot be read', async () => {
    const f = await fixture();
    secretText = 'not json';
    const deviceKeys = new DeviceKeys(async () => secretText, { clock: f.clock.now, onError: () => undefined });
    const event = preTokenGenerationEvent(USER);
    await expect(createPreTokenGenerationHandler({ ...f.depsOf('PreTokenGeneration'), deviceKeys })(event)).resolves.toBe(event);
    expect(event.response).toEqual({ claimsOverrideDetails: {} });
    await expect(createPreAuthenticationHandler({ ...f.deps, deviceKeys })(withToken(tokenFor(USER, f.clock.now())))).resolves.toBeDefined();
    expect(await f.item(userIdentity(USER).key)).toMatchObject({ failures: 1 });
  });
});

describe('stolen device tokens buy little, shipped defaults', () => {
  const BUCKETS = DEFAULT_SETTINGS.deviceBucketsPerWindow;

  it('admits at most (deviceBucketsPerWindow + 1) × N per window, 3N by default, with 10 tokens of one user fired at once', async () => {
    const { f, stolen, outcomes } = await whileStoreAnswers(async () => {
      const f = await fixture();
      // Ten ID tokens of the user, from ten sign-ins on ten devices: ten valid device tokens.
      const stolen = Array.from({ length: 10 }, () => tokenFor(USER, f.clock.now()));
      const outcomes = await Promise.all([
        ...stolen.map((token) => fire(2 * N, () => withToken(token), f.preAuth)),
        fire(2 * N, () => preAuthEvent(USER), f.preAuth),
      ]);
      // The bound holds on every try, whether or not the store decided every attempt in time.
      expect(admitted(outcomes.flat())).toBeLessThanOrEqual((BUCKETS + 1) * N);
      return { storeErrors: withoutStore(f.metricNames), result: { f, stolen, outcomes } };
    });
    // The store decided every one of them (none timed out into an instance's own decision): exactly the bound.
    expect(BUCKETS).toBe(2);
    expect(admitted(outcomes.flat())).toBe((BUCKETS + 1) * N);
    expect(f.metricNames).toContain('DeviceBucketsFull');
    // Still within the window (the fixture's clock starts on the hour), a further round buys nothing at all.
    f.clock.advance(MINUTE);
    expect(windowIndex(f.clock.now(), WINDOW)).toBe(windowIndex(f.clock.now() - MINUTE, WINDOW));
    const again = await Promise.all(stolen.map((token) => fire(3, () => withToken(token), f.preAuth)));
    expect(admitted(again.flat())).toBe(0);
  });

  it('gives places back in the next window, where the same tokens again buy at most 3N', async () => {
    const f = await fixture();
    const stolen = Array.from({ length: 10 }, () => tokenFor(USER, f.clock.now()));
    const round = async () => {
      const outcomes: Outcome[] = [];
      for (let i = 0; i < 2 * N; i++)
        for (const token of [...stolen, undefined])
          outcomes.push(await attempt(() => f.preAuth(token === undefined ? preAuthEvent(USER) : withToken(token))));
      return admitted(outcomes);
    };
    expect(await round()).toBe((BUCKETS + 1) * N);
    // Past every lock (15 minutes, doubled for a second lock) and into new windows.
    f.clock.advance(16 * MINUTE);
    expect(await round()).toBeLessThanOrEqual((BUCKETS + 1) * N);
  });

  it("never holds a place for the owner's own sign-ins: a success takes the device out of this window's count", async () => {
    const f = await fixture();
    const owner = tokenFor(USER, f.clock.now());
    for (let i = 0; i < 5; i++) {
      await f.preAuth(withToken(owner));
      const success = postAuthEvent(USER);
      success.request.clientMetadata = { [CLAIM]: owner };
      await f.postAuth(success);
    }
    // Two other devices still count apart in this window (N each), and the owner's device too.
    const others = [tokenFor(USER, f.clock.now()), tokenFor(USER, f.clock.now())];
    const outcomes = await Promise.all(others.map((token) => fire(N + 2, () => withToken(token), f.preAuth)));
    expect(outcomes.map(admitted)).toEqual([N, N]);
    expect(f.metricNames).not.toContain('DeviceBucketsFull');
  });

  it('keeps one device id across sign-ins, and an older token of the device stops counting apart once a newer one is used', async () => {
    const f = await fixture();
    const first = tokenFor(USER, f.clock.now());
    await f.preAuth(withToken(first));
    f.clock.advance(2000);
    // The sign-in's challenge response carries the token (SRP: Amplify, identity-js): the new token keeps the device.
    const signIn = preTokenGenerationEvent(USER);
    signIn.request.clientMetadata = { [CLAIM]: first };
    await f.preToken(signIn);
    const second = signIn.response.claimsOverrideDetails!.claimsToAddOrOverride![CLAIM] as string;
    expect(tokenDid(second)).toBe(tokenDid(first));
    expect(second).not.toBe(first);
    // Until the newer one is used, the older one still counts apart (the client may not have stored the new one).
    f.clock.advance(1000);
    await f.preAuth(withToken(first));
    expect(await f.item(userIdentity(USER).key)).toBeUndefined();
    await f.preAuth(withToken(second));
    // From then on, the older token (say, from an ID token an API logged) counts in the anonymous bucket.
    await f.preAuth(withToken(first));
    expect(await f.item(userIdentity(USER).key)).toMatchObject({ failures: 1 });
    expect(f.metricNames).toContain('DeviceTokensSuperseded');
    // The sign-in cleared the device's bucket; the two attempts with the device's tokens since counted there.
    expect(await f.item(devicesIdentity(USER).key)).toMatchObject({ [bucketAttribute(tokenDid(first), 'f')]: 2 });
  });

  it("frees every place of the window at an operator's unlock, so the owner's devices count apart again", async () => {
    const f = await fixture();
    const stolen = [tokenFor(USER, f.clock.now()), tokenFor(USER, f.clock.now())];
    for (const token of stolen) await fire(N + 1, () => withToken(token), f.preAuth);
    await fire(N + 1, () => preAuthEvent(USER), f.preAuth);
    const owner = tokenFor(USER, f.clock.now());
    // Both places are taken and the anonymous bucket is locked: the owner's device is refused...
    await expect(f.preAuth(withToken(owner))).rejects.toThrow(DEFAULT_SETTINGS.refusalMessage);
    const admin = new AdminStore(local.documents(), f.deps.config.tableName, f.clock.now);
    await admin.unlock(userIdentity(USER).key, { arn: 'arn:aws:iam::123456789012:user/support' }, USER);
    f.clock.advance(1000);
    // ...until an operator unlocks the account.
    await expect(f.preAuth(withToken(owner))).resolves.toBeDefined();
    expect((await f.item(devicesIdentity(USER).key))!.open).toEqual(new Set([expect.stringContaining(tokenDid(owner))]));
  });

  it("clears the anonymous count of the owner's sign-in when its device found no place and counted there", async () => {
    const f = await fixture();
    // Someone holding two other devices' tokens takes both places of the window.
    for (const token of [tokenFor(USER, f.clock.now()), tokenFor(USER, f.clock.now())]) await f.preAuth(withToken(token));
    const owner = tokenFor(USER, f.clock.now());
    await f.preAuth(withToken(owner));
    expect(await f.item(userIdentity(USER).key)).toMatchObject({ failures: 1 });
    const success = postAuthEvent(USER);
    success.request.clientMetadata = { [CLAIM]: owner };
    await f.postAuth(success);
    // The owner's correct password leaves no count behind, as without device tokens (the zeroed item keeps the stamp
    // of the attempt, for the accounting).
    expect(await f.item(userIdentity(USER).key)).toMatchObject({ failures: 0, lockouts: 0, lockedUntil: 0, op: 'success' });
  });

  it.each(['post-authentication first', 'pre token generation first'])(
    "leaves an attacker's anonymous failures standing when both success triggers get the owner's token (%s)",
    async (order) => {
      const f = await fixture();
      // Someone without a token is one failure short of locking the account.
      await fire(N - 1, () => preAuthEvent(USER), f.preAuth);
      const owner = tokenFor(USER, f.clock.now());
      await f.preAuth(withToken(owner));
      f.clock.advance(2000);
      const postAuth = postAuthEvent(USER);
      postAuth.request.clientMetadata = { [CLAIM]: owner };
      const preToken = preTokenGenerationEvent(USER);
      preToken.request.clientMetadata = { [CLAIM]: owner };
      const both = [() => f.postAuth(postAuth), () => f.preToken(preToken)];
      for (const run of order === 'post-authentication first' ? both : both.reverse()) await run();
      // The first success cleared the device's bucket; the second finds it empty, with this session's attempt stamped
      // on it, and leaves the anonymous bucket alone.
      expect(await f.item(devicesIdentity(USER).key)).not.toHaveProperty(bucketAttribute(tokenDid(owner), 'f'));
      expect(await f.item(userIdentity(USER).key)).toMatchObject({ failures: N - 1 });
      expect(f.metricNames).not.toContain('UncountedSignIns');
      // One more failure still locks it.
      expect(await attempt(() => f.preAuth(preAuthEvent(USER)))).toBe('admitted');
      expect(await attempt(() => f.preAuth(preAuthEvent(USER)))).toBe('refused');
    },
  );

  it('never tidies away the device a sign-in came with, and removes at most 25 devices a sign-in from an item of the previous version', async () => {
    const f = await fixture();
    const key = devicesIdentity(USER).key;
    // An item written before the `devices` set: 40 buckets of devices long quiet, as 0.1.0 left them.
    const dids = Array.from({ length: 40 }, (_, i) => `legacyDevice${String(i).padStart(10, '0')}`);
    for (const [i, did] of dids.entries())
      await local.documents().send(
        new UpdateCommand({
          TableName: f.deps.config.tableName,
          Key: { [PARTITION_KEY]: key },
          UpdateExpression: 'SET #f = :one, #w = :then, #l = :zero, #n = :zero, #r = :one, #a = :then',
          ExpressionAttributeNames: Object.fromEntries(['f', 'w', 'l', 'n', 'r', 'a'].map((p) => [`#${p}`, bucketAttribute(did, p as 'f')])),
          ExpressionAttributeValues: { ':one': 1, ':zero': 0, ':then': f.clock.now() - DAY + i },
        }),
      );
    // The owner signs in with the oldest of them (its token, issued back then, still valid).
    const came = issueDeviceToken(parseDeviceKeySet(JSON.stringify({ key: KEY_A })), USER, f.clock.now() - DAY, LIFETIME, dids[0])!;
    const signIn = preTokenGenerationEvent(USER);
    signIn.request.clientMetadata = { [CLAIM]: came };
    await f.preToken(signIn);
    const left = new Set(
      Object.keys((await f.item(key))!)
        .filter((n) => n.includes('.'))
        .map((n) => n.split('.')[0]),
    );
    expect(left.size).toBe(40 - 25);
    expect(left).toContain(dids[0]);
    expect(left).not.toContain(dids[1]);
  });

  it('keeps at most MAX_DEVICES_PER_USER devices in one item, whatever tokens are used, and counts further ones anonymously', async () => {
    const f = await fixture();
    for (let window = 0; window < 14; window++) {
      for (let i = 0; i < BUCKETS; i++) {
        const outcome = await attempt(() => f.preAuth(withToken(tokenFor(USER, f.clock.now()))));
        expect(outcome).toBe('admitted');
      }
      f.clock.advance(16 * MINUTE);
    }
    const item = (await f.item(devicesIdentity(USER).key))!;
    expect((item.devices as Set<string>).size).toBe(MAX_DEVICES_PER_USER);
    const buckets = new Set(
      Object.keys(item)
        .filter((name) => name.includes('.'))
        .map((name) => name.split('.')[0]),
    );
    expect(buckets.size).toBe(MAX_DEVICES_PER_USER);
    // 28 devices tried; the last 8 found no place and counted anonymously (one each, in their own windows).
    expect(metricCount(f.metricNames, 'DeviceBucketsFull')).toBe(14 * BUCKETS - MAX_DEVICES_PER_USER);
    // About 250 bytes a device: far below DynamoDB's 400 KB item limit, so the operator's transactions keep working.
    expect(Buffer.byteLength(JSON.stringify(item, (_, v) => (v instanceof Set ? [...v] : v)))).toBeLessThan(8_000);
  });
});

const metricCount = (names: string[], name: string) => names.filter((m) => m === name).length;

function tokenDid(token: string): string {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')).did;
}

/** The token itself when `key` signed it, checked at `now` (the fixture's clock), else undefined. */
function tokenForCheck(token: string, key: string, now: number): string | undefined {
  const set = parseDeviceKeySet(JSON.stringify({ key }));
  const { checkDeviceToken } = jest.requireActual('../lambdas/devices/device-token') as typeof import('../lambdas/devices/device-token');
  return checkDeviceToken(set, token, USER, now).valid ? token : undefined;
}
