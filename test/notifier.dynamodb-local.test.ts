/**
 * The notifier against Amazon's DynamoDB Local: real conditional writes under real concurrency, with stand-ins for
 * the user pool (ListUsers) and SES (SendEmail) on the SDK clients it ships with. Notice requests are written to
 * the table as the announcer writes them, and delivered as Lambda's event source mapping delivers them: records
 * built from the item, or read from the table's own stream.
 */
import { createHash } from 'node:crypto';
import { CognitoIdentityProviderClient, ListUsersCommand, type ListUsersCommandInput } from '@aws-sdk/client-cognito-identity-provider';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamsRecord,
} from '@aws-sdk/client-dynamodb-streams';
import {
  MailFromDomainNotVerifiedException,
  SESv2Client,
  SendEmailCommand,
  type SendEmailCommandInput,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { type DynamoDbLocal, LOCAL_CREDENTIALS, LOCAL_REGION, createLockoutTable, startDynamoDbLocal } from '../sandbox/dynamodb-local';
import { PARTITION_KEY, TTL_ATTRIBUTE } from '../lambdas/shared/contract';
import { NoticeLedger, hourKey, recipientKey } from '../lambdas/outbox/notice-ledger';
import { sesSender } from '../lambdas/outbox/notice-mail';
import { cognitoDirectory } from '../lambdas/outbox/notice-recipient';
import { DEFAULT_NOTICE_SUBJECT } from '../lambdas/outbox/notice-text';
import { NOTICE_RECORD_SECONDS, NOTIFIER_FILTERS, type NoticeRequest, announcementId, noticeKey } from '../lambdas/outbox/outbox';
import { PERMANENT_LOCK_UNTIL } from '../lambdas/policy/policy';
import { type NotifierDeps, createNotifierHandler } from '../lambdas/handlers/notify-user';
import { FakeClock } from './support/deps';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const POOL = 'us-east-1_Local1234';

/** Subs of the pool's users: 0-99 have a verified address; then one unverified, one without an address. */
const subOf = (i: number) => `f0000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const addressOf = (i: number) => `user-${i}@example.com`;
const UNVERIFIED = subOf(900);
const NO_ADDRESS = subOf(901);
const UNKNOWN = subOf(999);
const POOL_USERS = new Map<string, Array<{ Name: string; Value: string }>>([
  ...Array.from({ length: 100 }, (_, i): [string, Array<{ Name: string; Value: string }>] => [
    subOf(i),
    [
      { Name: 'email', Value: addressOf(i) },
      { Name: 'email_verified', Value: 'true' },
    ],
  ]),
  [
    UNVERIFIED,
    [
      { Name: 'email', Value: 'unverified@example.com' },
      { Name: 'email_verified', Value: 'false' },
    ],
  ],
  [NO_ADDRESS, [{ Name: 'phone_number', Value: '+15550100' }]],
]);

let engine: DynamoDbLocal;
let documents: DynamoDBDocumentClient;
let streams: DynamoDBStreamsClient;
let tableCount = 0;
let sequence = 0;

beforeAll(async () => {
  engine = await startDynamoDbLocal();
  documents = DynamoDBDocumentClient.from(engine.client);
  streams = new DynamoDBStreamsClient({ endpoint: engine.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
});
afterAll(async () => {
  streams?.destroy();
  await engine?.stop();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fresh table, the notifier wired to it with the shipped defaults unless a test names a setting, stub pool and SES. */
async function fixture(config: Partial<Pick<NotifierDeps['config'], 'recipientPeriodSeconds' | 'maxPerHour'>> = {}, tableName?: string) {
  const table = `notices-${++tableCount}`;
  const streamArn = await createLockoutTable(engine.client, table, PARTITION_KEY, TTL_ATTRIBUTE);
  const clock = FakeClock.onTheHour();

  const cognitoClient = new CognitoIdentityProviderClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const cognito = mockClient(cognitoClient);
  cognito.on(ListUsersCommand).callsFake(async (input: ListUsersCommandInput) => {
    expect(input.UserPoolId).toBe(POOL);
    const sub = /^sub = "([^"\\]*)"$/.exec(input.Filter ?? '')?.[1];
    const attributes = sub === undefined ? undefined : POOL_USERS.get(sub);
    return { Users: attributes === undefined ? [] : [{ Username: `user-${sub}`, Attributes: attributes }] };
  });
  const sesClient = new SESv2Client({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const ses = mockClient(sesClient);
  // SES takes a moment, so that concurrent deliveries overlap while one of them sends.
  ses.on(SendEmailCommand).callsFake(async () => {
    await pause(10);
    return { MessageId: 'message' };
  });

  const metricNames: string[] = [];
  const metrics = new Metrics({ namespace: 'Test' });
  jest.spyOn(metrics, 'addMetric').mockImplementation((name) => {
    metricNames.push(name);
    return metrics;
  });
  const deps: NotifierDeps = {
    config: { from: 'security@example.com', words: { subject: DEFAULT_NOTICE_SUBJECT }, recipientPeriodSeconds: 86_400, maxPerHour: 500, ...config },
    ledger: new NoticeLedger(documents, tableName ?? table),
    directory: cognitoDirectory(cognitoClient, POOL),
    sender: sesSender(sesClient),
    telemetry: { logger: new Logger({ logLevel: 'SILENT' }), metrics },
    now: clock.now,
  };
  const item = async (key: string) =>
    (await documents.send(new GetCommand({ TableName: table, Key: { [PARTITION_KEY]: key }, ConsistentRead: true }))).Item;
  return {
    table,
    streamArn,
    clock,
    ses,
    cognito,
    deps,
    handler: createNotifierHandler(deps),
    metricNames,
    count: (name: string) => metricNames.filter((m) => m === name).length,
    /** Addresses SES was asked to send to, in order. */
    sentTo: () => ses.commandCalls(SendEmailCommand).map((call) => call.args[0].input.Destination?.ToAddresses?.[0]),
    item,
    stateOf: async (request: NoticeRequest) => (await item(request.pk))?.state,
    /** The announcer's write: one notice request per lock, conditionally. Returns it and its stream record. */
    async requestNotice(sub: string, lock: { lockedUntil?: number; permanent?: boolean; resetUnlocks?: boolean } = {}) {
      const now = clock.now();
      const lockedUntil = lock.permanent ? PERMANENT_LOCK_UNTIL : (lock.lockedUntil ?? now + 15 * MINUTE);
      const identity = createHash('sha256').update(`signin#${sub}`).digest('hex').slice(0, 16);
      const request: NoticeRequest = {
        pk: noticeKey(announcementId(`signin#${identity}`, 'locked', lockedUntil)),
        sub,
        lockedUntil,
        permanent: lockedUntil >= PERMANENT_LOCK_UNTIL,
        resetUnlocks: lock.resetUnlocks ?? !lock.permanent,
        identity,
        requestedAt: now,
        expiresAt: Math.ceil(now / 1000) + NOTICE_RECORD_SECONDS,
      };
      await documents.send(new PutCommand({ TableName: table, Item: request, ConditionExpression: 'attribute_not_exists(pk)' }));
      return { request, record: insertRecord(request) };
    },
  };
}

/** The stream record of an item's INSERT, as Lambda delivers it. */
function insertRecord(image: object, key = (image as { pk: string }).pk): DynamoDBRecord {
  const n = ++sequence;
  return {
    eventID: `event-${n}`,
    eventName: 'INSERT',
    eventSource: 'aws:dynamodb',
    awsRegion: LOCAL_REGION,
    dynamodb: {
      Keys: { pk: { S: key } },
      NewImage: marshall(image, { removeUndefinedValues: true }) as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'],
      SequenceNumber: String(100_000_000 + n),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

/** Every record of the table's stream from its start, as Lambda's event source mapping would hand them over. */
async function readStream(streamArn: string): Promise<DynamoDBRecord[]> {
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  const records: DynamoDBRecord[] = [];
  for (const shard of StreamDescription?.Shards ?? []) {
    let iterator = (
      await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))
    ).ShardIterator;
    while (iterator !== undefined) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      records.push(...(page.Records ?? []).map(lambdaRecord));
      if ((page.Records ?? []).length === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return records;
}

function lambdaRecord(record: StreamsRecord): DynamoDBRecord {
  const { dynamodb } = record;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventSource: record.eventSource,
    awsRegion: record.awsRegion,
    userIdentity: record.userIdentity,
    dynamodb: {
      Keys: dynamodb?.Keys,
      NewImage: dynamodb?.NewImage,
      OldImage: dynamodb?.OldImage,
      SequenceNumber: dynamodb?.SequenceNumber,
      SizeBytes: dynamodb?.SizeBytes,
      StreamViewType: dynamodb?.StreamViewType,
    } as DynamoDBRecord['dynamodb'],
  };
}

/** Lambda's filter criteria, the subset the outbox's patterns use: value lists, `prefix`, `exists`, `anything-but`. */
function matchesFilter(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) {
    return pattern.some((rule: unknown) => {
      if (typeof rule !== 'object' || rule === null) return rule === value;
      const r = rule as { prefix?: string; exists?: boolean; 'anything-but'?: unknown[] };
      if (r.prefix !== undefined) return typeof value === 'string' && value.startsWith(r.prefix);
      if (r.exists !== undefined) return (value !== undefined) === r.exists;
      if (r['anything-but'] !== undefined) return value !== undefined && !r['anything-but'].includes(value);
      throw new Error(`unsupported filter rule ${JSON.stringify(rule)}`);
    });
  }
  if (typeof pattern === 'object' && pattern !== null) {
    return Object.entries(pattern).every(([name, inner]) => matchesFilter(inner, (value as Record<string, unknown> | undefined)?.[name]));
  }
  throw new Error(`unsupported filter pattern ${JSON.stringify(pattern)}`);
}
const forNotifier = (records: DynamoDBRecord[]) => records.filter((record) => NOTIFIER_FILTERS.some((pattern) => matchesFilter(pattern, record)));

const noFailures = { batchItemFailures: [] };

describe('the notifier on DynamoDB Local', () => {
  it('sends one notice for a lock however often, and however concurrently, its record is delivered', async () => {
    const f = await fixture();
    const { request, record } = await f.requestNotice(subOf(1));
    // Five deliveries at once (as many instances), then five more one after another (retries, replays).
    const concurrent = await Promise.all(Array.from({ length: 5 }, () => f.handler({ Records: [record] })));
    const sequential = [];
    for (let i = 0; i < 5; i++) sequential.push(await f.handler({ Records: [record] }));
    expect([...concurrent, ...sequential]).toEqual(Array(10).fill(noFailures));
    expect(f.sentTo()).toEqual([addressOf(1)]);
    expect(f.count('NoticesSent')).toBe(1);
    expect(await f.item(request.pk)).toMatchObject({ state: 'sent', claims: 1 });
    expect(await f.item(hourKey(f.clock.now()))).toMatchObject({ sent: 1 });
  });

  it('sends the text the lock calls for', async () => {
    const f = await fixture();
    const temporary = await f.requestNotice(subOf(1), { lockedUntil: Date.UTC(2030, 0, 2, 3, 4, 5), resetUnlocks: false });
    const permanent = await f.requestNotice(subOf(2), { permanent: true, resetUnlocks: false });
    await f.handler({ Records: [temporary.record, permanent.record] });
    const texts = f.ses.commandCalls(SendEmailCommand).map((call) => call.args[0].input.Content?.Simple?.Body?.Text?.Data);
    expect(texts[0]).toContain('It stays locked until Wed, 02 Jan 2030 03:04:05 GMT.');
    expect(texts[1]).toContain('Contact support to unlock it.');
    for (const text of texts) expect(text).not.toContain('Resetting your password');
  });

  it('sends nothing for an unknown sub, an unverified address or none, and reserves nothing for them', async () => {
    const f = await fixture();
    const requests = await Promise.all([UNKNOWN, UNVERIFIED, NO_ADDRESS].map((sub) => f.requestNotice(sub)));
    await expect(f.handler({ Records: requests.map((r) => r.record) })).resolves.toEqual(noFailures);
    expect(f.sentTo()).toEqual([]);
    expect(f.count('NoticesSkipped')).toBe(3);
    for (const { request } of requests) {
      expect(await f.stateOf(request)).toBe('skipped');
      expect(await f.item(recipientKey(request.sub))).toBeUndefined();
    }
    expect(await f.item(hourKey(f.clock.now()))).toBeUndefined();
  });

  it('sends one notice per recipient per period, however many locks, and the next after the period', async () => {
    const f = await fixture();
    const now = f.clock.now();
    const first = await f.requestNotice(subOf(7), { lockedUntil: now + 15 * MINUTE });
    const second = await f.requestNotice(subOf(7), { lockedUntil: now + 30 * MINUTE });
    // Two locks of one user at once, each record delivered twice.
    await Promise.all([first, second, first, second].map(({ record }) => f.handler({ Records: [record] })));
    expect(f.sentTo()).toEqual([addressOf(7)]);
    expect(f.count('NoticesSuppressed')).toBe(1);
    expect([await f.stateOf(first.request), await f.stateOf(second.request)].sort()).toEqual(['sent', 'suppressed']);
    // The suppressed notice took none of the hour's cap.
    expect(await f.item(hourKey(now))).toMatchObject({ sent: 1 });

    f.clock.advance(DAY - MINUTE);
    await f.handler({ Records: [(await f.requestNotice(subOf(7), { lockedUntil: f.clock.now() + HOUR })).record] });
    expect(f.sentTo()).toHaveLength(1);
    f.clock.advance(MINUTE);
    await f.handler({ Records: [(await f.requestNotice(subOf(7), { lockedUntil: f.clock.now() + HOUR })).record] });
    expect(f.sentTo()).toEqual([addressOf(7), addressOf(7)]);
    expect(await f.item(recipientKey(subOf(7)))).toMatchObject({
      lastSentAt: f.clock.now(),
      [TTL_ATTRIBUTE]: Math.ceil(f.clock.now() / 1000) + 86_400,
    });
  });

  it('honours a configured recipient period', async () => {
    const f = await fixture({ recipientPeriodSeconds: 3600 });
    await f.handler({ Records: [(await f.requestNotice(subOf(3), { lockedUntil: f.clock.now() + MINUTE })).record] });
    f.clock.advance(HOUR);
    await f.handler({ Records: [(await f.requestNotice(subOf(3), { lockedUntil: f.clock.now() + MINUTE })).record] });
    expect(f.sentTo()).toEqual([addressOf(3), addressOf(3)]);
  });

  it('holds the hourly cap under a storm of 50 locks of 50 users delivered at once, and counts each capped notice', async () => {
    const f = await fixture({ maxPerHour: 10 });
    const requests = await Promise.all(Array.from({ length: 50 }, (_, i) => f.requestNotice(subOf(i))));
    // Each record in its own invocation, all at once, and every one delivered twice.
    const results = await Promise.all([...requests, ...requests].map(({ record }) => f.handler({ Records: [record] })));
    expect(results).toEqual(Array(100).fill(noFailures));
    expect(f.sentTo()).toHaveLength(10);
    expect(new Set(f.sentTo()).size).toBe(10);
    expect(f.count('NoticesSent')).toBe(10);
    expect(f.count('NoticesCapped')).toBe(40);
    expect(await f.item(hourKey(f.clock.now()))).toMatchObject({ sent: 10 });
    const states = await Promise.all(requests.map(({ request }) => f.stateOf(request)));
    expect(states.filter((s) => s === 'sent')).toHaveLength(10);
    expect(states.filter((s) => s === 'capped')).toHaveLength(40);

    // A capped notice gave its recipient's slot back: that user's next lock, in the next hour, is told.
    const cappedIndex = states.indexOf('capped');
    expect((await f.item(recipientKey(subOf(cappedIndex))))?.lastSentAt).toBeUndefined();
    f.clock.advance(HOUR);
    await f.handler({ Records: [(await f.requestNotice(subOf(cappedIndex))).record] });
    expect(f.sentTo()).toHaveLength(11);
    expect(f.sentTo()[10]).toBe(addressOf(cappedIndex));
  });

  it('hands a notice SES throttled back for retry, gives its reservations back, and sends it once when delivered again', async () => {
    const f = await fixture();
    f.ses
      .on(SendEmailCommand)
      .rejectsOnce(new TooManyRequestsException({ message: 'Maximum sending rate exceeded.', $metadata: { httpStatusCode: 429 } }))
      .resolves({ MessageId: 'message' });
    const { request, record } = await f.requestNotice(subOf(4));
    await expect(f.handler({ Records: [record] })).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: record.dynamodb!.SequenceNumber }] });
    expect(f.count('NoticeErrors')).toBe(1);
    expect(await f.stateOf(request)).toBe('retry');
    expect((await f.item(recipientKey(subOf(4))))?.lastSentAt).toBeUndefined();
    expect(await f.item(hourKey(f.clock.now()))).toMatchObject({ sent: 0 });

    // The stream delivers it again (later, and more than once): one more request to SES, accepted; then nothing.
    f.clock.advance(MINUTE);
    await expect(Promise.all([f.handler({ Records: [record] }), f.handler({ Records: [record] })])).resolves.toEqual([noFailures, noFailures]);
    await expect(f.handler({ Records: [record] })).resolves.toEqual(noFailures);
    expect(f.ses.commandCalls(SendEmailCommand)).toHaveLength(2);
    expect(f.count('NoticesSent')).toBe(1);
    expect(await f.item(request.pk)).toMatchObject({ state: 'sent', claims: 2 });
    expect(await f.item(hourKey(f.clock.now()))).toMatchObject({ sent: 1 });
  });

  it('gives a restored recipient slot its previous time back, so an earlier notice still counts', async () => {
    const f = await fixture();
    await f.handler({ Records: [(await f.requestNotice(subOf(5))).record] });
    const before = await f.item(recipientKey(subOf(5)));
    f.clock.advance(DAY + MINUTE);
    f.ses.on(SendEmailCommand).rejects(new TooManyRequestsException({ message: 'slow down', $metadata: { httpStatusCode: 429 } }));
    const { record } = await f.requestNotice(subOf(5));
    expect((await f.handler({ Records: [record] })).batchItemFailures).toHaveLength(1);
    expect(await f.item(recipientKey(subOf(5)))).toMatchObject({ lastSentAt: before?.lastSentAt, [TTL_ATTRIBUTE]: before?.[TTL_ATTRIBUTE] });
    expect((await f.item(recipientKey(subOf(5))))?.holder).toBeUndefined();
  });

  it('reports only the records to retry, in order, and handles the others', async () => {
    const f = await fixture();
    const refused = new TooManyRequestsException({ message: 'slow down', $metadata: { httpStatusCode: 429 } });
    const requests = await Promise.all([10, 11, 12, 13].map((i) => f.requestNotice(subOf(i))));
    f.ses.on(SendEmailCommand).callsFake(async (input: SendEmailCommandInput) => {
      const to = input.Destination?.ToAddresses?.[0];
      if (to === addressOf(11) || to === addressOf(13)) throw refused;
      return { MessageId: 'message' };
    });
    const result = await f.handler({ Records: requests.map((r) => r.record) });
    expect(result.batchItemFailures).toEqual([requests[1], requests[3]].map((r) => ({ itemIdentifier: r.record.dynamodb!.SequenceNumber })));
    expect(await Promise.all(requests.map((r) => f.stateOf(r.request)))).toEqual(['sent', 'retry', 'sent', 'retry']);
  });

  it('marks a notice SES refused for good as failed, gives its reservations back, and never asks SES again for it', async () => {
    const f = await fixture();
    f.ses
      .on(SendEmailCommand)
      .rejects(new MailFromDomainNotVerifiedException({ message: 'MAIL FROM domain not verified', $metadata: { httpStatusCode: 400 } }));
    const { request, record } = await f.requestNotice(subOf(7));
    await expect(f.handler({ Records: [record] })).resolves.toEqual(noFailures);
    expect(await f.stateOf(request)).toBe('failed');
    expect(f.count('NoticeErrors')).toBe(1);
    // Nothing was sent: the recipient's next lock is still told, and the hour's cap is untouched.
    expect((await f.item(recipientKey(subOf(7))))?.lastSentAt).toBeUndefined();
    expect(await f.item(hourKey(f.clock.now()))).toMatchObject({ sent: 0 });

    // A redelivery of the same record (Lambda's retry, a duplicate) finds it settled and sends nothing.
    f.ses.on(SendEmailCommand).resolves({ MessageId: 'message' });
    await expect(f.handler({ Records: [record] })).resolves.toEqual(noFailures);
    expect(f.ses.commandCalls(SendEmailCommand)).toHaveLength(1);
  });

  it('never delivers again a notice whose send timed out: the email may have gone', async () => {
    const f = await fixture();
    const timeout = Object.assign(new Error('Connection timed out after 5000 ms'), { name: 'TimeoutError', $metadata: {} });
    f.ses.on(SendEmailCommand).rejects(timeout);
    const { request, record } = await f.requestNotice(subOf(6));
    await expect(f.handler({ Records: [record] })).resolves.toEqual(noFailures);
    expect(await f.stateOf(request)).toBe('failed');
    expect(f.count('NoticeErrors')).toBe(1);
    // The recipient counts as notified: a later lock within the period is not told either.
    expect((await f.item(recipientKey(subOf(6))))?.lastSentAt).toBe(f.clock.now());

    f.ses.on(SendEmailCommand).resolves({ MessageId: 'message' });
    await Promise.all([f.handler({ Records: [record] }), f.handler({ Records: [record] })]);
    expect(f.ses.commandCalls(SendEmailCommand)).toHaveLength(1);
  });

  it('lets a poison record pass without blocking the batch', async () => {
    const f = await fixture();
    const a = await f.requestNotice(subOf(20));
    const b = await f.requestNotice(subOf(21));
    const poison = insertRecord({ pk: noticeKey('deadbeefdeadbeefdeadbeefdeadbeef'), sub: 'not a sub"', identity: 'cafe0123cafe0123' });
    const unreadable = insertRecord({ ...b.request, pk: noticeKey('0123012301230123') });
    unreadable.dynamodb!.NewImage = { ...unreadable.dynamodb!.NewImage, lockedUntil: { X: '1' } as never };
    const result = await f.handler({ Records: [a.record, poison, unreadable, b.record] });
    expect(result).toEqual(noFailures);
    expect(f.sentTo()).toEqual([addressOf(20), addressOf(21)]);
    expect(f.count('StreamRecordsInvalid')).toBe(2);
    expect(f.cognito.commandCalls(ListUsersCommand)).toHaveLength(2);
  });

  it('delays a notice while the table cannot be written, and sends it once the table answers', async () => {
    const working = await fixture();
    const { request, record } = await working.requestNotice(subOf(30));
    const broken = createNotifierHandler({ ...working.deps, ledger: new NoticeLedger(documents, 'no-such-table') });
    await expect(broken({ Records: [record] })).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: record.dynamodb!.SequenceNumber }] });
    expect(working.sentTo()).toEqual([]);
    expect(working.count('NoticeErrors')).toBe(1);
    expect(await working.stateOf(request)).toBeUndefined();
    await expect(working.handler({ Records: [record] })).resolves.toEqual(noFailures);
    expect(working.sentTo()).toEqual([addressOf(30)]);
  });

  it('reads its requests from the table stream through its filter, and its own writes never reach it', async () => {
    const f = await fixture({ maxPerHour: 1 });
    // An ordinary attempt, a lock, two notice requests, and an announcer's duplicate write that its condition refuses.
    await documents.send(new PutCommand({ TableName: f.table, Item: { pk: 'signin#0123456789abcdef', op: 'count', failures: 1 } }));
    await documents.send(
      new UpdateCommand({
        TableName: f.table,
        Key: { pk: 'signin#0123456789abcdef' },
        UpdateExpression: 'SET op = :lock, lockedUntil = :until',
        ExpressionAttributeValues: { ':lock': 'lock', ':until': f.clock.now() + 15 * MINUTE },
      }),
    );
    const first = await f.requestNotice(subOf(40));
    const second = await f.requestNotice(subOf(41));
    await expect(
      documents.send(new PutCommand({ TableName: f.table, Item: first.request, ConditionExpression: 'attribute_not_exists(pk)' })),
    ).rejects.toThrow(/conditional request failed/i);

    const delivered = forNotifier(await readStream(f.streamArn));
    expect(delivered.map((r) => r.dynamodb?.Keys?.pk?.S)).toEqual([first.request.pk, second.request.pk]);
    await expect(f.handler({ Records: delivered })).resolves.toEqual(noFailures);
    expect(f.sentTo()).toEqual([addressOf(40)]);
    expect(await f.stateOf(second.request)).toBe('capped');

    // The notifier's writes (claims, outcomes, recipient and hour records) are on the stream, and none passes the filter.
    const all = await readStream(f.streamArn);
    expect(all.length).toBeGreaterThan(6);
    expect(forNotifier(all).map((r) => r.eventID)).toEqual(delivered.map((r) => r.eventID));
    expect(all.some((r) => r.dynamodb?.Keys?.pk?.S === recipientKey(subOf(40)))).toBe(true);
  });
});
