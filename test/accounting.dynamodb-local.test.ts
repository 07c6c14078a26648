/**
 * Every sign-in accounted for (accounting.ts), on DynamoDB Local under the shipped defaults, each function with the
 * store client it ships with and confined to its role in the synthesized app: a success that pre-authentication
 * counted an attempt for raises nothing and costs no request more; one it did not is reported every time (metric,
 * a mark the announcer turns into a SignInUncounted event).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { PostAuthenticationTriggerEvent } from 'aws-lambda';
import { AUTH_SESSION_MS } from '../lambdas/store/accounting';
import { DeviceKeys } from '../lambdas/devices/device-keys';
import { issueDeviceToken, parseDeviceKeySet } from '../lambdas/devices/device-token';
import type { TriggerDeps } from '../lambdas/runtime/deps';
import { userIdentity } from '../lambdas/identity/identity';
import { announcementOf } from '../lambdas/outbox/outbox';
import { DEFAULT_SETTINGS } from '../lambdas/policy/settings';
import { LockoutStore, PARTITION_KEY, TTL_ATTRIBUTE } from '../lambdas/store/store';
import type { TriggerName } from '../lambdas/shared/telemetry';
import { createPostAuthenticationHandler } from '../lambdas/handlers/post-authentication';
import { createPreAuthenticationHandler } from '../lambdas/handlers/pre-authentication';
import { createPreTokenGenerationHandler } from '../lambdas/handlers/pre-token-generation';
import { createLockoutTable } from '../sandbox/dynamodb-local';
import { freePort } from '../sandbox/ports';
import { postAuthEvent, preAuthEvent, preTokenGenerationEvent } from '../sandbox/sample-events';
import { countOf } from './support/answering-store';
import { FakeClock } from './support/deps';
import { enforcedTriggerDeps } from './support/iam';
import { useDynamoDbLocal } from './support/local-services';

const MINUTE = 60_000;
const CLAIM = DEFAULT_SETTINGS.deviceTokenClaim;
const KEY = 'k'.repeat(40);
const USER = 'a1b2c3d4-0000-4000-8000-0000000000a1';
const CLIENT = '4c2vq7mtc1km3t3gqrl1qvdqbe';

const local = useDynamoDbLocal();
let tableCount = 0;

async function fixture(options: { env?: Record<string, string>; endpoint?: string } = {}) {
  const tableName = `accounting-${++tableCount}`;
  await createLockoutTable(local.engine().client, tableName, PARTITION_KEY, TTL_ATTRIBUTE);
  const clock = FakeClock.onTheHour();
  const metricNames: string[] = [];
  const deviceKeys = new DeviceKeys(async () => JSON.stringify({ key: KEY }), { clock: clock.now, onError: () => undefined });
  const stores: LockoutStore[] = [];
  const depsOf = (trigger: TriggerName): TriggerDeps => {
    const base = enforcedTriggerDeps(trigger, { endpoint: options.endpoint ?? local.engine().endpoint, tableName, now: clock.now, env: options.env });
    jest.spyOn(base.telemetry.metrics, 'addMetric').mockImplementation((name) => {
      metricNames.push(name);
      return base.telemetry.metrics;
    });
    stores.push(base.guard.store as LockoutStore);
    return { ...base, deviceKeys };
  };
  return {
    clock,
    metricNames,
    preAuth: createPreAuthenticationHandler(depsOf('PreAuthentication')),
    postAuth: createPostAuthenticationHandler(depsOf('PostAuthentication')),
    preToken: createPreTokenGenerationHandler(depsOf('PreTokenGeneration')),
    /** DynamoDB requests the post-authentication function sent. */
    postAuthRequests: () => stores[1].requestCount,
    item: async (key: string) =>
      (await local.documents().send(new GetCommand({ TableName: tableName, Key: { [PARTITION_KEY]: key }, ConsistentRead: true }))).Item,
  };
}

const signIn = (): PostAuthenticationTriggerEvent => postAuthEvent(USER);

describe('every sign-in accounted for, on DynamoDB Local, shipped defaults', () => {
  it('raises nothing for a counted sign-in, and the success costs the one request it always made', async () => {
    const f = await fixture();
    await f.preAuth(preAuthEvent(USER));
    await f.postAuth(signIn());
    expect(f.postAuthRequests()).toBe(1);
    expect(f.metricNames).not.toContain('UncountedSignIns');
    expect(countOf(f.metricNames, 'FailuresCleared')).toBe(1);
  });

  it('reports a sign-in that pre-authentication never saw, every time, and marks it for the announcer', async () => {
    const f = await fixture();
    for (let i = 0; i < 3; i++) {
      f.clock.advance(MINUTE);
      await f.postAuth(signIn());
    }
    expect(countOf(f.metricNames, 'UncountedSignIns')).toBe(3);
    const item = await f.item(userIdentity(USER).key);
    expect(item).toMatchObject({ op: 'uncounted', sub: USER, clientId: CLIENT, uncountedAt: f.clock.now() });
    // What the announcer makes of the mark's stream record: one event per uncounted sign-in, naming the app client.
    const announcement = announcementOf({ eventName: 'MODIFY', key: item![PARTITION_KEY] as string, newImage: item, byTtl: false });
    expect(announcement).toMatchObject({ type: 'SignInUncounted', reason: 'no-counted-attempt', sub: USER, clientId: CLIENT });
    // The mark starts no lock and counts nothing: the next attempt is a first one.
    await expect(f.preAuth(preAuthEvent(USER))).resolves.toBeDefined();
  });

  it('raises nothing for 50 successes of one user at once, after one counted attempt', async () => {
    const f = await fixture();
    await f.preAuth(preAuthEvent(USER));
    await Promise.all(Array.from({ length: 50 }, () => f.postAuth(signIn())));
    expect(f.metricNames).not.toContain('UncountedSignIns');
    expect(f.metricNames).not.toContain('StoreErrors');
  });

  it('counts a success within an authentication session of its attempt (MFA, a slow SRP answer), and not one after', async () => {
    const f = await fixture();
    await f.preAuth(preAuthEvent(USER));
    f.clock.advance(AUTH_SESSION_MS - MINUTE);
    await f.postAuth(signIn());
    expect(f.metricNames).not.toContain('UncountedSignIns');
    f.clock.advance(2 * MINUTE);
    await f.postAuth(signIn());
    expect(countOf(f.metricNames, 'UncountedSignIns')).toBe(1);
  });

  it('counts a success in a device bucket, and one whose pre token generation cleared first (both success signals)', async () => {
    const f = await fixture();
    const token = issueDeviceToken(parseDeviceKeySet(JSON.stringify({ key: KEY })), USER, f.clock.now(), 30 * 24 * 60 * MINUTE)!;
    await f.preAuth(preAuthEvent(USER, { validationData: { [CLAIM]: token } }));
    const withToken = signIn();
    withToken.request.clientMetadata = { [CLAIM]: token };
    await f.postAuth(withToken);
    await f.preAuth(preAuthEvent(USER));
    await f.preToken(preTokenGenerationEvent(USER));
    await f.postAuth(signIn());
    expect(f.metricNames).not.toContain('UncountedSignIns');
  });

  it('never accounts a federated sign-in (no password, never counted)', async () => {
    const f = await fixture();
    await f.postAuth(postAuthEvent('Google_104222391844912345678', { sub: USER, 'cognito:user_status': 'EXTERNAL_PROVIDER' }));
    expect(f.metricNames).toEqual([]);
  });

  it('counts attempts in monitor mode, so its sign-ins are accounted as counted', async () => {
    const f = await fixture({ env: { LOCKOUT_MODE: 'monitor' } });
    await f.preAuth(preAuthEvent(USER));
    await f.postAuth(signIn());
    expect(f.metricNames).not.toContain('UncountedSignIns');
  });

  it('says nothing of a sign-in whose store did not answer: a store error, never an uncounted sign-in', async () => {
    const f = await fixture({ endpoint: `http://127.0.0.1:${await freePort()}` });
    await f.postAuth(signIn());
    expect(f.metricNames).toEqual(['StoreErrors']);
  });
});
