import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { identityRef, unknownNameIdentity, userIdentity } from '../lambdas/identity/identity';
import { devicesIdentity } from '../lambdas/devices/device-bucket';
import { GENERIC_FAILURE_MESSAGE } from '../lambdas/shared/messages';
import { TriggerFailureError } from '../lambdas/runtime/failure';
import { createTelemetry } from '../lambdas/shared/telemetry';
import { PERMANENT_LOCK_UNTIL, type LockoutState } from '../lambdas/policy/policy';
import { createPostAuthenticationHandler } from '../lambdas/handlers/post-authentication';
import { createPreAuthenticationHandler } from '../lambdas/handlers/pre-authentication';
import { createPreSignUpHandler } from '../lambdas/handlers/pre-signup';
import { createPreTokenGenerationHandler } from '../lambdas/handlers/pre-token-generation';
import { createPostConfirmationHandler } from '../lambdas/handlers/post-confirmation';
import { type TestDepsOptions, testDeps } from './support/deps';
import { capturingOutput } from './support/output';
import {
  federatedPreAuthEvent,
  postAuthEvent,
  postConfirmationEvent,
  preAuthEvent,
  preSignUpEvent,
  unknownUserPreAuthEvent,
} from '../sandbox/sample-events';

const ddb = mockClient(DynamoDBDocumentClient);
beforeEach(() => ddb.reset());

const MINUTE = 60_000;
const USER = 'a1b2c3d4-0000-4000-8000-00000000000a';
const KEY = userIdentity(USER).key;

function conditionFailed(item?: Partial<LockoutState>): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item: item ? marshall({ pk: KEY, ...item }) : undefined,
  });
}

function setup(options: TestDepsOptions = {}) {
  const deps = testDeps(options);
  return {
    deps,
    now: deps.clock.time,
    preAuth: createPreAuthenticationHandler(deps),
    postAuth: createPostAuthenticationHandler(deps),
    preSignUp: createPreSignUpHandler(deps),
  };
}

const REFUSAL = 'Too many failed sign-in attempts. Try again later.';

describe('pre-authentication handler', () => {
  it('counts a steady-state attempt with exactly one conditional UpdateItem', async () => {
    const { preAuth, now } = setup();
    ddb.on(UpdateCommand).resolves({ Attributes: { pk: KEY, failures: 2, windowStart: now - MINUTE, lockedUntil: 0, lockouts: 0, rev: 2 } });
    const event = preAuthEvent(USER);
    await expect(preAuth(event)).resolves.toBe(event);

    expect(ddb.calls()).toHaveLength(1);
    expect(ddb.commandCalls(UpdateCommand)[0].args[0].input).toEqual({
      TableName: 'lockout-test',
      Key: { pk: KEY },
      UpdateExpression:
        'SET failures = if_not_exists(failures, :zero) + :one, windowStart = if_not_exists(windowStart, :now), ' +
        'lockedUntil = if_not_exists(lockedUntil, :zero), lockouts = if_not_exists(lockouts, :zero), ' +
        // `op` says what the write did, so that the stream's consumers are never invoked for it (outbox.ts); `attemptAt`
        // stamps the attempt for the accounting of the success that may follow (accounting.ts).
        'rev = if_not_exists(rev, :zero) + :one, #ttl = if_not_exists(#ttl, :ttl), #op = :count, #at = :now',
      ConditionExpression: 'attribute_not_exists(#pk) OR (lockedUntil <= :now AND windowStart > :cutoff AND failures < :max)',
      ExpressionAttributeNames: { '#pk': 'pk', '#ttl': 'expiresAt', '#op': 'op', '#at': 'attemptAt' },
      ExpressionAttributeValues: {
        ':zero': 0,
        ':one': 1,
        ':now': now,
        ':cutoff': now - 15 * MINUTE,
        ':max': 5,
        // A new item lives for one window; an existing one keeps the TTL its lock or clear gave it.
        ':ttl': Math.ceil((now + 15 * MINUTE) / 1000),
        ':count': 'count',
      },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('refuses a locked identity after one request, without counting', async () => {
    const { preAuth, now } = setup();
    ddb
      .on(UpdateCommand)
      .rejects(conditionFailed({ failures: 0, windowStart: now + 5 * MINUTE, lockedUntil: now + 5 * MINUTE, lockouts: 1, rev: 7 }));
    await expect(preAuth(preAuthEvent(USER))).rejects.toThrow(REFUSAL);
    expect(ddb.calls()).toHaveLength(1);
  });

  it('starts a lockout with one compare-and-set PutItem when the window is full', async () => {
    const { preAuth, now } = setup();
    ddb.on(UpdateCommand).rejects(conditionFailed({ failures: 5, windowStart: now - MINUTE, lockedUntil: 0, lockouts: 0, rev: 5 }));
    ddb.on(PutCommand).resolves({});
    await expect(preAuth(preAuthEvent(USER))).rejects.toThrow(REFUSAL);

    expect(ddb.calls()).toHaveLength(2);
    const lockedUntil = now + 15 * MINUTE;
    expect(ddb.commandCalls(PutCommand)[0].args[0].input).toEqual({
      TableName: 'lockout-test',
      Item: {
        pk: KEY,
        failures: 0,
        windowStart: lockedUntil,
        lockedUntil,
        lockouts: 1,
        rev: 6,
        expiresAt: Math.ceil((lockedUntil + 24 * 60 * MINUTE) / 1000),
        // A lock starting, of a known user: the announcer's news, and the notifier's way to the address.
        op: 'lock',
        sub: USER,
        attemptAt: now,
      },
      ConditionExpression: 'rev = :rev',
      ExpressionAttributeValues: { ':rev': 5 },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('opens a new window with one compare-and-set when the old one expired', async () => {
    const { preAuth, now } = setup();
    ddb.on(UpdateCommand).rejects(conditionFailed({ failures: 3, windowStart: now - 20 * MINUTE, lockedUntil: 0, lockouts: 0, rev: 3 }));
    ddb.on(PutCommand).resolves({});
    await expect(preAuth(preAuthEvent(USER))).resolves.toBeDefined();
    expect(ddb.commandCalls(PutCommand)[0].args[0].input.Item).toMatchObject({ failures: 1, windowStart: now, rev: 4 });
    expect(ddb.calls()).toHaveLength(2);
  });

  it('stores a permanent lock without a TTL', async () => {
    const { preAuth, now } = setup({ settings: { maxTemporaryLockouts: 1 } });
    ddb.on(UpdateCommand).rejects(conditionFailed({ failures: 5, windowStart: now - MINUTE, lockedUntil: now - MINUTE, lockouts: 1, rev: 12 }));
    ddb.on(PutCommand).resolves({});
    await expect(preAuth(preAuthEvent(USER))).rejects.toThrow(REFUSAL);
    const item = ddb.commandCalls(PutCommand)[0].args[0].input.Item!;
    expect(item).toMatchObject({ lockedUntil: PERMANENT_LOCK_UNTIL, lockouts: 2 });
    expect(item).not.toHaveProperty('expiresAt');
  });

  it('refuses, uncounted and within two requests, when the identity changes under it twice', async () => {
    const { preAuth, now } = setup();
    ddb.on(UpdateCommand).rejects(conditionFailed({ failures: 3, windowStart: now - 20 * MINUTE, lockedUntil: 0, lockouts: 0, rev: 3 }));
    ddb.on(PutCommand).rejects(conditionFailed({ failures: 1, windowStart: now, lockedUntil: 0, lockouts: 0, rev: 4 }));
    await expect(preAuth(preAuthEvent(USER))).rejects.toThrow(REFUSAL);
    expect(ddb.calls()).toHaveLength(2);
  });

  it('counts unknown user names exactly like known ones', async () => {
    const { preAuth } = setup();
    ddb.on(UpdateCommand).resolves({ Attributes: { failures: 1 } });
    await preAuth(unknownUserPreAuthEvent('Nobody@Example.com'));
    await preAuth(preAuthEvent('nobody@example.com'));
    const [unknown, known] = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect({ ...unknown, Key: undefined }).toEqual({ ...known, Key: undefined });
    // The known user by its sub; the unknown name as the case-insensitive pool compares it.
    expect(known.Key).toEqual({ pk: userIdentity('nobody@example.com').key });
    expect(unknown.Key).toEqual({ pk: unknownNameIdentity('nobody@example.com', { caseSensitive: false }).key });
  });

  it('refuses unknown and known users with the same message', async () => {
    const { preAuth, now } = setup();
    ddb.on(UpdateCommand).rejects(conditionFailed({ lockedUntil: now + MINUTE, windowStart: now, failures: 0, lockouts: 1, rev: 9 }));
    const messages = await Promise.all(
      [preAuth(unknownUserPreAuthEvent('ghost')), preAuth(preAuthEvent(USER))].map((p) => p.catch((e: Error) => e.message)),
    );
    expect(messages).toEqual([REFUSAL, REFUSAL]);
  });

  it('does not count federated users', async () => {
    const { preAuth } = setup();
    const event = federatedPreAuthEvent();
    await expect(preAuth(event)).resolves.toBe(event);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('in monitor mode records what it would refuse but refuses nothing', async () => {
    const { preAuth, deps, now } = setup({ settings: { lockoutMode: 'monitor' } });
    const addMetric = jest.spyOn(deps.telemetry.metrics, 'addMetric');
    ddb.on(UpdateCommand).rejects(conditionFailed({ failures: 5, windowStart: now - MINUTE, lockedUntil: 0, lockouts: 0, rev: 5 }));
    ddb.on(PutCommand).resolves({});
    await expect(preAuth(preAuthEvent(USER))).resolves.toBeDefined();
    expect(ddb.commandCalls(PutCommand)).toHaveLength(1);
    expect(addMetric.mock.calls.map((c) => c[0])).toEqual(['LockoutsStarted', 'WouldRefuse']);
  });

  describe('when the store fails', () => {
    const outage = Object.assign(new Error('Service unavailable'), { name: 'InternalServerError', $fault: 'server' });

    it('lets Cognito check the password under the allow policy, and counts the error', async () => {
      const { preAuth, deps } = setup({ settings: { storeErrorPolicy: 'allow' } });
      const addMetric = jest.spyOn(deps.telemetry.metrics, 'addMetric');
      ddb.on(UpdateCommand).rejects(outage);
      await expect(preAuth(preAuthEvent(USER))).resolves.toBeDefined();
      expect(addMetric.mock.calls.map((c) => c[0])).toEqual(['StoreErrors']);
    });

    it('refuses with the generic message under the deny policy, revealing nothing internal', async () => {
      const { preAuth } = setup({ settings: { storeErrorPolicy: 'deny' } });
      ddb.on(UpdateCommand).rejects(outage);
      await expect(preAuth(preAuthEvent(USER))).rejects.toThrow(new Error(REFUSAL));
    });

    it('decides by the policy within the time budget when the store never answers', async () => {
      const { preAuth } = setup({ settings: { storeErrorPolicy: 'deny', storeTimeoutMs: 200 } });
      ddb.on(UpdateCommand).callsFake(() => new Promise(() => undefined));
      const started = Date.now();
      await expect(preAuth(preAuthEvent(USER))).rejects.toThrow(REFUSAL);
      expect(Date.now() - started).toBeLessThan(2000);
    });
  });

  describe('malformed events', () => {
    const valid = preAuthEvent(USER) as unknown as Record<string, unknown>;
    it.each([
      ['a missing userName', { ...valid, userName: undefined }, 'userName must be a non-empty string'],
      ['a blank userName', { ...valid, userName: '   ' }, 'userName must be a non-empty string'],
      ['a numeric userName', { ...valid, userName: 42 }, 'userName must be a non-empty string'],
      ['a missing request', { ...valid, request: undefined }, 'request must be an object'],
      ['a wrong triggerSource', { ...valid, triggerSource: 'PreSignUp_SignUp' }, 'triggerSource must be one of PreAuthentication_Authentication'],
      ['non-object attributes', { ...valid, request: { userAttributes: 'x' } }, 'request.userAttributes must be an object'],
      ['a null event', null, 'the event must be an object'],
    ])('answers %s with the generic message, logs the reason, and makes no store request', async (_, event, message) => {
      const { preAuth, deps } = setup();
      const logged = jest.spyOn(deps.telemetry.logger, 'error');
      const addMetric = jest.spyOn(deps.telemetry.metrics, 'addMetric');
      const error = await preAuth(event as never).catch((e: Error) => e);
      expect(error).toBeInstanceOf(TriggerFailureError);
      expect((error as Error).message).toBe(GENERIC_FAILURE_MESSAGE);
      expect(logged).toHaveBeenCalledWith(`Invalid PreAuthentication trigger event: ${message}`);
      expect(addMetric.mock.calls.map((c) => c[0])).toEqual(['InvalidEvents']);
      expect(ddb.calls()).toHaveLength(0);
    });

    it('answers a bug with the generic message and logs it as an internal error', async () => {
      const { preAuth, deps } = setup();
      const logged = jest.spyOn(deps.telemetry.logger, 'error');
      const addMetric = jest.spyOn(deps.telemetry.metrics, 'addMetric');
      jest.spyOn(deps.guard, 'attempt').mockImplementation(() => {
        throw new TypeError("Cannot read properties of undefined (reading 'failures')");
      });
      await expect(preAuth(preAuthEvent(USER))).rejects.toThrow(new Error(GENERIC_FAILURE_MESSAGE));
      expect(logged).toHaveBeenCalledWith(
        'internal error: the caller got the generic message',
        expect.objectContaining({ error: { name: 'TypeError', message: "Cannot read properties of undefined (reading 'failures')" } }),
      );
      expect(addMetric.mock.calls.map((c) => c[0])).toEqual(['InternalErrors']);
    });

    it.each([
      ['a 10 KB name', 'x'.repeat(10_240)],
      ['control characters', 'jane\u0000\u001b[2J\r\n'],
      ['a 100 KB name of emoji', '😀'.repeat(25_000)],
    ])('decides safely on %s with a bounded key', async (_, userName) => {
      const { preAuth } = setup();
      ddb.on(UpdateCommand).resolves({ Attributes: { failures: 1 } });
      await expect(preAuth(preAuthEvent(userName))).resolves.toBeDefined();
      const key = ddb.commandCalls(UpdateCommand)[0].args[0].input.Key!.pk as string;
      expect(key).toMatch(/^signin#[0-9a-f]{64}$/);
    });

    it('accepts unknown fields: Cognito event shapes grow', async () => {
      const { preAuth } = setup();
      ddb.on(UpdateCommand).resolves({ Attributes: { failures: 1 } });
      const event = { ...preAuthEvent(USER), futureField: { nested: true } };
      await expect(preAuth(event)).resolves.toBe(event);
    });
  });

  it('never writes a typed user name into its logs', async () => {
    // The functions' own logger (it writes to the file descriptors, fd-console.ts), at its most talkative.
    const { logger } = createTelemetry('PreAuthentication');
    logger.setLogLevel('DEBUG');
    const { preAuth, now } = setup({ logger });
    const { log } = await capturingOutput(async () => {
      ddb
        .on(UpdateCommand)
        .resolvesOnce({ Attributes: { failures: 1 } })
        .rejects(conditionFailed({ failures: 5, windowStart: now, lockedUntil: 0, lockouts: 0, rev: 5 }));
      ddb.on(PutCommand).resolves({});
      await preAuth(unknownUserPreAuthEvent('Secret.Person@Example.com'));
      await preAuth(unknownUserPreAuthEvent('Secret.Person@Example.com')).catch(() => undefined);
    });
    expect(log).toContain(unknownNameIdentity('secret.person@example.com', { caseSensitive: false }).logId);
    expect(log).toContain('lockout started');
    expect(log.toLowerCase()).not.toContain('secret.person');
  });
});

describe('post-authentication handler', () => {
  it('clears the identity with one conditional UpdateItem that keeps active locks and reads the attempt it clears', async () => {
    const { postAuth, now, deps } = setup();
    const addMetric = jest.spyOn(deps.telemetry.metrics, 'addMetric');
    ddb.on(UpdateCommand).resolves({ Attributes: { pk: KEY, failures: 1, attemptAt: now - MINUTE } });
    const event = postAuthEvent(USER);
    await expect(postAuth(event)).resolves.toBe(event);
    expect(ddb.calls()).toHaveLength(1);
    expect(ddb.commandCalls(UpdateCommand)[0].args[0].input).toEqual({
      TableName: 'lockout-test',
      Key: { pk: KEY },
      UpdateExpression: 'SET failures = :zero, lockouts = :zero, windowStart = :now, rev = rev + :one, #ttl = :ttl, #op = :op',
      ConditionExpression: 'attribute_exists(#pk) AND lockedUntil <= :now',
      ExpressionAttributeNames: { '#pk': 'pk', '#ttl': 'expiresAt', '#op': 'op' },
      // Kept for a maximum lockout: a clear it remembers (clearedAt) and the attempt's stamp outlive the success.
      ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':now': now, ':ttl': Math.ceil((now + 24 * 60 * MINUTE) / 1000), ':op': 'success' },
      ReturnValues: 'ALL_OLD',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(addMetric.mock.calls.map((c) => c[0])).toEqual(['FailuresCleared']);
  });

  it('keeps an active lock and still lets the sign-in complete', async () => {
    const { postAuth, now } = setup();
    ddb.on(UpdateCommand).rejects(conditionFailed({ lockedUntil: now + MINUTE, failures: 0, windowStart: now, lockouts: 1, rev: 3 }));
    const event = postAuthEvent(USER);
    await expect(postAuth(event)).resolves.toBe(event);
  });

  it('never fails a sign-in on a store error or a hanging store, and never calls it uncounted then', async () => {
    // Shipped defaults: the hanging store is given up at the 1.5 s store budget.
    const { postAuth, deps } = setup();
    const addMetric = jest.spyOn(deps.telemetry.metrics, 'addMetric');
    ddb
      .on(UpdateCommand)
      .rejectsOnce(new Error('socket hang up'))
      .callsFake(() => new Promise(() => undefined));
    const event = postAuthEvent(USER);
    await expect(postAuth(event)).resolves.toBe(event);
    await expect(postAuth(event)).resolves.toBe(event);
    expect(addMetric.mock.calls.map((c) => c[0])).toEqual(['StoreErrors', 'StoreErrors']);
  });

  it.each([
    ['no item at all', undefined],
    ['an item whose last counted attempt is older than an authentication session', { failures: 0, attemptAt: -16 * MINUTE }],
    ['an item of the version before the stamp', { failures: 0, attemptAt: undefined }],
  ])('reports a success with %s as an uncounted sign-in: metric, log and a mark for the announcer', async (_, old) => {
    const { postAuth, now, deps } = setup();
    const addMetric = jest.spyOn(deps.telemetry.metrics, 'addMetric');
    const item = old === undefined ? undefined : { ...old, ...(old.attemptAt === undefined ? {} : { attemptAt: now + old.attemptAt }) };
    // The clear finds no item (its condition fails with nothing seen), or the item as it was; then the mark lands.
    if (item === undefined) ddb.on(UpdateCommand).rejectsOnce(conditionFailed()).resolves({});
    else
      ddb
        .on(UpdateCommand)
        .resolvesOnce({ Attributes: { pk: KEY, ...item } })
        .resolves({});
    const event = { ...postAuthEvent(USER), callerContext: { awsSdkVersion: 'x', clientId: 'web-client' } };
    await expect(postAuth(event)).resolves.toBe(event);
    expect(addMetric.mock.calls.map((c) => c[0])).toContain('UncountedSignIns');
    const mark = ddb.commandCalls(UpdateCommand)[1].args[0].input;
    expect(mark).toMatchObject({
      Key: { pk: KEY },
      ExpressionAttributeValues: { ':op': 'uncounted', ':now': now, ':sub': USER, ':client': 'web-client' },
    });
    expect(ddb.calls()).toHaveLength(2);
  });

  it('reports nothing for a success whose attempt was counted within the session, however late the success', async () => {
    const { postAuth, now, deps } = setup();
    const addMetric = jest.spyOn(deps.telemetry.metrics, 'addMetric');
    ddb.on(UpdateCommand).resolves({ Attributes: { pk: KEY, failures: 0, attemptAt: now - 14 * MINUTE } });
    await postAuth(postAuthEvent(USER));
    expect(addMetric.mock.calls.map((c) => c[0])).not.toContain('UncountedSignIns');
    expect(ddb.calls()).toHaveLength(1);
  });

  it('returns malformed events instead of failing the sign-in', async () => {
    const { postAuth } = setup();
    const event = { ...postAuthEvent(USER), userName: undefined } as never;
    await expect(postAuth(event)).resolves.toBe(event);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('ignores federated users', async () => {
    const { postAuth } = setup();
    await postAuth(postAuthEvent('Google_1', { 'cognito:user_status': 'EXTERNAL_PROVIDER' }));
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('pre-signup handler', () => {
  const keysSent = () =>
    ddb
      .commandCalls(UpdateCommand)
      .map((c) => c.args[0].input.Key!.pk as string)
      .sort();

  it('counts a self-service sign-up per normalized email, phone and chosen user name', async () => {
    const { preSignUp } = setup();
    ddb.on(UpdateCommand).resolves({ Attributes: { failures: 1 } });
    const event = preSignUpEvent({ email: 'New.User+promo@Example.com', phone_number: '+44 7700 900123' }, 'PreSignUp_SignUp', 'NewUser');
    await expect(preSignUp(event)).resolves.toBe(event);
    expect(keysSent()).toEqual(
      [identityRef('signup-email', 'new.user@example.com'), identityRef('signup-phone', '+447700900123'), identityRef('signup-username', 'newuser')]
        .map((r) => r.key)
        .sort(),
    );
    expect(ddb.commandCalls(UpdateCommand)[0].args[0].input.ExpressionAttributeValues).toMatchObject({ ':max': 5 });
  });

  it('skips the user name Cognito generates for email sign-in pools', async () => {
    const { preSignUp } = setup();
    ddb.on(UpdateCommand).resolves({ Attributes: { failures: 1 } });
    await preSignUp(preSignUpEvent({ email: 'a@example.com' }));
    expect(keysSent()).toEqual([identityRef('signup-email', 'a@example.com').key]);
  });

  it('adds the email-domain and phone-prefix limits only when enabled', async () => {
    const { preSignUp } = setup({ settings: { signUpMaxPerEmailDomain: 100, signUpMaxPerPhonePrefix: 20 } });
    ddb.on(UpdateCommand).resolves({ Attributes: { failures: 1 } });
    await preSignUp(preSignUpEvent({ email: 'a@example.com', phone_number: '+3725123456' }));
    expect(keysSent()).toEqual(
      [
        identityRef('signup-email', 'a@example.com'),
        identityRef('signup-email-domain', 'example.com'),
        identityRef('signup-phone', '+3725123456'),
        identityRef('signup-phone-prefix', '372'),
      ]
        .map((r) => r.key)
        .sort(),
    );
    const maxByKey = Object.fromEntries(
      ddb.commandCalls(UpdateCommand).map((c) => [c.args[0].input.Key!.pk, c.args[0].input.ExpressionAttributeValues![':max']]),
    );
    expect(maxByKey[identityRef('signup-email-domain', 'example.com').key]).toBe(100);
    expect(maxByKey[identityRef('signup-phone-prefix', '372').key]).toBe(20);
  });

  it('refuses with the sign-up message when any key is over its limit', async () => {
    const { preSignUp, now } = setup();
    ddb.on(UpdateCommand).rejects(conditionFailed({ lockedUntil: now + MINUTE, failures: 0, windowStart: now, lockouts: 1, rev: 2 }));
    await expect(preSignUp(preSignUpEvent())).rejects.toThrow(new Error('Too many sign-up attempts. Try again later.'));
  });

  it.each(['PreSignUp_AdminCreateUser', 'PreSignUp_ExternalProvider'] as const)('passes %s untouched', async (source) => {
    const { preSignUp } = setup();
    const event = preSignUpEvent({ email: 'a@example.com' }, source);
    const copy = structuredClone(event);
    await expect(preSignUp(event)).resolves.toEqual(copy);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers an unexpected trigger source with the generic message', async () => {
    const { preSignUp, deps } = setup();
    const logged = jest.spyOn(deps.telemetry.logger, 'error');
    await expect(preSignUp({ ...preSignUpEvent(), triggerSource: 'PostConfirmation_ConfirmSignUp' } as never)).rejects.toThrow(
      new Error(GENERIC_FAILURE_MESSAGE),
    );
    expect(logged).toHaveBeenCalledWith(
      'Invalid PreSignUp trigger event: triggerSource must be one of PreSignUp_SignUp, PreSignUp_AdminCreateUser, PreSignUp_ExternalProvider',
    );
  });
});

describe('refusal message with the time left', () => {
  const template = 'Too many failed sign-in attempts. Try again in {minutes} minutes.';

  it('fills {minutes} from the lock, the same way for a known and an unknown name', async () => {
    const messages: string[] = [];
    for (const event of [preAuthEvent(USER), unknownUserPreAuthEvent('ghost@example.com')]) {
      ddb.reset();
      const { preAuth, now } = setup({ settings: { refusalMessage: template } });
      ddb
        .on(UpdateCommand)
        .rejects(conditionFailed({ failures: 0, windowStart: now + 14 * MINUTE, lockedUntil: now + 14 * MINUTE - 1, lockouts: 1, rev: 6 }));
      messages.push(
        await preAuth(event).then(
          () => 'admitted',
          (e: Error) => e.message,
        ),
      );
    }
    expect(messages).toEqual([
      'Too many failed sign-in attempts. Try again in 14 minutes.',
      'Too many failed sign-in attempts. Try again in 14 minutes.',
    ]);
  });

  it('shows the longest temporary lock for a permanent one, so it never reveals permanence', async () => {
    const { preAuth } = setup({ settings: { refusalMessage: template } });
    ddb
      .on(UpdateCommand)
      .rejects(conditionFailed({ failures: 0, windowStart: PERMANENT_LOCK_UNTIL, lockedUntil: PERMANENT_LOCK_UNTIL, lockouts: 9, rev: 9 }));
    await expect(preAuth(preAuthEvent(USER))).rejects.toThrow('Try again in 1440 minutes.');
  });

  it('leaves the default message unchanged', async () => {
    const { preAuth, now } = setup();
    ddb.on(UpdateCommand).rejects(conditionFailed({ failures: 0, windowStart: now + MINUTE, lockedUntil: now + MINUTE, lockouts: 1, rev: 6 }));
    await expect(preAuth(preAuthEvent(USER))).rejects.toThrow(new Error(REFUSAL));
  });
});

describe('pre token generation as the success signal', () => {
  const tokenEvent = (triggerSource: string) =>
    ({ ...postAuthEvent(USER), triggerSource, request: { userAttributes: { sub: USER }, groupConfiguration: {} } }) as never;

  it.each([
    'TokenGeneration_HostedAuth',
    'TokenGeneration_Authentication',
    'TokenGeneration_NewPasswordChallenge',
    'TokenGeneration_AuthenticateDevice',
  ])('clears the failures on %s, with the same conditional UpdateItem as post-authentication, and returns the claims untouched', async (source) => {
    const deps = testDeps();
    const addMetric = jest.spyOn(deps.telemetry.metrics, 'addMetric');
    ddb.on(UpdateCommand).resolves({});
    const event = tokenEvent(source);
    await expect(createPreTokenGenerationHandler(deps)(event)).resolves.toBe(event);
    expect(ddb.commandCalls(UpdateCommand)[0].args[0].input).toMatchObject({
      Key: { pk: KEY },
      ConditionExpression: 'attribute_exists(#pk) AND lockedUntil <= :now',
    });
    // Post-authentication accounts for sign-ins; pre token generation (which also sees refreshes) does not.
    expect(addMetric.mock.calls.map((c) => c[0])).not.toContain('UncountedSignIns');
  });

  it('leaves a token refresh alone: it is not a sign-in', async () => {
    const event = tokenEvent('TokenGeneration_RefreshTokens');
    await expect(createPreTokenGenerationHandler(testDeps())(event)).resolves.toBe(event);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('never fails a sign-in or a token issuance: store errors, malformed events and unknown sources pass, counted', async () => {
    ddb.on(UpdateCommand).rejects(new Error('socket hang up'));
    const deps = testDeps();
    const addMetric = jest.spyOn(deps.telemetry.metrics, 'addMetric');
    const handler = createPreTokenGenerationHandler(deps);
    const events = [
      tokenEvent('TokenGeneration_HostedAuth'),
      { triggerSource: 'TokenGeneration_HostedAuth' },
      // A V3 function composed through ownFunctions sees machine-to-machine tokens: no user at all.
      { ...(tokenEvent('TokenGeneration_ClientCredentials') as object), userName: null, request: {} },
      tokenEvent('TokenGeneration_SomethingAwsAddsLater'),
      { ...(tokenEvent('TokenGeneration_Authentication') as object), request: { userAttributes: {} } },
      null,
    ];
    for (const event of events) await expect(handler(event as never)).resolves.toBe(event);
    // These deps hold no device token key: the sign-in's token is not issued, which is counted too.
    expect(addMetric.mock.calls.map((c) => c[0])).toEqual([
      'StoreErrors',
      'DeviceKeyErrors',
      'InvalidEvents',
      'EventsPassed',
      'EventsPassed',
      'EventsPassed',
    ]);
  });

  it('zeroes an identity that remembers a recent reset in its one request, the clear kept', async () => {
    const deps = testDeps();
    const now = deps.clock.now();
    ddb.on(UpdateCommand).resolves({
      Attributes: { pk: KEY, failures: 2, windowStart: now - MINUTE, lockedUntil: 0, lockouts: 0, rev: 4, clearedAt: now - 2 * MINUTE },
    });
    const event = tokenEvent('TokenGeneration_Authentication');
    await expect(createPreTokenGenerationHandler(deps)(event)).resolves.toBe(event);
    expect(ddb.calls()).toHaveLength(1);
    const input = ddb.commandCalls(UpdateCommand)[0].args[0].input;
    expect(input.UpdateExpression).not.toMatch(/clearedAt/);
    // Long enough for any clear it may remember (a day), whatever it holds.
    expect(input.ExpressionAttributeValues).toMatchObject({ ':ttl': Math.ceil((now + 24 * 60 * MINUTE) / 1000) });
  });
});

describe('post-confirmation handler', () => {
  it('passes a malformed or unrecognized event untouched, counted, and writes nothing: it never fails the reset', async () => {
    const deps = testDeps();
    const addMetric = jest.spyOn(deps.telemetry.metrics, 'addMetric');
    const handler = createPostConfirmationHandler(deps);
    for (const event of [
      { ...postConfirmationEvent('jane'), userName: '' },
      { ...postConfirmationEvent('jane'), request: { userAttributes: {} } },
      { ...postConfirmationEvent('jane'), triggerSource: 'PostConfirmation_SomethingNew' },
    ]) {
      await expect(handler(event as never)).resolves.toBe(event);
    }
    expect(ddb.calls()).toHaveLength(0);
    expect(addMetric.mock.calls.map((c) => c[0])).toEqual(['InvalidEvents', 'EventsPassed', 'EventsPassed']);
  });

  describe('the revocation of device tokens, which must not be lost', () => {
    const devicesKey = devicesIdentity('jane').key;
    const throttled = () => Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), { name: 'ThrottlingException' });
    const devicesCalls = () => ddb.commandCalls(UpdateCommand).filter((call) => call.args[0].input.Key?.pk === devicesKey);
    const metricsOf = (deps: ReturnType<typeof testDeps>) => {
      const names: string[] = [];
      jest.spyOn(deps.telemetry.metrics, 'addMetric').mockImplementation((name) => {
        names.push(name);
        return deps.telemetry.metrics;
      });
      return names;
    };

    it('tries the revocation again within its budget, and lets the reset stand once it lands', async () => {
      ddb.on(UpdateCommand).resolves({});
      ddb
        .on(UpdateCommand, { Key: { pk: devicesKey } })
        .rejectsOnce(throttled())
        .rejectsOnce(throttled())
        .resolves({});
      const event = postConfirmationEvent('jane');
      await expect(createPostConfirmationHandler(testDeps())(event)).resolves.toBe(event);
      expect(devicesCalls()).toHaveLength(3);
      expect(devicesCalls()[2].args[0].input.UpdateExpression).toContain('#revoked = :now');
    });

    it('fails the reset with the generic message when the revocation does not land, after a bounded number of tries', async () => {
      ddb.on(UpdateCommand).resolves({});
      ddb.on(UpdateCommand, { Key: { pk: devicesKey } }).rejects(throttled());
      const deps = testDeps();
      const metrics = metricsOf(deps);
      const error = await createPostConfirmationHandler(deps)(postConfirmationEvent('jane')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TriggerFailureError);
      expect((error as Error).message).toBe(GENERIC_FAILURE_MESSAGE);
      expect(devicesCalls()).toHaveLength(5);
      expect(metrics).toEqual(expect.arrayContaining(['DeviceRevocationsFailed', 'StoreErrors']));
      expect(metrics).not.toContain('InternalErrors');
      // The lift was written all the same.
      expect(ddb.commandCalls(UpdateCommand).filter((call) => call.args[0].input.Key?.pk === userIdentity('jane').key)).toHaveLength(1);
    });

    it('answers within one budget when the store hangs, failing the reset rather than the function timing out', async () => {
      ddb.on(UpdateCommand).callsFake(() => new Promise(() => undefined));
      await expect(createPostConfirmationHandler(testDeps())(postConfirmationEvent('jane'))).rejects.toThrow(GENERIC_FAILURE_MESSAGE);
      expect(devicesCalls()).toHaveLength(1);
    });

    it('lets the reset stand when only the lift fails: the lock then runs out', async () => {
      ddb.on(UpdateCommand).rejects(throttled());
      ddb.on(UpdateCommand, { Key: { pk: devicesKey } }).resolves({});
      const event = postConfirmationEvent('jane');
      await expect(createPostConfirmationHandler(testDeps())(event)).resolves.toBe(event);
    });

    it('keeps a permanent operator lock but still writes the revocation, neither retrying nor failing', async () => {
      ddb.on(UpdateCommand).resolves({});
      ddb
        .on(UpdateCommand, { Key: { pk: devicesKey } })
        .rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
      ddb.on(UpdateCommand, { Key: { pk: devicesKey }, UpdateExpression: 'SET #revoked = :now' }).resolves({});
      const event = postConfirmationEvent('jane');
      await expect(createPostConfirmationHandler(testDeps())(event)).resolves.toBe(event);
      expect(devicesCalls().map((call) => call.args[0].input.UpdateExpression)).toEqual([
        expect.stringContaining('clearedAt'),
        'SET #revoked = :now',
      ]);
    });

    it('writes no revocation, and never fails, with device tokens off', async () => {
      ddb.on(UpdateCommand).rejects(throttled());
      const event = postConfirmationEvent('jane');
      await expect(createPostConfirmationHandler(testDeps({ settings: { deviceTokens: 'off' } }))(event)).resolves.toBe(event);
      expect(devicesCalls()).toHaveLength(0);
    });
  });

  it('passes sign-up confirmations untouched, and does nothing when turned off', async () => {
    for (const [deps, event] of [
      [testDeps(), postConfirmationEvent('jane', 'PostConfirmation_ConfirmSignUp')],
      [testDeps({ settings: { unlockOnPasswordReset: 'off' } }), postConfirmationEvent('jane')],
    ] as const) {
      await expect(createPostConfirmationHandler(deps)(event)).resolves.toBe(event);
    }
    expect(ddb.calls()).toHaveLength(0);
  });
});
