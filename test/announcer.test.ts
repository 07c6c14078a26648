/**
 * The announcer: what each kind of stream record announces, exactly once per happening however often it is
 * delivered, and how it fails (in order, never blocking the shard on an unreadable record).
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { devicesIdentity } from '../lambdas/devices/device-bucket';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { userIdentity, unknownNameIdentity } from '../lambdas/identity/identity';
import { type EventPublisher, eventPublisherFromEnv } from '../lambdas/outbox/lockout-event-publisher';
import type { LockoutEventEntry } from '../lambdas/outbox/lockout-events';
import { ANNOUNCER_FILTERS, type NoticeRequest, announcementId } from '../lambdas/outbox/outbox';
import { PERMANENT_LOCK_UNTIL } from '../lambdas/policy/policy';
import { type AnnouncerDeps, type NoticeRequests, createAnnouncerHandler } from '../lambdas/handlers/announcer';
import { testDeps } from './support/deps';

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);
const MINUTE = 60_000;
const jane = userIdentity('7f1c0c4e-0000-4000-8000-00000000000a');
const stranger = unknownNameIdentity('nobody@example.com', { caseSensitive: false });

let sequence = 0;
function record(
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  key: string,
  images: { old?: Record<string, unknown>; new?: Record<string, unknown> },
  extra: Partial<DynamoDBRecord> = {},
): DynamoDBRecord {
  sequence += 1;
  return {
    eventID: `e${sequence}`,
    eventName,
    eventSource: 'aws:dynamodb',
    dynamodb: {
      Keys: marshall({ pk: key }) as never,
      ...(images.new ? { NewImage: marshall({ pk: key, ...images.new }) as never } : {}),
      ...(images.old ? { OldImage: marshall({ pk: key, ...images.old }) as never } : {}),
      SequenceNumber: String(1000 + sequence),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    ...extra,
  };
}

const counting = { failures: 5, windowStart: NOW - MINUTE, lockedUntil: 0, lockouts: 0, rev: 5, op: 'count' };
const locked = (identity: { sub?: string }, lockedUntil = NOW + 15 * MINUTE, lockouts = 1) => ({
  failures: 0,
  windowStart: lockedUntil,
  lockedUntil,
  lockouts,
  rev: 6,
  op: 'lock',
  ...(identity.sub ? { sub: identity.sub } : {}),
});

function setup(overrides: Partial<AnnouncerDeps> = {}, publish: (entry: LockoutEventEntry) => Promise<void> = async () => undefined) {
  const entries: LockoutEventEntry[] = [];
  const requests = new Map<string, NoticeRequest>();
  const events: EventPublisher = {
    busName: 'default',
    publish: async (entry) => {
      await publish(entry);
      entries.push(entry);
    },
  };
  const notices: NoticeRequests = {
    request: async (notice) => {
      if (requests.has(notice.pk)) return 'duplicate';
      requests.set(notice.pk, notice);
      return 'requested';
    },
  };
  const telemetry = testDeps().telemetry;
  const metric = jest.spyOn(telemetry.metrics, 'addMetric');
  const deps: AnnouncerDeps = {
    telemetry,
    events,
    notices,
    mode: 'enforce',
    unlockOnPasswordReset: 'temporary',
    userPoolId: 'eu-west-1_AbCdEfGhI',
    now: () => NOW,
    ...overrides,
  };
  const handler = createAnnouncerHandler(deps);
  const details = () => entries.map((e) => ({ type: e.DetailType, ...JSON.parse(e.Detail) }));
  const metrics = () => metric.mock.calls.map((c) => c[0]);
  return { handler, entries, requests, details, metrics };
}

describe('the announcer', () => {
  it("says a device token's bucket locked when the lock is on a user's devices item", async () => {
    const { handler, details } = setup();
    const devices = devicesIdentity(jane.sub!);
    await handler({ Records: [record('MODIFY', devices.key, { old: { op: 'count', sub: jane.sub }, new: { ...locked(jane), bucket: 'device' } })] });
    expect(details()).toMatchObject([{ type: 'AccountLocked', identity: devices.logId, reason: 'failed-attempts', bucket: 'device' }]);
  });

  it("emails the owner nothing for a lock of one device's bucket: the account is not locked; the account's own lock is told", async () => {
    const { handler, details, requests, metrics } = setup();
    const devices = devicesIdentity(jane.sub!);
    await handler({ Records: [record('MODIFY', devices.key, { old: { op: 'count', sub: jane.sub }, new: { ...locked(jane), bucket: 'device' } })] });
    expect(details()).toHaveLength(1); // operators still hear of it
    expect(requests.size).toBe(0);
    expect(metrics()).not.toContain('NoticesRequested');
    // The same user's anonymous bucket locking afterwards is the account's lock: its notice is not held back.
    await handler({ Records: [record('MODIFY', jane.key, { old: counting, new: locked(jane) })] });
    expect([...requests.values()].map((r) => r.identity)).toEqual([jane.logId]);
  });

  it("announces a lock start once, with a stable id, and requests one notice for a known user's lock", async () => {
    const { handler, details, requests, metrics } = setup();
    const start = record('MODIFY', jane.key, { old: counting, new: locked(jane) });
    for (let delivery = 0; delivery < 3; delivery++) expect(await handler({ Records: [start] })).toEqual({ batchItemFailures: [] });
    const id = announcementId(jane.key, 'locked', NOW + 15 * MINUTE);
    expect(details()).toEqual(
      Array(3).fill({
        type: 'AccountLocked',
        id,
        identity: jane.logId,
        userPoolId: 'eu-west-1_AbCdEfGhI',
        lockedUntil: new Date(NOW + 15 * MINUTE).toISOString(),
        reason: 'failed-attempts',
        bucket: 'anonymous',
        lockouts: 1,
        mode: 'enforce',
      }),
    );
    expect([...requests.values()]).toEqual([
      {
        pk: `notice#${id}`,
        sub: jane.sub,
        lockedUntil: NOW + 15 * MINUTE,
        permanent: false,
        resetUnlocks: true,
        identity: jane.logId,
        requestedAt: NOW,
        expiresAt: NOW / 1000 + 7 * 24 * 3600,
      },
    ]);
    expect(metrics().filter((m) => m === 'NoticesRequested')).toHaveLength(1);
  });

  it('announces an unknown name exactly as a known one, and requests no notice: there is nobody to tell', async () => {
    const { handler, details, requests } = setup();
    await handler({ Records: [record('MODIFY', stranger.key, { old: counting, new: locked(stranger) })] });
    expect(details()).toMatchObject([{ type: 'AccountLocked', identity: stranger.logId, reason: 'failed-attempts' }]);
    expect(requests.size).toBe(0);
  });

  it('marks monitor-mode locks and tells nobody', async () => {
    const { handler, details, requests } = setup({ mode: 'monitor' });
    await handler({ Records: [record('MODIFY', jane.key, { old: counting, new: locked(jane) })] });
    expect(details()).toMatchObject([{ type: 'AccountLocked', mode: 'monitor' }]);
    expect(requests.size).toBe(0);
  });

  it('says a password reset unlocks only when it would', async () => {
    const permanent = record('MODIFY', jane.key, { old: counting, new: locked(jane, PERMANENT_LOCK_UNTIL, 4) });
    for (const [policy, expected] of [
      ['temporary', false],
      ['all', true],
      ['off', false],
    ] as const) {
      const { handler, requests, details } = setup({ unlockOnPasswordReset: policy });
      await handler({ Records: [permanent] });
      expect([...requests.values()][0]).toMatchObject({ permanent: true, resetUnlocks: expected });
      expect(details()[0]).toMatchObject({ lockedUntil: 'permanent', lockouts: 4 });
    }
  });

  it('ignores what is not news: counts, rewrites of the same lock, TTL deletions, sign-up and notice items', async () => {
    const { handler, details, requests } = setup();
    const records = [
      record('INSERT', jane.key, { new: { ...counting, failures: 1 } }),
      record('MODIFY', jane.key, { old: counting, new: { ...counting, failures: 6 } }),
      record('MODIFY', jane.key, { old: locked(jane), new: { ...locked(jane), rev: 7 } }),
      record('REMOVE', jane.key, { old: locked(jane) }, { userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } }),
      record('REMOVE', jane.key, { old: counting }),
      record('MODIFY', 'signup-email#abc', { old: counting, new: locked({}) }),
      record('INSERT', 'notice#abc', { new: { sub: 'x' } }),
    ];
    expect(await handler({ Records: records })).toEqual({ batchItemFailures: [] });
    expect(details()).toEqual([]);
    expect(requests.size).toBe(0);
  });

  it('announces lifts: a reset or an operator over a lock, and a sign-in that ends a streak', async () => {
    const { handler, details } = setup();
    const cleared = (op: string, extra = {}) => ({
      failures: 0,
      windowStart: NOW,
      lockedUntil: 0,
      lockouts: 0,
      rev: 9,
      clearedAt: NOW,
      op,
      ...extra,
    });
    await handler({
      Records: [
        record('MODIFY', jane.key, { old: locked(jane), new: cleared('reset', { sub: jane.sub }) }),
        record('MODIFY', jane.key, { old: counting, new: cleared('reset') }), // nothing was locked: no news
        record('MODIFY', stranger.key, {
          old: locked(stranger),
          new: cleared('operator-unlock', { operator: 'arn:aws:sts::1:assumed-role/Support/[address]' }),
        }),
        record('MODIFY', jane.key, { old: counting, new: { ...locked(jane, NOW + 60 * MINUTE), op: 'operator-lock', operator: 'arn:x' } }),
        record('REMOVE', jane.key, { old: { ...counting, lockouts: 2, lockedUntil: NOW - MINUTE } }),
      ],
    });
    expect(details()).toMatchObject([
      { type: 'AccountUnlocked', reason: 'password-reset', identity: jane.logId, lockedUntil: null },
      { type: 'AccountUnlocked', reason: 'operator', identity: stranger.logId, operator: 'arn:aws:sts::1:assumed-role/Support/[address]' },
      { type: 'AccountLocked', reason: 'operator', operator: 'arn:x', lockedUntil: new Date(NOW + 60 * MINUTE).toISOString() },
      { type: 'AccountUnlocked', reason: 'sign-in' },
    ]);
  });

  it('stops at the first record it cannot announce and reports it, so the stream delivers it and the rest again', async () => {
    let calls = 0;
    const { handler, details, metrics } = setup({}, async () => {
      calls += 1;
      if (calls === 2) throw Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable' });
    });
    const first = record('MODIFY', jane.key, { old: counting, new: locked(jane) });
    const second = record('MODIFY', stranger.key, { old: counting, new: locked(stranger) });
    const third = record('MODIFY', jane.key, { old: locked(jane), new: { ...locked(jane, NOW + 60 * MINUTE, 2) } });
    expect(await handler({ Records: [first, second, third] })).toEqual({ batchItemFailures: [{ itemIdentifier: second.dynamodb!.SequenceNumber }] });
    expect(details()).toHaveLength(1);
    expect(metrics()).not.toContain('StreamRecordsInvalid');
  });

  it('skips and counts a record it cannot read, never reporting it: a poison record does not block the shard', async () => {
    const { handler, details, metrics } = setup();
    const poison = { eventID: 'bad', eventName: 'MODIFY', dynamodb: { Keys: { nope: { S: 'x' } }, SequenceNumber: '1' } } as DynamoDBRecord;
    const weird = { eventID: 'weird', eventName: 'SOMETHING', dynamodb: {} } as unknown as DynamoDBRecord;
    const good = record('MODIFY', jane.key, { old: counting, new: locked(jane) });
    expect(await handler({ Records: [poison, weird, good] })).toEqual({ batchItemFailures: [] });
    expect(details()).toHaveLength(1);
    expect(metrics().filter((m) => m === 'StreamRecordsInvalid')).toHaveLength(2);
  });

  it('filters out ordinary attempts before they invoke anything: no filter pattern names op count', () => {
    const patterns = JSON.stringify(ANNOUNCER_FILTERS);
    expect(patterns).not.toContain('"count"');
    expect(patterns).toContain('"lock"');
  });
});

describe('the EventBridge publisher', () => {
  const eventBridge = mockClient(EventBridgeClient);
  beforeEach(() => eventBridge.reset());

  it('publishes through PutEvents on the configured bus, and treats a dropped entry as a failure', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    const publisher = eventPublisherFromEnv({ LOCKOUT_EVENT_BUS: 'security-bus' })!;
    const entry: LockoutEventEntry = { Source: 'cognito-lockout', DetailType: 'AccountLocked', Detail: '{}', EventBusName: 'security-bus' };
    await publisher.publish(entry);
    expect(eventBridge.commandCalls(PutEventsCommand)[0].args[0].input).toEqual({ Entries: [entry] });
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException' }] });
    await expect(publisher.publish(entry)).rejects.toThrow('EventBridge rejected the event: AccessDeniedException');
  });

  it('is off when no bus is configured', () => {
    expect(eventPublisherFromEnv({})).toBeUndefined();
    expect(eventPublisherFromEnv({ LOCKOUT_EVENT_BUS: ' ' })).toBeUndefined();
  });
});
