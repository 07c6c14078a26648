import { Logger } from '@aws-lambda-powertools/logger';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { eventPublisherFromEnv } from '../lambdas/engine/lockout-event-publisher';
import { userIdentity } from '../lambdas/engine/identity';
import type { LockoutEventEntry } from '../lambdas/engine/lockout-events';
import type { EventPublisher } from '../lambdas/engine/deps';
import { eventBudget } from '../lambdas/engine/announce';
import { createPreAuthenticationHandler } from '../lambdas/handlers/pre-authentication';
import { createPostConfirmationHandler } from '../lambdas/handlers/post-confirmation';
import {
  DEFAULT_NOTICE_SUBJECT,
  DEFAULT_NOTICE_TEXT,
  InvalidNoticeError,
  NoticeNotSentError,
  createNotifyUserHandler,
} from '../lambdas/handlers/notify-user';
import { testDeps } from './support/deps';
import { postConfirmationEvent, preAuthEvent, unknownUserPreAuthEvent } from '../lib/local/sample-events';

const ddb = mockClient(DynamoDBDocumentClient);
const eventBridge = mockClient(EventBridgeClient);
beforeEach(() => {
  ddb.reset();
  eventBridge.reset();
});

const fullWindow = (now: number) =>
  new ConditionalCheckFailedException({
    message: 'failed',
    $metadata: {},
    Item: marshall({ pk: 'k', failures: 5, windowStart: now - 1000, lockedUntil: 0, lockouts: 0, rev: 5 }),
  });

function recorder(behaviour: 'ok' | 'fail' | 'hang' = 'ok') {
  const entries: unknown[] = [];
  const publisher: EventPublisher = {
    busName: 'default',
    publish: async (entry) => {
      entries.push(entry);
      if (behaviour === 'fail') throw new Error('AccessDenied');
      if (behaviour === 'hang') await new Promise(() => undefined);
    },
  };
  return { entries, publisher };
}

describe('AccountLocked events', () => {
  it('announces a lockout the moment it starts, with the hashed identity and the pool', async () => {
    const { entries, publisher } = recorder();
    const deps = { ...testDeps(), events: publisher };
    ddb.on(UpdateCommand).rejects(fullWindow(deps.clock.time));
    ddb.on(PutCommand).resolves({});
    await expect(createPreAuthenticationHandler(deps)(preAuthEvent('victim'))).rejects.toThrow('Too many failed sign-in attempts');
    expect(entries).toEqual([
      {
        Source: 'cognito-lockout',
        DetailType: 'AccountLocked',
        EventBusName: 'default',
        Detail: JSON.stringify({
          identity: userIdentity('victim').logId,
          userPoolId: 'eu-west-1_AbCdEfGhI',
          lockedUntil: new Date(deps.clock.time + 15 * 60_000).toISOString(),
          reason: 'failed-attempts',
          lockouts: 1,
          mode: 'enforce',
        }),
      },
    ]);
  });

  it('sends nothing for admitted attempts or attempts refused by an existing lock', async () => {
    const { entries, publisher } = recorder();
    const deps = { ...testDeps(), events: publisher };
    ddb
      .on(UpdateCommand)
      .resolvesOnce({ Attributes: { failures: 1 } })
      .rejects(
        new ConditionalCheckFailedException({
          message: 'failed',
          $metadata: {},
          Item: marshall({ pk: 'k', failures: 0, windowStart: 0, lockedUntil: deps.clock.time + 60_000, lockouts: 1, rev: 2 }),
        }),
      );
    const handler = createPreAuthenticationHandler(deps);
    await handler(preAuthEvent('a'));
    await handler(preAuthEvent('a')).catch(() => undefined);
    expect(entries).toEqual([]);
  });

  it.each(['fail', 'hang'] as const)('still refuses, promptly, when the bus would %s, and counts the error', async (behaviour) => {
    const { publisher } = recorder(behaviour);
    const deps = { ...testDeps(), events: publisher };
    const addMetric = jest.spyOn(deps.telemetry.metrics, 'addMetric');
    ddb.on(UpdateCommand).rejects(fullWindow(deps.clock.time));
    ddb.on(PutCommand).resolves({});
    const started = Date.now();
    await expect(createPreAuthenticationHandler(deps)(preAuthEvent('victim'))).rejects.toThrow('Too many failed sign-in attempts');
    expect(Date.now() - started).toBeLessThan(1500);
    expect(addMetric.mock.calls.map((c) => c[0])).toContain('EventErrors');
  });

  it('never lets the event run past the function timeout, whatever the store already used', async () => {
    const { publisher } = recorder('hang');
    const deps = { ...testDeps(), events: publisher };
    ddb.on(UpdateCommand).rejects(fullWindow(deps.clock.time));
    ddb.on(PutCommand).resolves({});
    const started = Date.now();
    // 450 ms left of the invocation: the event gets 200 ms, not its usual 1 s.
    await expect(createPreAuthenticationHandler(deps)(preAuthEvent('victim'), { getRemainingTimeInMillis: () => 450 })).rejects.toThrow(
      'Too many failed sign-in attempts',
    );
    expect(Date.now() - started).toBeLessThan(450);
  });

  it('skips the event, and counts it, when no time is left', async () => {
    const { entries, publisher } = recorder();
    const deps = { ...testDeps(), events: publisher };
    const addMetric = jest.spyOn(deps.telemetry.metrics, 'addMetric');
    ddb.on(UpdateCommand).rejects(fullWindow(deps.clock.time));
    ddb.on(PutCommand).resolves({});
    await expect(createPreAuthenticationHandler(deps)(preAuthEvent('victim'), { getRemainingTimeInMillis: () => 200 })).rejects.toThrow(
      'Too many failed sign-in attempts',
    );
    expect(entries).toEqual([]);
    expect(addMetric.mock.calls.map((c) => c[0])).toContain('EventErrors');
  });

  it('budgets the event at 1 s at most, and by the time the function has left', () => {
    expect(eventBudget(undefined)).toBe(1000);
    expect(eventBudget(2900)).toBe(1000);
    expect(eventBudget(700)).toBe(450);
    expect(eventBudget(100)).toBeLessThanOrEqual(0);
  });

  it('publishes through EventBridge PutEvents on the configured bus', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    const publisher = eventPublisherFromEnv({ LOCKOUT_EVENT_BUS: 'security-bus' })!;
    const entry: LockoutEventEntry = { Source: 'cognito-lockout', DetailType: 'AccountLocked', Detail: '{}', EventBusName: 'security-bus' };
    await publisher.publish(entry, new AbortController().signal);
    expect(eventBridge.commandCalls(PutEventsCommand)[0].args[0].input).toEqual({ Entries: [entry] });
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException' }] });
    await expect(publisher.publish(entry, new AbortController().signal)).rejects.toThrow('EventBridge rejected the event: AccessDeniedException');
  });

  it('is off when no bus is configured', () => {
    expect(eventPublisherFromEnv({})).toBeUndefined();
    expect(eventPublisherFromEnv({ LOCKOUT_EVENT_BUS: ' ' })).toBeUndefined();
  });
});

describe('AccountUnlocked events after a password reset', () => {
  const lockedItem = (now: number) => ({
    Attributes: { pk: 'k', failures: 0, windowStart: now + 60_000, lockedUntil: now + 60_000, lockouts: 1, rev: 7 },
  });

  it('announces the lifted lock with reason password-reset', async () => {
    const { entries, publisher } = recorder();
    const deps = { ...testDeps(), events: publisher };
    ddb.on(UpdateCommand).resolves(lockedItem(deps.clock.time));
    await createPostConfirmationHandler(deps)(postConfirmationEvent('jane'));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ Source: 'cognito-lockout', DetailType: 'AccountUnlocked' });
    expect(JSON.parse((entries[0] as { Detail: string }).Detail)).toMatchObject({
      identity: userIdentity('jane').logId,
      lockedUntil: null,
      reason: 'password-reset',
    });
  });

  it('sends nothing when there was no lock to lift, and never fails the reset when the event fails', async () => {
    const { entries, publisher } = recorder('fail');
    const deps = { ...testDeps(), events: publisher };
    ddb
      .on(UpdateCommand)
      .resolvesOnce({ Attributes: { pk: 'k', failures: 2, windowStart: deps.clock.time, lockedUntil: 0, lockouts: 0, rev: 2 } })
      .resolves(lockedItem(deps.clock.time));
    const handler = createPostConfirmationHandler(deps);
    const event = postConfirmationEvent('jane');
    await expect(handler(event)).resolves.toBe(event);
    expect(entries).toHaveLength(0);
    await expect(handler(event)).resolves.toBe(event);
    expect(entries).toHaveLength(1);
  });

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

describe('lock notices for the account owner', () => {
  const notices = () => {
    const requested: unknown[] = [];
    return { requested, requester: { request: async (notice: unknown) => void requested.push(notice) } };
  };
  const lockingStore = (now: number) => {
    ddb.on(UpdateCommand).rejects(fullWindow(now));
    ddb.on(PutCommand).resolves({});
  };

  it('asks the notifier once, when the lock starts, with the verified address from the trigger event', async () => {
    const { requested, requester } = notices();
    const deps = { ...testDeps(), notices: requester };
    lockingStore(deps.clock.time);
    const handler = createPreAuthenticationHandler(deps);
    await expect(handler(preAuthEvent('jane'))).rejects.toThrow();
    expect(requested).toEqual([
      { email: 'jane@example.com', lockedUntil: new Date(deps.clock.time + 15 * 60_000).toISOString(), userPoolId: 'eu-west-1_AbCdEfGhI' },
    ]);
    ddb.reset();
    ddb.on(UpdateCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'x',
        $metadata: {},
        Item: marshall({ pk: 'k', failures: 0, windowStart: deps.clock.time + 60_000, lockedUntil: deps.clock.time + 60_000, lockouts: 1, rev: 7 }),
      }),
    );
    await expect(handler(preAuthEvent('jane'))).rejects.toThrow();
    expect(requested).toHaveLength(1); // still locked: no second notice
  });

  it('sends nothing for unknown names, unverified addresses, or in monitor mode', async () => {
    for (const [settings, event] of [
      [{}, unknownUserPreAuthEvent('stranger@example.com')],
      [{}, preAuthEvent('jane', { userAttributes: { sub: 'jane', email: 'jane@example.com', email_verified: 'false' } })],
      [{ lockoutMode: 'monitor' as const }, preAuthEvent('jane')],
    ] as const) {
      ddb.reset();
      const { requested, requester } = notices();
      const deps = { ...testDeps({ settings }), notices: requester };
      lockingStore(deps.clock.time);
      await createPreAuthenticationHandler(deps)(event).catch(() => undefined);
      expect(requested).toEqual([]);
    }
  });

  it('never changes or delays the refusal when the notifier fails or hangs', async () => {
    for (const request of [async () => Promise.reject(new Error('AccessDenied')), () => new Promise<void>(() => undefined)]) {
      ddb.reset();
      const deps = { ...testDeps(), notices: { request } };
      lockingStore(deps.clock.time);
      const started = Date.now();
      await expect(createPreAuthenticationHandler(deps)(preAuthEvent('jane'), { getRemainingTimeInMillis: () => 1200 })).rejects.toThrow(
        'Too many failed sign-in attempts. Try again later.',
      );
      expect(Date.now() - started).toBeLessThan(2500);
    }
  });
});

describe('the notifier function', () => {
  const settings = { from: 'security@example.com', subject: DEFAULT_NOTICE_SUBJECT, text: DEFAULT_NOTICE_TEXT };
  const silent = () => testDeps().telemetry;

  it('emails the owner the lock and its end, and that a password reset unlocks it', async () => {
    const sent: Array<{ to: string; subject: string; text: string }> = [];
    const handler = createNotifyUserHandler(settings, { send: async (email) => void sent.push(email) }, silent());
    await handler({ email: 'jane@example.com', lockedUntil: '2026-11-22T18:00:00.000Z', userPoolId: 'p' });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ from: 'security@example.com', to: 'jane@example.com', subject: 'Your account was locked' });
    expect(sent[0].text).toContain('Sun, 22 Nov 2026 18:00:00 GMT');
    expect(sent[0].text).toContain('Resetting your password unlocks the account now.');
  });

  it('logs and throws no address when the provider rejects a recipient, in its words', async () => {
    const written: string[] = [];
    const capture = (chunk: string | Uint8Array) => written.push(chunk.toString()) > 0;
    const spies = [process.stdout, process.stderr].map((stream) => jest.spyOn(stream, 'write').mockImplementation(capture));
    const rejection = Object.assign(
      new Error(
        'Email address is not verified. The following identities failed the check in region EU-WEST-1: jane.doe@example.com, <j.d+x@example.org>',
      ),
      { name: 'MessageRejected' },
    );
    let thrown: unknown;
    try {
      const telemetry = testDeps({ logger: new Logger({ logLevel: 'INFO' }) }).telemetry;
      const handler = createNotifyUserHandler(settings, { send: async () => Promise.reject(rejection) }, telemetry);
      await handler({ email: 'jane.doe@example.com', lockedUntil: '2026-11-22T18:00:00.000Z', userPoolId: 'p' }).catch((e: unknown) => {
        thrown = e;
      });
    } finally {
      spies.forEach((spy) => spy.mockRestore());
    }
    expect(thrown).toBeInstanceOf(NoticeNotSentError);
    expect(String((thrown as Error).message)).toBe('lock notice not sent: MessageRejected');
    const log = written.join('');
    expect(log).toContain('lock notice not sent');
    expect(log).toContain('failed the check in region EU-WEST-1: [address], <[address]>');
    expect(log).not.toMatch(/jane\.doe|j\.d\+x|example\.(com|org)/);
  });

  it.each([null, {}, { email: 'not-an-address', lockedUntil: 'permanent' }, { email: 'a@b.c', lockedUntil: 'soon' }])(
    'refuses the malformed notice %p',
    async (notice) => {
      const handler = createNotifyUserHandler(settings, { send: async () => undefined }, silent());
      await expect(handler(notice)).rejects.toThrow(InvalidNoticeError);
    },
  );
});
