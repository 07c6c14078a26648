/**
 * A local stand-in for Lambda's event source mapping on a DynamoDB stream: it reads DynamoDB Local's stream the
 * way the mapping reads the table's, and invokes a function with what Lambda would give it.
 *
 *   DescribeStream ─► shards (a child only after its parent is read to its end) ─► GetShardIterator
 *     ─► GetRecords, in a loop per shard (a short sleep when a read is empty)
 *     ─► records in Lambda's shape ─► the mapping's filter criteria (records no pattern matches are dropped)
 *     ─► batches of at most BatchSize, one invocation at a time per shard, in order
 *     ─► ReportBatchItemFailures: resume from the first reported record; a thrown error: bisect, when asked
 *     ─► retries bounded by MaximumRetryAttempts and MaximumRecordAgeInSeconds, then the batch goes to the
 *        on-failure destination (its invocation record, as Lambda writes it) and the shard moves on.
 *
 * Positions are kept per shard (a checkpoint after each batch and after each read), so a restarted sandbox with
 * `--persist` resumes where it stopped, as a mapping does; StartingPosition applies only the first time, when
 * the mapping is "created". What it does not emulate: ParallelizationFactor (always 1), batching windows (a
 * batch is what one read gives, at most BatchSize), tumbling windows, Lambda's own backoff timings, throttling,
 * and the 6 MB payload limit.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  type AttributeValue,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as SdkRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

// ---------------------------------------------------------------------------------------------------------------
// Filter patterns: the part of Lambda's filter rule syntax (EventBridge patterns) a mapping on this stream uses.
// ---------------------------------------------------------------------------------------------------------------

/** One of a mapping's `FilterCriteria.Filters[].Pattern`, parsed. */
export type FilterPattern = Readonly<Record<string, unknown>>;

export class UnsupportedPatternError extends Error {
  override readonly name = 'UnsupportedPatternError';
}

const OPERATORS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'exists', 'anything-but', 'numeric']);
const NUMERIC_OPERATORS = new Set(['<', '<=', '=', '>', '>=']);

/**
 * Throws an UnsupportedPatternError for anything this emulation does not implement (wildcards, CIDR, `$or`, ...),
 * so a mapping with such a filter fails at start instead of silently matching differently from Lambda.
 */
export function checkPattern(pattern: unknown, where = 'pattern'): void {
  if (!isObject(pattern)) throw new UnsupportedPatternError(`${where} must be a JSON object`);
  for (const [key, value] of Object.entries(pattern)) {
    if (key.startsWith('$')) throw new UnsupportedPatternError(`${where}: ${key} is not supported by the local event source mapping`);
    if (Array.isArray(value)) {
      if (value.length === 0) throw new UnsupportedPatternError(`${where}.${key}: an empty list matches nothing in Lambda and is rejected`);
      for (const rule of value) checkRule(rule, `${where}.${key}`);
    } else if (isObject(value)) checkPattern(value, `${where}.${key}`);
    else throw new UnsupportedPatternError(`${where}.${key}: a value must be a list of matches or a nested pattern`);
  }
}

function checkRule(rule: unknown, where: string): void {
  if (rule === null || typeof rule === 'string' || typeof rule === 'number' || typeof rule === 'boolean') return;
  if (!isObject(rule) || Object.keys(rule).length !== 1)
    throw new UnsupportedPatternError(`${where}: ${JSON.stringify(rule)} is not a value or one operator`);
  const [operator, operand] = Object.entries(rule)[0];
  if (!OPERATORS.has(operator))
    throw new UnsupportedPatternError(`${where}: the "${operator}" operator is not supported by the local event source mapping`);
  const bad = () => new UnsupportedPatternError(`${where}: unsupported operand for "${operator}": ${JSON.stringify(operand)}`);
  switch (operator) {
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
      if (typeof operand !== 'string') throw bad();
      return;
    case 'exists':
      if (typeof operand !== 'boolean') throw bad();
      return;
    case 'numeric': {
      if (!Array.isArray(operand) || operand.length === 0 || operand.length % 2 !== 0) throw bad();
      for (let i = 0; i < operand.length; i += 2) if (!NUMERIC_OPERATORS.has(operand[i]) || typeof operand[i + 1] !== 'number') throw bad();
      return;
    }
    default: {
      // anything-but: a value, a list of values, or one prefix / suffix / equals-ignore-case
      const values = Array.isArray(operand) ? operand : [operand];
      if (values.length === 0) throw bad();
      for (const value of values) {
        if (typeof value === 'string' || typeof value === 'number') continue;
        if (!Array.isArray(operand) && isObject(value) && Object.keys(value).length === 1) {
          const [inner, text] = Object.entries(value)[0];
          if (['prefix', 'suffix', 'equals-ignore-case'].includes(inner) && typeof text === 'string') continue;
        }
        throw bad();
      }
    }
  }
}

/** Whether one pattern matches an event (a stream record, as Lambda gives it to the function). */
export function matchesPattern(pattern: FilterPattern, event: unknown): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = isObject(event) ? event[key] : undefined;
    if (Array.isArray(expected)) return matchesLeaf(expected, actual);
    return matchesPattern(expected as FilterPattern, actual);
  });
}

/** A mapping's filter criteria: a record is delivered when any pattern matches it; without patterns, every record. */
export function matchesFilters(patterns: readonly FilterPattern[], event: unknown): boolean {
  return patterns.length === 0 || patterns.some((pattern) => matchesPattern(pattern, event));
}

function matchesLeaf(rules: readonly unknown[], actual: unknown): boolean {
  // A field that is absent matches only `exists: false`; a list in the event matches when any of its elements does.
  if (actual === undefined) return rules.some((rule) => isObject(rule) && rule.exists === false);
  const values = Array.isArray(actual) ? actual : [actual];
  return rules.some((rule) => values.some((value) => matchesRule(rule, value)));
}

function matchesRule(rule: unknown, value: unknown): boolean {
  if (!isObject(rule)) return isObject(value) ? false : value === rule;
  const [operator, operand] = Object.entries(rule)[0];
  switch (operator) {
    case 'exists':
      // Leaf values only, as in Lambda: an object present under the name is not a match for `exists`.
      return operand === true && !isObject(value);
    case 'prefix':
      return typeof value === 'string' && value.startsWith(operand as string);
    case 'suffix':
      return typeof value === 'string' && value.endsWith(operand as string);
    case 'equals-ignore-case':
      return typeof value === 'string' && value.toLowerCase() === (operand as string).toLowerCase();
    case 'numeric': {
      if (typeof value !== 'number') return false;
      const ops = operand as Array<string | number>;
      for (let i = 0; i < ops.length; i += 2) {
        const bound = ops[i + 1] as number;
        const ok = { '<': value < bound, '<=': value <= bound, '=': value === bound, '>': value > bound, '>=': value >= bound }[ops[i] as string];
        if (!ok) return false;
      }
      return true;
    }
    default: {
      // anything-but: the field is present and is none of the values (or matches none of the inner operator).
      if (isObject(value)) return false;
      if (isObject(operand)) return !matchesRule(operand, value);
      const excluded = Array.isArray(operand) ? operand : [operand];
      return !excluded.includes(value);
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------------------------
// Records: what GetRecords gives, in the shape Lambda hands to the function.
// ---------------------------------------------------------------------------------------------------------------

/** The user identity DynamoDB puts on a record of a deletion by TTL. */
export const TTL_USER_IDENTITY = { type: 'Service', principalId: 'dynamodb.amazonaws.com' } as const;

/**
 * A record as the SDK returns it, made into the record Lambda delivers: the same fields with the wire's types
 * (ApproximateCreationDateTime in epoch seconds, binary values in base64) plus `eventSourceARN`.
 *
 * DynamoDB Local (3.3.1) marks a deletion by TTL with an event name of its own (the SDK reads it as
 * "UNKNOWN_TO_SDK_VERSION"), an old image and no user identity; DynamoDB sends a REMOVE whose user identity names
 * the DynamoDB service. The record is given as DynamoDB sends it, so TTL deletions look as they will in AWS.
 */
export function lambdaRecord(record: SdkRecord, streamArn: string): DynamoDBRecord {
  const data = record.dynamodb ?? {};
  const known = record.eventName === 'INSERT' || record.eventName === 'MODIFY' || record.eventName === 'REMOVE';
  const byTtl = !known && data.NewImage === undefined && (data.OldImage !== undefined || data.Keys !== undefined);
  const created = data.ApproximateCreationDateTime;
  const dynamodb: Record<string, unknown> = {
    ...(created === undefined ? {} : { ApproximateCreationDateTime: Math.floor(new Date(created).getTime() / 1000) }),
    ...(data.Keys === undefined ? {} : { Keys: wireImage(data.Keys) }),
    ...(data.NewImage === undefined ? {} : { NewImage: wireImage(data.NewImage) }),
    ...(data.OldImage === undefined ? {} : { OldImage: wireImage(data.OldImage) }),
    SequenceNumber: data.SequenceNumber,
    SizeBytes: data.SizeBytes,
    StreamViewType: data.StreamViewType,
  };
  const identity = byTtl
    ? TTL_USER_IDENTITY
    : record.userIdentity === undefined
      ? undefined
      : { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId };
  return {
    eventID: record.eventID,
    eventName: byTtl ? 'REMOVE' : (record.eventName as DynamoDBRecord['eventName']),
    eventVersion: record.eventVersion,
    eventSource: record.eventSource ?? 'aws:dynamodb',
    awsRegion: record.awsRegion,
    dynamodb: dynamodb as DynamoDBRecord['dynamodb'],
    eventSourceARN: streamArn,
    ...(identity === undefined ? {} : { userIdentity: { ...identity } }),
  };
}

function wireImage(image: Record<string, AttributeValue>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, wireValue(value)]));
}

function wireValue(value: AttributeValue): unknown {
  const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.M !== undefined) return { M: wireImage(value.M) };
  if (value.L !== undefined) return { L: value.L.map(wireValue) };
  // S, N, SS, NS, BOOL, NULL: as they are on the wire.
  return Object.fromEntries(Object.entries(value).filter(([type]) => type !== '$unknown'));
}

// ---------------------------------------------------------------------------------------------------------------
// The stream: DynamoDB Streams' three reads, behind an interface the tests can replace.
// ---------------------------------------------------------------------------------------------------------------

export interface ShardInfo {
  readonly shardId: string;
  readonly parentShardId?: string;
  /** The shard has an ending sequence number: no record will be added to it. */
  readonly closed: boolean;
}

export type ShardPosition =
  { readonly type: 'TRIM_HORIZON' | 'LATEST' } | { readonly type: 'AFTER_SEQUENCE_NUMBER'; readonly sequenceNumber: string };

export interface StreamPage {
  /** In Lambda's shape (lambdaRecord). */
  readonly records: DynamoDBRecord[];
  /** Absent when the shard is closed and read to its end. */
  readonly next?: string;
}

export interface StreamSource {
  shards(streamArn: string, signal: AbortSignal): Promise<ShardInfo[]>;
  iterator(streamArn: string, shardId: string, position: ShardPosition, signal: AbortSignal): Promise<string>;
  read(streamArn: string, iterator: string, signal: AbortSignal): Promise<StreamPage>;
}

/** DynamoDB Streams through the SDK (DynamoDB Local serves the same API on its own endpoint). */
export function dynamoDbStreamSource(client: DynamoDBStreamsClient): StreamSource {
  return {
    async shards(streamArn, signal) {
      const shards: ShardInfo[] = [];
      let start: string | undefined;
      do {
        const page = await client.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }), { abortSignal: signal });
        for (const shard of page.StreamDescription?.Shards ?? []) {
          shards.push({
            shardId: shard.ShardId!,
            ...(shard.ParentShardId ? { parentShardId: shard.ParentShardId } : {}),
            closed: shard.SequenceNumberRange?.EndingSequenceNumber !== undefined,
          });
        }
        start = page.StreamDescription?.LastEvaluatedShardId;
      } while (start);
      return shards;
    },
    async iterator(streamArn, shardId, position, signal) {
      const out = await client.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: position.type,
          ...(position.type === 'AFTER_SEQUENCE_NUMBER' ? { SequenceNumber: position.sequenceNumber } : {}),
        }),
        { abortSignal: signal },
      );
      return out.ShardIterator!;
    },
    async read(streamArn, iterator, signal) {
      const out = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }), { abortSignal: signal });
      return { records: (out.Records ?? []).map((record) => lambdaRecord(record, streamArn)), next: out.NextShardIterator };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Checkpoints: where each shard was left, per mapping.
// ---------------------------------------------------------------------------------------------------------------

/** A shard read to its end. */
export const SHARD_END = 'SHARD_END';

export interface Checkpoints {
  /** The last sequence number handled in a shard, SHARD_END, or undefined when nothing was. */
  get(shardId: string): string | undefined;
  set(shardId: string, position: string): void;
  /** Whether the mapping has run on this stream before (StartingPosition applies only the first time). */
  readonly created: boolean;
  markCreated(): void;
}

export class MemoryCheckpoints implements Checkpoints {
  private readonly positions = new Map<string, string>();
  private createdFlag = false;
  get created(): boolean {
    return this.createdFlag;
  }
  markCreated(): void {
    this.createdFlag = true;
  }
  get(shardId: string): string | undefined {
    return this.positions.get(shardId);
  }
  set(shardId: string, position: string): void {
    this.positions.set(shardId, position);
  }
}

/**
 * Checkpoints kept in a JSON file (with `--persist`), one entry per mapping. An entry for another stream (the table
 * was re-created) is dropped: that mapping starts afresh.
 */
export class FileCheckpoints implements Checkpoints {
  private readonly entry: { streamArn: string; shards: Record<string, string> };
  constructor(
    private readonly file: string,
    private readonly mapping: string,
    streamArn: string,
  ) {
    const all = FileCheckpoints.readAll(file);
    const found = all[mapping];
    this.entry = found?.streamArn === streamArn ? found : { streamArn, shards: {} };
    this.createdFlag = found?.streamArn === streamArn;
  }
  private createdFlag: boolean;
  get created(): boolean {
    return this.createdFlag;
  }
  markCreated(): void {
    this.createdFlag = true;
    this.save();
  }
  get(shardId: string): string | undefined {
    return this.entry.shards[shardId];
  }
  set(shardId: string, position: string): void {
    if (this.entry.shards[shardId] === position) return;
    this.entry.shards[shardId] = position;
    this.save();
  }
  private save(): void {
    const all = FileCheckpoints.readAll(this.file);
    all[this.mapping] = this.entry;
    mkdirSync(path.dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(all, null, 2));
    renameSync(temporary, this.file);
  }
  private static readAll(file: string): Record<string, { streamArn: string; shards: Record<string, string> }> {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Record<string, { streamArn: string; shards: Record<string, string> }>;
    } catch {
      return {};
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The mapping.
// ---------------------------------------------------------------------------------------------------------------

/** The settings of an `AWS::Lambda::EventSourceMapping` the poller honours, with Lambda's defaults for a stream. */
export interface MappingSettings {
  /** At most this many records per invocation (Lambda's default for DynamoDB: 100). */
  readonly batchSize: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** Retries of a failing batch before it goes to the failure destination; -1: until the record expires. */
  readonly maximumRetryAttempts: number;
  /** Records older than this go to the failure destination instead of the function; -1: until they expire. */
  readonly maximumRecordAgeInSeconds: number;
  readonly bisectBatchOnFunctionError: boolean;
  /** FunctionResponseTypes includes ReportBatchItemFailures: the response's batchItemFailures are read. */
  readonly reportBatchItemFailures: boolean;
  readonly filters: readonly FilterPattern[];
}

export const DEFAULT_MAPPING: Omit<MappingSettings, 'startingPosition'> = {
  batchSize: 100,
  maximumRetryAttempts: -1,
  maximumRecordAgeInSeconds: -1,
  bisectBatchOnFunctionError: false,
  reportBatchItemFailures: false,
  filters: [],
};

/** The invocation record Lambda sends to a stream mapping's on-failure destination (SQS, SNS, S3). */
export interface OnFailureRecord {
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded';
    readonly approximateInvokeCount: number;
  };
  readonly responseContext: { readonly statusCode: number; readonly executedVersion: string; readonly functionError?: string };
  readonly version: '1.0';
  readonly timestamp: string;
  readonly DDBStreamBatchInfo: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly approximateArrivalOfFirstRecord: string;
    readonly approximateArrivalOfLastRecord: string;
    readonly batchSize: number;
    readonly streamArn: string;
  };
}

/** Thrown by `invoke` when the function failed (Lambda's X-Amz-Function-Error, or a timeout). */
export class FunctionError extends Error {
  override readonly name = 'FunctionError';
  constructor(
    message: string,
    readonly errorType = 'Unhandled',
  ) {
    super(message);
  }
}

export interface StreamPollerOptions {
  /** The function's name (or ARN), for the failure destination's record and messages. */
  readonly functionName: string;
  readonly streamArn: string;
  readonly source: StreamSource;
  readonly mapping: MappingSettings;
  /** Runs the function synchronously with `{ Records }` and returns its response; throws when the function failed. */
  readonly invoke: (event: DynamoDBStreamEvent, signal: AbortSignal) => Promise<unknown>;
  /** The on-failure destination. */
  readonly onFailure: (record: OnFailureRecord) => void | Promise<void>;
  /** Trouble worth a log line: a stream read that failed (the poller keeps trying), an invocation that threw. */
  readonly onError?: (error: Error) => void;
  readonly checkpoints?: Checkpoints;
  /** The sleep after an empty read. */
  readonly pollIntervalMs?: number;
  /** How often the shard list is read again (also at once when a shard ends). */
  readonly shardRefreshMs?: number;
  /** The pause before the nth retry of a failing batch. */
  readonly retryDelayMs?: (retry: number) => number;
  readonly now?: () => number;
}

interface ShardState {
  readonly info: ShardInfo;
  state: 'waiting' | 'reading' | 'done';
  /** Set by start() when the mapping is new: where the shard starts (StartingPosition). */
  initial?: ShardPosition;
  /** Where to read from next instead of the checkpoint (the checkpoint's records have expired). */
  restart?: ShardPosition;
  /** Counts reads that returned nothing, for drained(). */
  emptyReads: number;
  worker?: Promise<void>;
}

type Outcome = { kind: 'ok' } | { kind: 'error'; message: string; errorType: string } | { kind: 'partial'; index: number };

export class StreamPoller {
  private readonly shards = new Map<string, ShardState>();
  private readonly controller = new AbortController();
  private readonly checkpoints: Checkpoints;
  /** Set by stop(): finish what is in flight, start nothing new. */
  private stopping = false;
  private readonly pollIntervalMs: number;
  private readonly shardRefreshMs: number;
  private readonly retryDelayMs: (retry: number) => number;
  private readonly now: () => number;
  private loop?: Promise<void>;
  private wake?: () => void;
  private invocations = 0;

  constructor(private readonly options: StreamPollerOptions) {
    for (const [i, pattern] of options.mapping.filters.entries()) checkPattern(pattern, `${options.functionName} filter ${i + 1}`);
    if (!(options.mapping.batchSize >= 1)) throw new Error(`${options.functionName}: BatchSize must be at least 1`);
    this.checkpoints = options.checkpoints ?? new MemoryCheckpoints();
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    this.shardRefreshMs = options.shardRefreshMs ?? 2000;
    this.retryDelayMs = options.retryDelayMs ?? ((retry) => Math.min(100 * 2 ** (retry - 1), 1000));
    this.now = options.now ?? Date.now;
  }

  /** How many invocations of the function have ended (for tests and the sandbox's settle check). */
  get invocationCount(): number {
    return this.invocations;
  }

  /**
   * Reads the shards and takes the starting positions; resolves once every shard that can be read has its
   * iterator, so a write made after start() is delivered whatever the StartingPosition (LATEST included).
   */
  async start(): Promise<void> {
    if (this.loop) throw new Error('the poller is already started');
    const created = this.checkpoints.created;
    const shards = await this.options.source.shards(this.options.streamArn, this.controller.signal);
    for (const info of shards) {
      const state: ShardState = { info, state: 'waiting', emptyReads: 0 };
      if (!created) {
        // The mapping is new: TRIM_HORIZON reads every shard from its beginning; LATEST reads only what comes next,
        // in the shards still open (a closed shard has nothing new).
        if (this.options.mapping.startingPosition === 'LATEST') {
          if (info.closed) {
            state.state = 'done';
            this.checkpoints.set(info.shardId, SHARD_END);
          } else state.initial = { type: 'LATEST' };
        } else state.initial = { type: 'TRIM_HORIZON' };
      }
      this.shards.set(info.shardId, state);
    }
    // Every open shard starts now (with LATEST, their closed parents were marked done above), so each position is
    // taken before start() returns.
    await Promise.all(this.schedule(true));
    this.checkpoints.markCreated();
    this.loop = this.refreshLoop();
  }

  /**
   * Stops reading and invoking. An invocation in flight gets a moment to finish, so that what it handled is
   * checkpointed (a Ctrl-C right after a lock does not announce it again at the next start); one still running
   * after that is abandoned, and its records are delivered again next time, as Lambda would.
   */
  async stop(graceMs = 2000): Promise<void> {
    this.stopping = true;
    this.wake?.();
    const workers = Promise.all([...this.shards.values()].map((s) => s.worker));
    await Promise.race([workers, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    this.controller.abort();
    this.wake?.();
    await this.loop;
    await Promise.all([...this.shards.values()].map((s) => s.worker));
  }

  /**
   * Resolves once every shard being read has come back empty from a read that started after this call: what was
   * written before it has been delivered (or sent to the failure destination).
   */
  async drained(timeoutMs = 30_000): Promise<void> {
    const marks = new Map([...this.shards].map(([id, s]) => [id, s.emptyReads]));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reading = [...this.shards].filter(([, s]) => s.state === 'reading');
      // Two more empty reads: the first may have started before this call.
      if (reading.every(([id, s]) => s.emptyReads >= (marks.get(id) ?? 0) + 2)) return;
      if (this.controller.signal.aborted) return;
      if (Date.now() > deadline) throw new Error(`${this.options.functionName}: the stream was not drained within ${timeoutMs} ms`);
      await sleep(20);
    }
  }

  private async refreshLoop(): Promise<void> {
    const signal = this.controller.signal;
    while (!signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.shardRefreshMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (signal.aborted) return;
      try {
        for (const info of await this.options.source.shards(this.options.streamArn, signal)) {
          // A shard found after the mapping exists is read from its beginning, whatever the StartingPosition.
          if (!this.shards.has(info.shardId)) this.shards.set(info.shardId, { info, state: 'waiting', emptyReads: 0 });
        }
        // Later shards keep trying on their own; their positioning is not awaited.
        for (const positioned of this.schedule(false)) positioned.catch(() => undefined);
      } catch (error) {
        if (!signal.aborted) this.options.onError?.(error as Error);
      }
    }
  }

  /**
   * Starts the shards whose parent is done (or gone); returns a promise per started shard, settled once it is
   * positioned (rejected when its first iterator cannot be had).
   */
  private schedule(failFast: boolean): Array<Promise<void>> {
    const positioned: Array<Promise<void>> = [];
    for (let changed = true; changed;) {
      changed = false;
      for (const shard of this.shards.values()) {
        if (shard.state !== 'waiting') continue;
        const parent = shard.info.parentShardId === undefined ? undefined : this.shards.get(shard.info.parentShardId);
        if (parent !== undefined && parent.state !== 'done') continue;
        if (this.checkpoints.get(shard.info.shardId) === SHARD_END) {
          shard.state = 'done';
          changed = true;
          continue;
        }
        shard.state = 'reading';
        positioned.push(
          new Promise<void>((resolve, reject) => {
            shard.worker = this.read(shard, { resolve, reject }, failFast).then(resolve, reject);
          }),
        );
      }
    }
    return positioned;
  }

  private position(shard: ShardState): ShardPosition {
    if (shard.restart !== undefined) return shard.restart;
    const checkpoint = this.checkpoints.get(shard.info.shardId);
    if (checkpoint !== undefined && checkpoint !== SHARD_END) return { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: checkpoint };
    return shard.initial ?? { type: 'TRIM_HORIZON' };
  }

  private async read(shard: ShardState, positioned: { resolve(): void; reject(error: Error): void }, failFast: boolean): Promise<void> {
    const { source, streamArn } = this.options;
    const signal = this.controller.signal;
    const id = shard.info.shardId;
    let iterator: string | undefined;
    let first = true;
    while (!signal.aborted) {
      try {
        if (iterator === undefined) {
          iterator = await source.iterator(streamArn, id, this.position(shard), signal);
          shard.restart = undefined;
          // A LATEST position is taken now; later iterators for this shard continue from what was handled.
          positioned.resolve();
          first = false;
        }
        if (this.stopping) return;
        const page = await source.read(streamArn, iterator, signal);
        if (page.records.length > 0) {
          if (!(await this.deliver(id, page.records))) return;
          this.checkpoints.set(id, page.records[page.records.length - 1].dynamodb!.SequenceNumber!);
        }
        if (page.next === undefined) {
          shard.state = 'done';
          this.checkpoints.set(id, SHARD_END);
          this.wake?.();
          return;
        }
        iterator = page.next;
        if (page.records.length === 0) {
          shard.emptyReads++;
          await sleep(this.pollIntervalMs, signal);
        }
      } catch (error) {
        if (signal.aborted) return;
        if (first && failFast) {
          // The mapping cannot take its position: start() fails rather than run without it.
          shard.state = 'done';
          positioned.reject(error as Error);
          return;
        }
        const name = (error as Error).name;
        iterator = undefined;
        if (name === 'ExpiredIteratorException') continue;
        if (name === 'TrimmedDataAccessException') {
          // The checkpoint is older than the stream's retention: what is left starts at the trim horizon.
          this.options.onError?.(new Error(`${this.options.functionName}: records of shard ${id} expired before they were read`));
          shard.restart = { type: 'TRIM_HORIZON' };
          continue;
        }
        this.options.onError?.(error as Error);
        if (name === 'ResourceNotFoundException') {
          // The stream is gone (the table was deleted or its stream turned off).
          shard.state = 'done';
          return;
        }
        await sleep(1000, signal);
      }
    }
  }

  /**
   * Delivers one read's records to the function: filtered, in batches, with Lambda's failure handling. Returns
   * false when the poller stopped before they were all handled (they will be read again).
   */
  private async deliver(shardId: string, records: DynamoDBRecord[]): Promise<boolean> {
    const { mapping } = this.options;
    const signal = this.controller.signal;
    const pending = records.filter((record) => matchesFilters(mapping.filters, record));
    // The sizes of the next batches when a failed batch was bisected; otherwise BatchSize.
    const plan: number[] = [];
    let retries = 0;
    let invokes = 0;
    const handled = (count: number) => {
      const done = pending.splice(0, count);
      if (done.length > 0) this.checkpoints.set(shardId, done[done.length - 1].dynamodb!.SequenceNumber!);
    };
    const discard = async (count: number, condition: OnFailureRecord['requestContext']['condition'], functionError?: string) => {
      await this.options.onFailure(this.failureRecord(shardId, pending.slice(0, count), condition, invokes, functionError));
      handled(count);
      plan.splice(0);
      retries = 0;
      invokes = 0;
    };

    while (pending.length > 0) {
      if (signal.aborted || this.stopping) return false;
      if (mapping.maximumRecordAgeInSeconds >= 0) {
        const limit = this.now() / 1000 - mapping.maximumRecordAgeInSeconds;
        const expired = pending.findIndex((record) => (record.dynamodb?.ApproximateCreationDateTime ?? Infinity) >= limit);
        const count = expired === -1 ? pending.length : expired;
        if (count > 0) {
          await discard(count, 'RecordAgeExceeded');
          continue;
        }
      }
      const size = Math.min(plan[0] ?? mapping.batchSize, pending.length);
      const batch = pending.slice(0, size);
      invokes++;
      const outcome = await this.invoke(batch, signal);
      if (signal.aborted) return false;
      if (outcome.kind === 'ok') {
        handled(size);
        plan.shift();
        retries = 0;
        invokes = 0;
        continue;
      }
      // As Lambda's runtime logs an error the handler threw ("Invoke Error").
      if (outcome.kind === 'error')
        this.options.onError?.(new Error(`invocation with ${size} records failed (${outcome.errorType}): ${outcome.message}`));
      let failing = size;
      if (outcome.kind === 'partial') {
        // Lambda resumes from the first reported record: those before it are done.
        handled(outcome.index);
        failing = size - outcome.index;
      } else if (mapping.bisectBatchOnFunctionError && size > 1) {
        // A failed invocation is split in two and each half retried; splitting does not count as a retry.
        plan.splice(0, 1, Math.ceil(size / 2), Math.floor(size / 2));
        continue;
      }
      retries++;
      if (mapping.maximumRetryAttempts >= 0 && retries > mapping.maximumRetryAttempts) {
        await discard(failing, 'RetryAttemptsExhausted', outcome.kind === 'error' ? outcome.errorType : undefined);
        continue;
      }
      plan.splice(0, 1, failing);
      await sleep(this.retryDelayMs(retries), signal);
    }
    return !signal.aborted;
  }

  private async invoke(batch: DynamoDBRecord[], signal: AbortSignal): Promise<Outcome> {
    try {
      return await this.outcomeOf(batch, signal);
    } finally {
      this.invocations++;
    }
  }

  private async outcomeOf(batch: DynamoDBRecord[], signal: AbortSignal): Promise<Outcome> {
    let response: unknown;
    try {
      response = await this.options.invoke({ Records: batch }, signal);
    } catch (error) {
      const e = error as Error;
      return { kind: 'error', message: e?.message ?? String(error), errorType: error instanceof FunctionError ? error.errorType : 'Unhandled' };
    }
    if (!this.options.mapping.reportBatchItemFailures) return { kind: 'ok' };
    const failures = (response as { batchItemFailures?: unknown } | null | undefined)?.batchItemFailures;
    if (failures === undefined || failures === null || (Array.isArray(failures) && failures.length === 0)) return { kind: 'ok' };
    if (!Array.isArray(failures)) return { kind: 'error', message: 'batchItemFailures is not a list', errorType: 'InvalidResponse' };
    // An identifier that is empty, missing or names no record of the batch fails the whole batch, as in Lambda.
    let first = Infinity;
    for (const failure of failures) {
      const identifier = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
      const index = typeof identifier === 'string' && identifier !== '' ? batch.findIndex((r) => r.dynamodb?.SequenceNumber === identifier) : -1;
      if (index === -1) return { kind: 'partial', index: 0 };
      first = Math.min(first, index);
    }
    return { kind: 'partial', index: first };
  }

  private failureRecord(
    shardId: string,
    records: DynamoDBRecord[],
    condition: OnFailureRecord['requestContext']['condition'],
    invokes: number,
    functionError?: string,
  ): OnFailureRecord {
    const arrival = (record: DynamoDBRecord) =>
      new Date((record.dynamodb?.ApproximateCreationDateTime ?? 0) * 1000).toISOString().replace('.000Z', 'Z');
    return {
      requestContext: { requestId: randomUUID(), functionArn: this.options.functionName, condition, approximateInvokeCount: invokes },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', ...(functionError === undefined ? {} : { functionError }) },
      version: '1.0',
      timestamp: new Date(this.now()).toISOString(),
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: records[0].dynamodb!.SequenceNumber!,
        endSequenceNumber: records[records.length - 1].dynamodb!.SequenceNumber!,
        approximateArrivalOfFirstRecord: arrival(records[0]),
        approximateArrivalOfLastRecord: arrival(records[records.length - 1]),
        batchSize: records.length,
        streamArn: this.options.streamArn,
      },
    };
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
