/**
 * The outbox on Amazon's DynamoDB Local and its stream: the triggers make their one write, and what the stream
 * carries afterwards announces each lock exactly once, however many instances raced to make it and however often
 * the records are delivered. And a lock-starting decision does the same work for a known account as for an
 * unknown name: no side call, one write.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, DescribeStreamCommand } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { SIGN_IN_CASE_SENSITIVE_ENV } from '../lambdas/shared/contract';
import { type TriggerDeps, runtimeDeps } from '../lambdas/runtime/deps';
import { unknownNameIdentity, userIdentity } from '../lambdas/identity/identity';
import type { LockoutEventEntry } from '../lambdas/outbox/lockout-events';
import { settingsToEnv } from '../lambdas/policy/settings';
import { PARTITION_KEY, TTL_ATTRIBUTE } from '../lambdas/store/store';
import { type NoticeRequests, createAnnouncerHandler } from '../lambdas/handlers/announcer';
import { createPostConfirmationHandler } from '../lambdas/handlers/post-confirmation';
import { createPreAuthenticationHandler } from '../lambdas/handlers/pre-authentication';
import { type DynamoDbLocal, LOCAL_CREDENTIALS, LOCAL_REGION, createLockoutTable, startDynamoDbLocal, warmUp } from '../sandbox/dynamodb-local';
import { postConfirmationEvent, preAuthEvent, unknownUserPreAuthEvent } from '../sandbox/sample-events';
import { testDeps } from './support/deps';

const TABLE = 'outbox-test';
const JANE_SUB = '7f1c0c4e-0000-4000-8000-00000000000a';
let engine: DynamoDbLocal;
let streamArn: string;
let documents: DynamoDBDocumentClient;

beforeAll(async () => {
  engine = await startDynamoDbLocal();
  // A cold JVM answers its first requests slowly, past the decision budget: warm it as a running table would be.
  await warmUp(engine);
  streamArn = await createLockoutTable(engine.client, TABLE, PARTITION_KEY, TTL_ATTRIBUTE);
  documents = DynamoDBDocumentClient.from(engine.client);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = engine.endpoint;
}, 60_000);
afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
  await engine?.stop();
});

/** A function instance as Lambda builds it, under the shipped defaults (N = 5). */
const instance = (): TriggerDeps =>
  runtimeDeps('PreAuthentication', { LOCKOUT_TABLE_NAME: TABLE, [SIGN_IN_CASE_SENSITIVE_ENV]: 'false', ...settingsToEnv({}) });

/** Every record of the table's stream so far, as Lambda hands them to a consumer. */
async function streamRecords(): Promise<DynamoDBRecord[]> {
  const streams = new DynamoDBStreamsClient({ endpoint: engine.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    const records: DynamoDBRecord[] = [];
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    for (const shard of StreamDescription?.Shards ?? []) {
      let iterator = (
        await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))
      ).ShardIterator;
      for (let empty = 0; iterator && empty < 2;) {
        const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
        records.push(...((page.Records ?? []) as DynamoDBRecord[]));
        empty = page.Records?.length ? 0 : empty + 1;
        iterator = page.NextShardIterator;
      }
    }
    return records;
  } finally {
    streams.destroy();
  }
}

/** An announcer as Lambda builds it, writing notice requests to the table, its events recorded. */
function announcer(events: LockoutEventEntry[]) {
  const notices: NoticeRequests = {
    async request(notice) {
      try {
        await documents.send(new PutCommand({ TableName: TABLE, Item: notice, ConditionExpression: 'attribute_not_exists(pk)' }));
        return 'requested';
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return 'duplicate';
        throw error;
      }
    },
  };
  return createAnnouncerHandler({
    telemetry: testDeps().telemetry,
    events: { busName: 'default', publish: async (entry) => void events.push(entry) },
    notices,
    mode: 'enforce',
    unlockOnPasswordReset: 'temporary',
    userPoolId: 'local_pool',
    now: Date.now,
  });
}

describe('the outbox on DynamoDB Local', () => {
  it('announces each lock once, and requests one notice for a known user only, however many instances and deliveries', async () => {
    // Two function instances, 24 concurrent attempts each (12 per identity: more than N = 5 per instance), on a known
    // user and on an unknown name. Few enough that DynamoDB Local answers every write within the store budget on a
    // loaded 2-core machine (with 100 each it did not always, and each instance then decided alone, at most N each):
    // this test is about what the stream announces, the concurrency guarantees have their own suites.
    const instances = [instance(), instance()].map((deps) => createPreAuthenticationHandler(deps));
    const known = preAuthEvent('jane@example.com', { userAttributes: { sub: JANE_SUB, email: 'jane@example.com', email_verified: 'true' } });
    const unknown = unknownUserPreAuthEvent('Nobody@Example.com');
    const outcomes = await Promise.all(
      instances.flatMap((handler) =>
        Array.from({ length: 24 }, (_, i) =>
          handler(i % 2 ? known : unknown).then(
            () => 'admitted',
            () => 'refused',
          ),
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'admitted')).toHaveLength(10); // N = 5 for each of the two identities

    const records = await streamRecords();
    const events: LockoutEventEntry[] = [];
    // At least once: two announcer instances, and each delivers the whole stream twice.
    const [a, b] = [announcer(events), announcer(events)];
    for (let delivery = 0; delivery < 2; delivery++) {
      const answers = await Promise.all([a({ Records: records }), b({ Records: records })]);
      expect(answers).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    }
    const ids = new Map<string, Record<string, unknown>>();
    for (const entry of events) ids.set(JSON.parse(entry.Detail).id, JSON.parse(entry.Detail));
    expect([...ids.values()].map((d) => [d.identity, d.reason]).sort()).toEqual(
      [
        [userIdentity(JANE_SUB).logId, 'failed-attempts'],
        [unknownNameIdentity('nobody@example.com', { caseSensitive: false }).logId, 'failed-attempts'],
      ].sort(),
    );
    const { Items } = await documents.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true }));
    const notices = (Items ?? []).filter((item) => String(item.pk).startsWith('notice#'));
    expect(notices).toMatchObject([{ sub: JANE_SUB, permanent: false, resetUnlocks: true, identity: userIdentity(JANE_SUB).logId }]);
    // The lock item carries the sub the notifier needs, and nothing typed: no name, no address.
    const item = (Items ?? []).find((i) => i.pk === userIdentity(JANE_SUB).key)!;
    expect(item).toMatchObject({ sub: JANE_SUB, op: 'lock' });
    expect(JSON.stringify(Items)).not.toMatch(/jane@example\.com|nobody@example\.com/i);

    // Jane resets her password: one AccountUnlocked, however often delivered.
    const reset = createPostConfirmationHandler({
      ...runtimeDeps('PostConfirmation', { LOCKOUT_TABLE_NAME: TABLE, [SIGN_IN_CASE_SENSITIVE_ENV]: 'false' }),
    });
    await reset({ ...postConfirmationEvent(JANE_SUB), request: { userAttributes: { sub: JANE_SUB } } });
    events.length = 0;
    const after = await streamRecords();
    await a({ Records: after });
    await b({ Records: after });
    const unlocked = new Set(events.filter((e) => e.DetailType === 'AccountUnlocked').map((e) => JSON.parse(e.Detail).id));
    expect(unlocked.size).toBe(1);
    expect(events.filter((e) => e.DetailType === 'AccountUnlocked').map((e) => JSON.parse(e.Detail).reason)).toEqual([
      'password-reset',
      'password-reset',
    ]);
  }, 60_000);

  it('makes a lock-starting decision the same work for a known account and an unknown name: one write path, no side call', async () => {
    const ddb = mockClient(DynamoDBDocumentClient);
    try {
      const sent = async (event: ReturnType<typeof preAuthEvent>) => {
        ddb.reset();
        const deps = testDeps();
        const now = deps.clock.now();
        ddb.on(UpdateCommand).rejects(
          new ConditionalCheckFailedException({
            message: 'The conditional request failed',
            $metadata: {},
            Item: {
              pk: { S: 'k' },
              failures: { N: '5' },
              windowStart: { N: String(now - 1000) },
              lockedUntil: { N: '0' },
              lockouts: { N: '0' },
              rev: { N: '5' },
            },
          }),
        );
        ddb.on(PutCommand).resolves({});
        await expect(createPreAuthenticationHandler(deps)(event)).rejects.toThrow('Too many failed sign-in attempts');
        // The commands, their conditions and expressions; what differs is only which key, and the sub it records.
        return ddb.calls().map((call) => {
          const input = call.args[0].input as Record<string, unknown>;
          const item = (input.Item ?? {}) as Record<string, unknown>;
          return { command: call.args[0].constructor.name, ...input, Key: undefined, Item: { ...item, pk: undefined, sub: undefined } };
        });
      };
      const known = await sent(
        preAuthEvent('jane@example.com', { userAttributes: { sub: JANE_SUB, email: 'jane@example.com', email_verified: 'true' } }),
      );
      const unknown = await sent(unknownUserPreAuthEvent('nobody@example.com'));
      expect(known.map((c) => c.command)).toEqual(['UpdateCommand', 'PutCommand']);
      expect(unknown).toEqual(known);
    } finally {
      ddb.restore();
    }
  });
});
