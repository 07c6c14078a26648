/**
 * The sandbox's event source mapping (sandbox/stream-poller.ts) against an in-memory stream: the filter pattern
 * subset the outbox's filters use, the record shape, batching, partial batch responses, bisection, retries, the
 * failure destination, shard lineage and checkpoints. The same poller on DynamoDB Local's real stream is
 * test/local-stream.test.ts.
 */
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { ANNOUNCER_FILTERS, NOTIFIER_FILTERS } from '../lambdas/outbox/outbox';
import {
  type Checkpoints,
  FunctionError,
  MemoryCheckpoints,
  type MappingSettings,
  type OnFailureRecord,
  type ShardInfo,
  type ShardPosition,
  type StreamPage,
  StreamPoller,
  type StreamSource,
  TTL_USER_IDENTITY,
  UnsupportedPatternError,
  checkPattern,
  lambdaRecord,
  matchesFilters,
  matchesPattern,
} from '../sandbox/stream-poller';

const STREAM = 'arn:aws:dynamodb:ddblocal:000000000000:table/lockout/stream/2026-01-01T00:00:00.000';
let sequence = 0;

type Image = Record<string, { S: string } | { N: string }>;

/** A record as Lambda delivers it. */
function record(
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  key: string,
  images: { newImage?: Image; oldImage?: Image } = {},
  ttl = false,
): DynamoDBRecord {
  const seq = String(++sequence).padStart(21, '0');
  return {
    eventID: `event-${seq}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'ddblocal',
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
      Keys: { pk: { S: key } },
      ...(images.newImage ? { NewImage: { pk: { S: key }, ...images.newImage } } : {}),
      ...(images.oldImage ? { OldImage: { pk: { S: key }, ...images.oldImage } } : {}),
      SequenceNumber: seq,
      SizeBytes: 40,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
    eventSourceARN: STREAM,
    ...(ttl ? { userIdentity: { ...TTL_USER_IDENTITY } } : {}),
  };
}

const write = (op: string, key = 'signin#a') => record('MODIFY', key, { newImage: { op: { S: op } }, oldImage: { op: { S: 'count' } } });
const seqOf = (r: DynamoDBRecord) => r.dynamodb!.SequenceNumber!;

describe('filter patterns', () => {
  const insertCount = record('INSERT', 'signin#a', { newImage: { op: { S: 'count' }, failures: { N: '1' } } });
  const modifyCount = record('MODIFY', 'signin#a', { newImage: { op: { S: 'count' } }, oldImage: { op: { S: 'count' } } });

  it('an ordinary attempt (op count) matches no ANNOUNCER_FILTERS pattern, so it invokes nothing', () => {
    expect(matchesFilters(ANNOUNCER_FILTERS as never, insertCount)).toBe(false);
    expect(matchesFilters(ANNOUNCER_FILTERS as never, modifyCount)).toBe(false);
    expect(matchesFilters(ANNOUNCER_FILTERS as never, record('INSERT', 'signup-email#b', { newImage: { failures: { N: '1' } } }))).toBe(false);
  });

  it.each(['lock', 'reset', 'operator-lock', 'operator-unlock', 'uncounted'])('a write with op %s matches the announcer', (op) => {
    expect(matchesFilters(ANNOUNCER_FILTERS as never, write(op))).toBe(true);
    expect(matchesFilters(ANNOUNCER_FILTERS as never, record('INSERT', 'signin#a', { newImage: { op: { S: op } } }))).toBe(true);
  });

  it('a successful sign-in matches only when it ends a lockout streak: ordinary sign-ins invoke nothing', () => {
    const success = (lockouts: string | undefined) =>
      record('MODIFY', 'signin#a', { newImage: { op: { S: 'success' } }, oldImage: lockouts === undefined ? {} : { lockouts: { N: lockouts } } });
    expect(matchesFilters(ANNOUNCER_FILTERS as never, success('1'))).toBe(true);
    expect(matchesFilters(ANNOUNCER_FILTERS as never, success('0'))).toBe(false);
    expect(matchesFilters(ANNOUNCER_FILTERS as never, success(undefined))).toBe(false);
  });

  it('a deletion that ends a streak matches; one without a streak, one by TTL, one without the attribute do not', () => {
    const removal = (lockouts: string | undefined, ttl = false) =>
      record('REMOVE', 'signin#a', { oldImage: lockouts === undefined ? {} : { lockouts: { N: lockouts } } }, ttl);
    expect(matchesFilters(ANNOUNCER_FILTERS as never, removal('2'))).toBe(true);
    expect(matchesFilters(ANNOUNCER_FILTERS as never, removal('0'))).toBe(false);
    expect(matchesFilters(ANNOUNCER_FILTERS as never, removal('2', true))).toBe(false);
    // anything-but matches a present value only, as in Lambda.
    expect(matchesFilters(ANNOUNCER_FILTERS as never, removal(undefined))).toBe(false);
  });

  it('the notifier sees the INSERT of a notice request and nothing else', () => {
    const notice = record('INSERT', 'notice#0123', { newImage: { sub: { S: 'x' } } });
    expect(matchesFilters(NOTIFIER_FILTERS as never, notice)).toBe(true);
    expect(matchesFilters(NOTIFIER_FILTERS as never, record('MODIFY', 'notice#0123', { newImage: { state: { S: 'sent' } } }))).toBe(false);
    expect(matchesFilters(NOTIFIER_FILTERS as never, record('INSERT', 'notice-recipient#ab', { newImage: {} }))).toBe(false);
    expect(matchesFilters(NOTIFIER_FILTERS as never, write('lock'))).toBe(false);
  });

  it('implements the pattern language as Lambda does for the operators it supports', () => {
    const event = { a: 'hello', n: 5, list: ['x', 'y'], nested: { b: 'B' }, nil: null };
    expect(matchesPattern({ a: ['hello', 'bye'] }, event)).toBe(true);
    expect(matchesPattern({ a: ['bye'] }, event)).toBe(false);
    expect(matchesPattern({ a: [{ prefix: 'he' }] }, event)).toBe(true);
    expect(matchesPattern({ a: [{ suffix: 'lo' }] }, event)).toBe(true);
    expect(matchesPattern({ a: [{ 'equals-ignore-case': 'HELLO' }] }, event)).toBe(true);
    expect(matchesPattern({ a: [{ 'anything-but': ['bye'] }] }, event)).toBe(true);
    expect(matchesPattern({ a: [{ 'anything-but': 'hello' }] }, event)).toBe(false);
    expect(matchesPattern({ a: [{ 'anything-but': { prefix: 'he' } }] }, event)).toBe(false);
    expect(matchesPattern({ missing: [{ 'anything-but': ['x'] }] }, event)).toBe(false);
    expect(matchesPattern({ missing: [{ exists: false }] }, event)).toBe(true);
    expect(matchesPattern({ a: [{ exists: false }] }, event)).toBe(false);
    expect(matchesPattern({ a: [{ exists: true }] }, event)).toBe(true);
    expect(matchesPattern({ nested: [{ exists: true }] }, event)).toBe(false);
    expect(matchesPattern({ nested: { b: ['B'] } }, event)).toBe(true);
    expect(matchesPattern({ nested: { c: [{ exists: false }] } }, event)).toBe(true);
    expect(matchesPattern({ deep: { er: [{ exists: false }] } }, event)).toBe(true);
    expect(matchesPattern({ list: ['y'] }, event)).toBe(true);
    expect(matchesPattern({ n: [5] }, event)).toBe(true);
    expect(matchesPattern({ n: ['5'] }, event)).toBe(false);
    expect(matchesPattern({ n: [{ numeric: ['>', 1, '<=', 5] }] }, event)).toBe(true);
    expect(matchesPattern({ n: [{ numeric: ['<', 5] }] }, event)).toBe(false);
    expect(matchesPattern({ nil: [null] }, event)).toBe(true);
    expect(matchesPattern({}, event)).toBe(true);
    expect(matchesFilters([], event)).toBe(true);
  });

  it('refuses the parts of the language it does not implement, instead of matching differently', () => {
    expect(() => checkPattern({ a: [{ wildcard: '*x' }] })).toThrow(UnsupportedPatternError);
    expect(() => checkPattern({ a: [{ cidr: '10.0.0.0/8' }] })).toThrow(/"cidr" operator is not supported/);
    expect(() => checkPattern({ $or: [{ a: ['x'] }] })).toThrow(UnsupportedPatternError);
    expect(() => checkPattern({ a: 'x' })).toThrow(UnsupportedPatternError);
    expect(() => checkPattern({ a: [] })).toThrow(UnsupportedPatternError);
    for (const pattern of [...ANNOUNCER_FILTERS, ...NOTIFIER_FILTERS]) expect(() => checkPattern(pattern)).not.toThrow();
  });
});

describe('records', () => {
  it("are given in Lambda's shape: epoch seconds, base64 binaries, the stream's ARN", () => {
    const given = lambdaRecord(
      {
        eventID: 'e1',
        eventName: 'MODIFY',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'ddblocal',
        dynamodb: {
          ApproximateCreationDateTime: new Date('2026-01-01T00:01:00Z'),
          Keys: { pk: { S: 'signin#a' } },
          NewImage: {
            pk: { S: 'signin#a' },
            b: { B: new Uint8Array([1, 2, 3]) },
            m: { M: { l: { L: [{ BS: [new Uint8Array([255])] }, { N: '1' }] } } },
          },
          OldImage: { pk: { S: 'signin#a' }, n: { NULL: true } },
          SequenceNumber: '000000000000000000007',
          SizeBytes: 12,
          StreamViewType: 'NEW_AND_OLD_IMAGES',
        },
      },
      STREAM,
    );
    expect(given).toEqual({
      eventID: 'e1',
      eventName: 'MODIFY',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'ddblocal',
      dynamodb: {
        ApproximateCreationDateTime: 1767225660,
        Keys: { pk: { S: 'signin#a' } },
        NewImage: { pk: { S: 'signin#a' }, b: { B: 'AQID' }, m: { M: { l: { L: [{ BS: ['/w=='] }, { N: '1' }] } } } },
        OldImage: { pk: { S: 'signin#a' }, n: { NULL: true } },
        SequenceNumber: '000000000000000000007',
        SizeBytes: 12,
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
      eventSourceARN: STREAM,
    });
  });

  it("make DynamoDB Local's TTL deletion the REMOVE by the DynamoDB service that DynamoDB sends", () => {
    const given = lambdaRecord(
      {
        eventID: 'e2',
        eventName: 'UNKNOWN_TO_SDK_VERSION' as never,
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'ddblocal',
        dynamodb: { Keys: { pk: { S: 'signin#a' } }, OldImage: { pk: { S: 'signin#a' }, lockouts: { N: '2' } }, SequenceNumber: '9' },
      },
      STREAM,
    );
    expect(given.eventName).toBe('REMOVE');
    expect(given.userIdentity).toEqual({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });
    expect(matchesFilters(ANNOUNCER_FILTERS as never, given)).toBe(false);
  });
});

/** An in-memory stream: shards of records, iterators as `shard:index`. */
class MemoryStream implements StreamSource {
  readonly shardList: Array<ShardInfo & { records: DynamoDBRecord[] }> = [];
  reads = 0;
  constructor(shards = ['shard-1']) {
    for (const shardId of shards) this.addShard(shardId);
  }
  addShard(shardId: string, parentShardId?: string): void {
    this.shardList.push({ shardId, ...(parentShardId ? { parentShardId } : {}), closed: false, records: [] });
  }
  close(shardId: string): void {
    (this.shard(shardId) as { closed: boolean }).closed = true;
  }
  append(shardId: string, ...records: DynamoDBRecord[]): DynamoDBRecord[] {
    this.shard(shardId).records.push(...records);
    return records;
  }
  private shard(shardId: string) {
    return this.shardList.find((s) => s.shardId === shardId)!;
  }
  async shards(): Promise<ShardInfo[]> {
    return this.shardList.map(({ shardId, parentShardId, closed }) => ({ shardId, ...(parentShardId ? { parentShardId } : {}), closed }));
  }
  async iterator(_arn: string, shardId: string, position: ShardPosition): Promise<string> {
    const records = this.shard(shardId).records;
    const index =
      'sequenceNumber' in position
        ? records.findIndex((r) => seqOf(r) === position.sequenceNumber) + 1
        : position.type === 'LATEST'
          ? records.length
          : 0;
    return `${shardId}:${index}`;
  }
  async read(_arn: string, iterator: string): Promise<StreamPage> {
    this.reads++;
    const [shardId, at] = iterator.split(':');
    const shard = this.shard(shardId);
    const records = shard.records.slice(Number(at), Number(at) + 1000);
    const end = Number(at) + records.length;
    return { records, next: shard.closed && end >= shard.records.length ? undefined : `${shardId}:${end}` };
  }
}

type Handler = (event: DynamoDBStreamEvent) => Promise<unknown>;

const MAPPING: MappingSettings = {
  batchSize: 10,
  startingPosition: 'TRIM_HORIZON',
  maximumRetryAttempts: 3,
  maximumRecordAgeInSeconds: -1,
  bisectBatchOnFunctionError: true,
  reportBatchItemFailures: true,
  filters: [],
};

const pollers: StreamPoller[] = [];
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
});

function poll(
  stream: MemoryStream,
  handler: Handler,
  mapping: Partial<MappingSettings> = {},
  checkpoints?: Checkpoints,
): { poller: StreamPoller; batches: string[][]; failures: OnFailureRecord[]; errors: Error[] } {
  const batches: string[][] = [];
  const failures: OnFailureRecord[] = [];
  const errors: Error[] = [];
  const poller = new StreamPoller({
    functionName: 'Consumer',
    streamArn: STREAM,
    source: stream,
    mapping: { ...MAPPING, ...mapping },
    invoke: async (event) => {
      batches.push(event.Records.map(seqOf));
      return handler(event);
    },
    onFailure: (record) => {
      failures.push(record);
    },
    onError: (error) => errors.push(error),
    checkpoints,
    pollIntervalMs: 2,
    shardRefreshMs: 10,
    retryDelayMs: () => 0,
  });
  pollers.push(poller);
  return { poller, batches, failures, errors };
}

const ok: Handler = async () => ({ batchItemFailures: [] });

describe('the event source mapping', () => {
  it('invokes with batches of at most BatchSize, in order, and only with records a filter matches', async () => {
    const stream = new MemoryStream();
    const news = Array.from({ length: 12 }, (_, i) => write(i % 2 === 0 ? 'lock' : 'reset'));
    const counts = Array.from({ length: 5 }, () => write('count'));
    stream.append('shard-1', ...news.slice(0, 6), ...counts, ...news.slice(6));
    const { poller, batches } = poll(stream, ok, { batchSize: 5, filters: ANNOUNCER_FILTERS as never });
    await poller.start();
    await poller.drained();
    expect(batches).toEqual([news.slice(0, 5), news.slice(5, 10), news.slice(10)].map((b) => b.map(seqOf)));
  });

  it('delivers what was written after start() with LATEST, and nothing from before', async () => {
    const stream = new MemoryStream();
    stream.append('shard-1', write('lock'), write('lock'));
    const { poller, batches } = poll(stream, ok, { startingPosition: 'LATEST' });
    await poller.start();
    const [after] = stream.append('shard-1', write('lock'));
    await poller.drained();
    expect(batches).toEqual([[seqOf(after)]]);
  });

  it("passes the records unchanged: the handler gets Lambda's event", async () => {
    const stream = new MemoryStream();
    const [given] = stream.append('shard-1', write('lock'));
    let seen: DynamoDBStreamEvent | undefined;
    const { poller } = poll(stream, async (event) => {
      seen = event;
      return null;
    });
    await poller.start();
    await poller.drained();
    expect(seen).toEqual({ Records: [given] });
  });

  it('resumes from the first record the function reports, without delivering the ones before it again', async () => {
    const stream = new MemoryStream();
    const records = stream.append('shard-1', ...Array.from({ length: 5 }, () => write('lock')));
    let calls = 0;
    const { poller, batches, failures } = poll(stream, async () =>
      ++calls === 1
        ? { batchItemFailures: [{ itemIdentifier: seqOf(records[4]) }, { itemIdentifier: seqOf(records[2]) }] }
        : { batchItemFailures: [] },
    );
    await poller.start();
    await poller.drained();
    expect(batches).toEqual([records.map(seqOf), records.slice(2).map(seqOf)]);
    expect(failures).toEqual([]);
  });

  it('retries a reported record up to MaximumRetryAttempts, then sends its batch to the failure destination and moves on', async () => {
    const stream = new MemoryStream();
    const records = stream.append('shard-1', ...Array.from({ length: 4 }, () => write('lock')));
    const poison = seqOf(records[1]);
    const { poller, batches, failures } = poll(
      stream,
      async (event) =>
        event.Records.some((r) => seqOf(r) === poison) ? { batchItemFailures: [{ itemIdentifier: poison }] } : { batchItemFailures: [] },
      { maximumRetryAttempts: 2 },
    );
    await poller.start();
    await poller.drained();
    const [later] = stream.append('shard-1', write('reset'));
    await poller.drained();
    const rest = records.slice(1).map(seqOf);
    // 1 invocation + 2 retries of the batch from the reported record, then Lambda discards that batch.
    expect(batches.slice(0, 3)).toEqual([records.map(seqOf), rest, rest]);
    expect(batches.slice(3)).toEqual([[seqOf(later)]]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      requestContext: { functionArn: 'Consumer', condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST' },
      version: '1.0',
      DDBStreamBatchInfo: { shardId: 'shard-1', startSequenceNumber: poison, endSequenceNumber: seqOf(records[3]), batchSize: 3, streamArn: STREAM },
    });
    expect(failures[0].responseContext.functionError).toBeUndefined();
  });

  it('bisects a batch whose invocation fails until the poison record is alone, which alone goes to the failure destination', async () => {
    const stream = new MemoryStream();
    const records = stream.append('shard-1', ...Array.from({ length: 8 }, () => write('lock')));
    const poison = seqOf(records[5]);
    const delivered = new Set<string>();
    const { poller, batches, failures, errors } = poll(
      stream,
      async (event) => {
        if (event.Records.some((r) => seqOf(r) === poison)) throw new FunctionError('cannot read this one');
        for (const r of event.Records) delivered.add(seqOf(r));
        return { batchItemFailures: [] };
      },
      { maximumRetryAttempts: 1 },
    );
    await poller.start();
    await poller.drained();
    expect([...delivered].sort()).toEqual(records.map(seqOf).filter((s) => s !== poison));
    expect(failures).toHaveLength(1);
    expect(failures[0].DDBStreamBatchInfo).toMatchObject({ startSequenceNumber: poison, endSequenceNumber: poison, batchSize: 1 });
    expect(failures[0].responseContext.functionError).toBe('Unhandled');
    // 8 → 4+4 → (4) 2+2 → (2) 1+1 → the poison once more (1 retry), then discarded.
    expect(batches.filter((b) => b.includes(poison)).map((b) => b.length)).toEqual([8, 4, 2, 1, 1]);
    // Each failed invocation is logged, as Lambda's runtime logs the error a handler throws.
    expect(errors.map((e) => e.message)).toContain('invocation with 1 records failed (Unhandled): cannot read this one');
  });

  it('without bisection, retries the whole failing batch and discards it whole', async () => {
    const stream = new MemoryStream();
    const records = stream.append('shard-1', ...Array.from({ length: 3 }, () => write('lock')));
    const { poller, batches, failures } = poll(
      stream,
      async () => {
        throw new FunctionError('down');
      },
      { bisectBatchOnFunctionError: false, maximumRetryAttempts: 1 },
    );
    await poller.start();
    await poller.drained();
    expect(batches).toEqual([records.map(seqOf), records.map(seqOf)]);
    expect(failures.map((f) => f.DDBStreamBatchInfo.batchSize)).toEqual([3]);
  });

  it('treats an identifier that names no record of the batch as a failure of the whole batch', async () => {
    const stream = new MemoryStream();
    const records = stream.append('shard-1', write('lock'), write('lock'));
    const { poller, batches, failures } = poll(stream, async () => ({ batchItemFailures: [{ itemIdentifier: '' }] }), { maximumRetryAttempts: 1 });
    await poller.start();
    await poller.drained();
    expect(batches).toEqual([records.map(seqOf), records.map(seqOf)]);
    expect(failures[0].DDBStreamBatchInfo.batchSize).toBe(2);
  });

  it('ignores batchItemFailures unless the mapping has ReportBatchItemFailures', async () => {
    const stream = new MemoryStream();
    const [only] = stream.append('shard-1', write('lock'));
    const { poller, batches } = poll(stream, async () => ({ batchItemFailures: [{ itemIdentifier: seqOf(only) }] }), {
      reportBatchItemFailures: false,
    });
    await poller.start();
    await poller.drained();
    expect(batches).toEqual([[seqOf(only)]]);
  });

  it('sends records older than MaximumRecordAgeInSeconds to the failure destination without invoking', async () => {
    const stream = new MemoryStream();
    const old = write('lock');
    (old.dynamodb as { ApproximateCreationDateTime: number }).ApproximateCreationDateTime -= 120;
    const [fresh] = stream.append('shard-1', old, write('lock')).slice(1);
    const { poller, batches, failures } = poll(stream, ok, { maximumRecordAgeInSeconds: 60 });
    await poller.start();
    await poller.drained();
    expect(batches).toEqual([[seqOf(fresh)]]);
    expect(failures.map((f) => [f.requestContext.condition, f.DDBStreamBatchInfo.startSequenceNumber])).toEqual([['RecordAgeExceeded', seqOf(old)]]);
  });

  it('reads a child shard only after its parent is read to its end, and finds shards that appear later', async () => {
    const stream = new MemoryStream(['parent']);
    stream.addShard('child', 'parent');
    const [inChild] = stream.append('child', write('lock', 'signin#a'));
    const [inParent] = stream.append('parent', write('lock', 'signin#a'));
    const { poller, batches } = poll(stream, ok);
    await poller.start();
    await poller.drained();
    expect(batches).toEqual([[seqOf(inParent)]]); // the parent is still open: the child waits
    stream.close('parent');
    stream.addShard('grandchild', 'child');
    stream.close('child');
    const [inGrandchild] = stream.append('grandchild', write('reset', 'signin#a'));
    for (let i = 0; i < 200 && batches.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(batches).toEqual([[seqOf(inParent)], [seqOf(inChild)], [seqOf(inGrandchild)]]);
  });

  it('resumes after its checkpoint when started again, and reads a new shard from its beginning whatever the StartingPosition', async () => {
    const stream = new MemoryStream();
    const checkpoints = new MemoryCheckpoints();
    const first = poll(stream, ok, { startingPosition: 'LATEST' }, checkpoints);
    await first.poller.start();
    const [a] = stream.append('shard-1', write('lock'));
    await first.poller.drained();
    await first.poller.stop();
    const [b] = stream.append('shard-1', write('lock'));
    stream.addShard('shard-2');
    const [c] = stream.append('shard-2', write('lock', 'signin#b'));
    const second = poll(stream, ok, { startingPosition: 'LATEST' }, checkpoints);
    await second.poller.start();
    await second.poller.drained();
    expect(first.batches).toEqual([[seqOf(a)]]);
    expect(second.batches.flat().sort()).toEqual([seqOf(b), seqOf(c)].sort());
  });

  it('stop() lets an invocation in flight finish and checkpoints it: nothing is delivered twice after a clean stop', async () => {
    const stream = new MemoryStream();
    const checkpoints = new MemoryCheckpoints();
    const [r] = stream.append('shard-1', write('lock'));
    let release!: () => void;
    const { poller } = poll(stream, () => new Promise((resolve) => (release = () => resolve(null))), {}, checkpoints);
    await poller.start();
    for (let i = 0; i < 100 && release === undefined; i++) await new Promise((res) => setTimeout(res, 5));
    const stopping = poller.stop();
    release();
    await stopping;
    expect(checkpoints.get('shard-1')).toBe(seqOf(r));
    const again = poll(stream, ok, {}, checkpoints);
    await again.poller.start();
    await again.poller.drained();
    expect(again.batches).toEqual([]);
  });

  it('stop() abandons an invocation still running after its grace; that batch is delivered again next time', async () => {
    const stream = new MemoryStream();
    const checkpoints = new MemoryCheckpoints();
    const [r] = stream.append('shard-1', write('lock'));
    let release!: () => void;
    const { poller } = poll(stream, () => new Promise((resolve) => (release = () => resolve(null))), {}, checkpoints);
    await poller.start();
    for (let i = 0; i < 100 && release === undefined; i++) await new Promise((res) => setTimeout(res, 5));
    const stopping = poller.stop(20);
    await new Promise((res) => setTimeout(res, 60)); // past the grace: the invocation is abandoned
    release();
    await stopping;
    const readsAfterStop = stream.reads;
    await new Promise((res) => setTimeout(res, 30));
    expect(stream.reads).toBe(readsAfterStop);
    expect(checkpoints.get('shard-1')).toBeUndefined();
    const again = poll(stream, ok, {}, checkpoints);
    await again.poller.start();
    await again.poller.drained();
    expect(again.batches).toEqual([[seqOf(r)]]);
  });

  it('fails start() when the stream cannot be read, instead of running without a position', async () => {
    const stream = new MemoryStream();
    stream.iterator = () => Promise.reject(Object.assign(new Error('no such stream'), { name: 'ResourceNotFoundException' }));
    const { poller } = poll(stream, ok);
    await expect(poller.start()).rejects.toThrow('no such stream');
  });

  it('refuses a filter it cannot apply as Lambda would', () => {
    expect(() => poll(new MemoryStream(), ok, { filters: [{ dynamodb: { Keys: { pk: { S: [{ wildcard: 'a*' }] } } } }] })).toThrow(
      /Consumer filter 1\.dynamodb\.Keys\.pk\.S: the "wildcard" operator is not supported/,
    );
  });
});
