/**
 * The sandbox's event source mapping on DynamoDB Local's real stream: the records the outbox's filters let through,
 * in the shape Lambda delivers (TTL deletions included), a poison record that goes to the failure destination
 * without holding up the shard, and a restart that resumes from the kept checkpoint.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreateTableCommand, DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { ANNOUNCER_FILTERS } from '../lambdas/outbox/outbox';
import {
  type DynamoDbLocal,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  createLockoutTable,
  enableLockoutStream,
  startDynamoDbLocal,
} from '../sandbox/dynamodb-local';
import {
  type Checkpoints,
  FileCheckpoints,
  FunctionError,
  type MappingSettings,
  type OnFailureRecord,
  StreamPoller,
  dynamoDbStreamSource,
} from '../sandbox/stream-poller';

let engine: DynamoDbLocal;
let streams: DynamoDBStreamsClient;
let tables = 0;

beforeAll(async () => {
  engine = await startDynamoDbLocal();
  streams = new DynamoDBStreamsClient({ endpoint: engine.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}, 60_000);
afterAll(async () => {
  streams?.destroy();
  await engine?.stop();
});

const pollers: StreamPoller[] = [];
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
});

/** The construct's mapping for the announcer, as the template has it. */
const MAPPING: MappingSettings = {
  batchSize: 10,
  startingPosition: 'LATEST',
  maximumRetryAttempts: 2,
  maximumRecordAgeInSeconds: 86_400,
  bisectBatchOnFunctionError: true,
  reportBatchItemFailures: true,
  filters: ANNOUNCER_FILTERS as never,
};

async function table(): Promise<{ name: string; streamArn: string }> {
  const name = `stream-${++tables}`;
  return { name, streamArn: await createLockoutTable(engine.client, name, 'pk', 'expiresAt') };
}

function poll(streamArn: string, handler: (records: DynamoDBRecord[]) => Promise<unknown>, checkpoints?: Checkpoints) {
  const delivered: DynamoDBRecord[] = [];
  const failures: OnFailureRecord[] = [];
  const poller = new StreamPoller({
    functionName: 'Announcer',
    streamArn,
    source: dynamoDbStreamSource(streams),
    mapping: MAPPING,
    invoke: async (event) => {
      const result = await handler(event.Records);
      delivered.push(...event.Records);
      return result;
    },
    onFailure: (record) => {
      failures.push(record);
    },
    checkpoints,
    pollIntervalMs: 50,
    retryDelayMs: () => 10,
  });
  pollers.push(poller);
  return { poller, delivered, failures };
}

const ok = async () => ({ batchItemFailures: [] });
const put = (name: string, item: Record<string, string | number>) =>
  engine.client.send(
    new PutItemCommand({
      TableName: name,
      Item: Object.fromEntries(Object.entries(item).map(([k, v]) => [k, typeof v === 'number' ? { N: String(v) } : { S: v }])),
    }),
  );
const keyOf = (r: DynamoDBRecord) => r.dynamodb?.Keys?.pk?.S;

/** DynamoDB Local deletes an expired item within a few seconds of its expiry. */
async function untilDeletedByTtl(name: string, key: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { Item } = await engine.client.send(new GetItemCommand({ TableName: name, Key: { pk: { S: key } }, ConsistentRead: true }));
    if (Item === undefined) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${key} was not deleted by TTL within 20 s`);
}

it('delivers lock starts and streak ends as Lambda would, never an ordinary attempt or a TTL deletion', async () => {
  const { name, streamArn } = await table();
  const { poller, delivered } = poll(streamArn, ok);
  await poller.start();
  await put(name, { pk: 'signin#a', op: 'count', failures: 1 });
  await engine.client.send(
    new UpdateItemCommand({
      TableName: name,
      Key: { pk: { S: 'signin#a' } },
      UpdateExpression: 'SET op = :op, lockouts = :one, lockedUntil = :until',
      ExpressionAttributeValues: { ':op': { S: 'lock' }, ':one': { N: '1' }, ':until': { N: String(Date.now() + 60_000) } },
    }),
  );
  await engine.client.send(new DeleteItemCommand({ TableName: name, Key: { pk: { S: 'signin#a' } } }));
  // An expired item with a streak: DynamoDB Local deletes it by TTL, which is clean-up, not news.
  await put(name, { pk: 'signin#ttl', op: 'count', lockouts: 2, expiresAt: Math.floor(Date.now() / 1000) - 60 });
  await untilDeletedByTtl(name, 'signin#ttl');
  await poller.drained();

  expect(delivered.map((r) => [r.eventName, keyOf(r)])).toEqual([
    ['MODIFY', 'signin#a'],
    ['REMOVE', 'signin#a'],
  ]);
  const [lock, removal] = delivered;
  expect(Object.keys(lock).sort()).toEqual(['awsRegion', 'dynamodb', 'eventID', 'eventName', 'eventSource', 'eventSourceARN', 'eventVersion']);
  expect(lock).toMatchObject({ eventSource: 'aws:dynamodb', eventVersion: '1.1', eventSourceARN: streamArn });
  expect(lock.dynamodb).toMatchObject({
    Keys: { pk: { S: 'signin#a' } },
    NewImage: { op: { S: 'lock' }, lockouts: { N: '1' } },
    OldImage: { op: { S: 'count' }, failures: { N: '1' } },
    SequenceNumber: expect.stringMatching(/^\d+$/),
    SizeBytes: expect.any(Number),
    StreamViewType: 'NEW_AND_OLD_IMAGES',
  });
  expect(Math.abs(lock.dynamodb!.ApproximateCreationDateTime! - Date.now() / 1000)).toBeLessThan(120);
  expect(removal.dynamodb?.NewImage).toBeUndefined();
  expect(removal.userIdentity).toBeUndefined();
}, 30_000);

it('gives a TTL deletion the REMOVE shape DynamoDB gives it (the DynamoDB service as the user identity)', async () => {
  const { name, streamArn } = await table();
  const mapping = { ...MAPPING, filters: [{ eventName: ['REMOVE'] }] };
  const delivered: DynamoDBRecord[] = [];
  const poller = new StreamPoller({
    functionName: 'Everything',
    streamArn,
    source: dynamoDbStreamSource(streams),
    mapping,
    invoke: async (event) => {
      delivered.push(...event.Records);
      return null;
    },
    onFailure: () => undefined,
    pollIntervalMs: 50,
  });
  pollers.push(poller);
  await poller.start();
  await put(name, { pk: 'signin#ttl', lockouts: 2, expiresAt: Math.floor(Date.now() / 1000) - 60 });
  await untilDeletedByTtl(name, 'signin#ttl');
  await poller.drained();
  expect(delivered).toHaveLength(1);
  expect(delivered[0]).toMatchObject({
    eventName: 'REMOVE',
    userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' },
    dynamodb: { OldImage: { lockouts: { N: '2' } } },
  });
}, 30_000);

it('sends a poison record to the failure destination and delivers the rest of the shard', async () => {
  const { name, streamArn } = await table();
  const { poller, delivered, failures } = poll(streamArn, async (records) => {
    if (records.some((r) => keyOf(r) === 'signin#poison')) throw new FunctionError('cannot handle this record');
    return { batchItemFailures: [] };
  });
  await poller.start();
  const keys = Array.from({ length: 7 }, (_, i) => (i === 3 ? 'signin#poison' : `signin#${i}`));
  for (const key of keys) await put(name, { pk: key, op: 'lock', lockedUntil: Date.now() + 60_000 });
  for (let i = 0; i < 200 && failures.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
  await poller.drained();
  await put(name, { pk: 'signin#after', op: 'lock', lockedUntil: Date.now() + 60_000 });
  await poller.drained();

  expect(failures).toHaveLength(1);
  expect(failures[0]).toMatchObject({
    requestContext: { condition: 'RetryAttemptsExhausted', functionArn: 'Announcer' },
    responseContext: { functionError: 'Unhandled' },
    DDBStreamBatchInfo: { batchSize: 1, streamArn },
  });
  expect(failures[0].DDBStreamBatchInfo.startSequenceNumber).toBe(failures[0].DDBStreamBatchInfo.endSequenceNumber);
  expect(new Set(delivered.map(keyOf))).toEqual(new Set([...keys.filter((k) => k !== 'signin#poison'), 'signin#after']));
}, 30_000);

it('resumes from its kept checkpoint after a restart: nothing delivered twice, nothing written meanwhile lost', async () => {
  const { name, streamArn } = await table();
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'checkpoints-')), 'stream-checkpoints.json');
  const first = poll(streamArn, ok, new FileCheckpoints(file, 'AnnouncerMapping', streamArn));
  await first.poller.start();
  await put(name, { pk: 'signin#1', op: 'lock', lockedUntil: 1 });
  for (let i = 0; i < 100 && first.delivered.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
  await first.poller.stop();
  // Written while no mapping reads: LATEST would skip it, the checkpoint does not.
  await put(name, { pk: 'signin#2', op: 'lock', lockedUntil: 1 });

  const second = poll(streamArn, ok, new FileCheckpoints(file, 'AnnouncerMapping', streamArn));
  await second.poller.start();
  await second.poller.drained();
  expect(first.delivered.map(keyOf)).toEqual(['signin#1']);
  expect(second.delivered.map(keyOf)).toEqual(['signin#2']);
  expect(JSON.parse(readFileSync(file, 'utf8')).AnnouncerMapping.streamArn).toBe(streamArn);
}, 30_000);

it('turns the stream on for a table kept from before it had one, and finds it on a table that has it', async () => {
  const { name, streamArn } = await table();
  expect(await enableLockoutStream(engine.client, name)).toBe(streamArn);
  await engine.client.send(
    new CreateTableCommand({
      TableName: 'no-stream',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const enabled = await enableLockoutStream(engine.client, 'no-stream');
  expect(enabled).toMatch(/table\/no-stream\/stream\//);
  expect(await enableLockoutStream(engine.client, 'no-stream')).toBe(enabled);
});
