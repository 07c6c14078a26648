import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { PARTITION_KEY, TTL_ATTRIBUTE } from './contract';
import {
  BUCKET_ATTRIBUTE,
  DEVICE_ITEM_KEEP_MS,
  type DeviceBucket,
  OPERATOR_LOCKED_UNTIL,
  REVOKED_BEFORE,
  bucketAttribute,
  deviceState,
  isRevoked,
} from './device-bucket';
import { type ItemOp, OP_ATTRIBUTE, SUB_ATTRIBUTE } from './outbox';
import {
  type LockoutState,
  PERMANENT_LOCK_UNTIL,
  type RateLimitPolicy,
  clearMemoryMs,
  expiryEpochSeconds,
  streakMemoryMs,
  windowCutoff,
} from './policy';

/**
 * Item layout (one item per identity key):
 *   pk          string  "<scope>#<sha256>"   partition key
 *   failures    number  attempts counted in the current window
 *   windowStart number  epoch ms
 *   lockedUntil number  epoch ms, 0 when never locked
 *   lockouts    number  lockouts since the last successful sign-in
 *   rev         number  bumped by every write; the compare-and-set token
 *   clearedAt   number  epoch ms of the last password reset or operator unlock, while it matters (policy.ts)
 *   op          string  what the last write did, for the stream's consumers (outbox.ts)
 *   sub         string  a known user's sub, written with a lock or a clear (outbox.ts); absent for unknown names
 *   expiresAt   number  epoch seconds, the table's TTL attribute (absent on permanent locks)
 *
 * Every write is a single conditional request. There is no read-then-write anywhere: when a condition
 * fails, DynamoDB returns the item it saw (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), and that is
 * what the next decision is made from.
 */
export { PARTITION_KEY, TTL_ATTRIBUTE } from './contract';

type Conditional<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly observed: LockoutState | undefined };
/** A conditional write either lands (`value` is the state written) or reports the state that refused it. */
export type WriteResult = Conditional<LockoutState>;

export interface RequestOptions {
  /** Aborts the request when the decision's time budget runs out. */
  readonly abortSignal?: AbortSignal;
}

/** What a write records about the identity beyond its counters (outbox.ts), and which bucket of the item it counts in. */
export interface ItemFacts {
  /** A known user's sub; absent for an unknown name. */
  readonly sub?: string;
  /** A device token's bucket in the user's devices item (device-bucket.ts); absent for the anonymous bucket. */
  readonly device?: DeviceBucket;
}

/** The devices item revokes the token a device attempt carried: the attempt counts in the anonymous bucket instead. */
export class DeviceTokenRevokedError extends Error {
  override readonly name = 'DeviceTokenRevokedError';
  constructor() {
    super('device token revoked by an operator');
  }
}

/** The store as the engine uses it; `LockoutStore` on DynamoDB, or a model of it in property tests. */
export type AttemptStore = Pick<
  LockoutStore,
  | 'countAttempt'
  | 'compareAndSet'
  | 'clearUnlessLocked'
  | 'clearAfterPasswordReset'
  | 'clearDevice'
  | 'clearDevices'
  | 'pruneDevices'
  | 'requestCount'
>;

export class LockoutStore {
  /** DynamoDB requests sent by this store, for benchmarks and the decision log. */
  requestCount = 0;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /**
   * The fast path: count one attempt when the identity is unlocked and inside its window with room left
   * (or has no item yet). One atomic UpdateItem; in the steady state it is the only request of a decision.
   */
  async countAttempt(key: string, now: number, policy: RateLimitPolicy, options: RequestOptions = {}, facts: ItemFacts = {}): Promise<WriteResult> {
    if (facts.device !== undefined) return this.countDeviceAttempt(key, facts.device, now, policy, options, facts.sub);
    // A new item counts one window. An existing one keeps its TTL: this write never moves its window start, and
    // whatever set the TTL (a lock, a clear, a new window) already covered the window, streak or clear it holds.
    const expiresAt = expiryEpochSeconds({ failures: 0, windowStart: now, lockedUntil: 0, lockouts: 0, rev: 0 }, policy);
    const command = new UpdateCommand({
      TableName: this.tableName,
      Key: { [PARTITION_KEY]: key },
      UpdateExpression:
        'SET failures = if_not_exists(failures, :zero) + :one, windowStart = if_not_exists(windowStart, :now), ' +
        'lockedUntil = if_not_exists(lockedUntil, :zero), lockouts = if_not_exists(lockouts, :zero), ' +
        'rev = if_not_exists(rev, :zero) + :one, #ttl = if_not_exists(#ttl, :ttl), #op = :count',
      ConditionExpression: 'attribute_not_exists(#pk) OR (lockedUntil <= :now AND windowStart > :cutoff AND failures < :max)',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#ttl': TTL_ATTRIBUTE, '#op': OP_ATTRIBUTE },
      ExpressionAttributeValues: {
        ':zero': 0,
        ':one': 1,
        ':now': now,
        ':cutoff': windowCutoff(now, policy),
        ':max': policy.maxAttempts,
        ':ttl': expiresAt,
        ':count': 'count' satisfies ItemOp,
      },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    return this.conditional(async () => {
      const output = await this.client.send(command, options);
      // ALL_NEW after a successful update always carries the item.
      return parseState(output.Attributes ?? {});
    });
  }

  /**
   * The slow path: replace the item with `next` only if it is still at the revision the decision was made
   * from. Losing this race means another attempt changed the identity in between.
   */
  async compareAndSet(
    key: string,
    observed: LockoutState | undefined,
    next: LockoutState,
    policy: RateLimitPolicy,
    options: RequestOptions = {},
    facts: ItemFacts = {},
  ): Promise<WriteResult> {
    if (facts.device !== undefined) return this.compareAndSetDevice(key, facts.device, observed, next, options, facts.sub);
    const expiresAt = expiryEpochSeconds(next, policy);
    // A longer lock than the one before is a lock starting: the one write the stream's consumers announce.
    const op: ItemOp = next.lockedUntil > (observed?.lockedUntil ?? 0) ? 'lock' : 'count';
    const item: Record<string, unknown> = { [PARTITION_KEY]: key, ...next, [OP_ATTRIBUTE]: op };
    if (facts.sub !== undefined) item[SUB_ATTRIBUTE] = facts.sub;
    if (expiresAt !== undefined) item[TTL_ATTRIBUTE] = expiresAt;
    const command = new PutCommand({
      TableName: this.tableName,
      Item: item,
      ...revisionCondition(observed),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    return this.conditional(async () => {
      await this.client.send(command, options);
      return next;
    });
  }

  /**
   * The fast path for a device bucket (device-bucket.ts): one UpdateItem on the user's devices item that counts
   * the attempt when the token is not revoked and the bucket is new, or unlocked, in its window, with room left and
   * written since the item's last clear. Refused for a revoked token with DeviceTokenRevokedError.
   */
  private async countDeviceAttempt(
    key: string,
    device: DeviceBucket,
    now: number,
    policy: RateLimitPolicy,
    options: RequestOptions,
    sub: string | undefined,
  ): Promise<WriteResult> {
    const names = deviceNames(device.did);
    const command = new UpdateCommand({
      TableName: this.tableName,
      Key: { [PARTITION_KEY]: key },
      UpdateExpression:
        'SET #f = if_not_exists(#f, :zero) + :one, #w = if_not_exists(#w, :now), #l = if_not_exists(#l, :zero), ' +
        '#n = if_not_exists(#n, :zero), #r = if_not_exists(#r, :zero) + :one, #a = :now, #ttl = :ttl, #op = :count' +
        (sub === undefined ? '' : ', #sub = :sub'),
      ConditionExpression:
        '(attribute_not_exists(#revoked) OR #revoked < :iat) AND (attribute_not_exists(#operatorLock) OR #operatorLock <= :now) AND (attribute_not_exists(#r) OR ' +
        '(#l <= :now AND #w > :cutoff AND #f < :max AND (attribute_not_exists(clearedAt) OR #a > clearedAt)))',
      ExpressionAttributeNames: {
        ...names,
        '#revoked': REVOKED_BEFORE,
        '#operatorLock': OPERATOR_LOCKED_UNTIL,
        '#ttl': TTL_ATTRIBUTE,
        '#op': OP_ATTRIBUTE,
        ...subName(sub),
      },
      ExpressionAttributeValues: {
        ':zero': 0,
        ':one': 1,
        ':now': now,
        ':iat': device.issuedAt,
        ':cutoff': windowCutoff(now, policy),
        ':max': policy.maxAttempts,
        ':ttl': deviceItemTtl(now),
        ':count': 'count' satisfies ItemOp,
        ...subValue(sub),
      },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    return this.deviceConditional(device, async () => (await this.client.send(command, options)).Attributes ?? {});
  }

  /** The slow path for a device bucket: writes its next state if the bucket is still at the observed revision. */
  private async compareAndSetDevice(
    key: string,
    device: DeviceBucket,
    observed: LockoutState | undefined,
    next: LockoutState,
    options: RequestOptions,
    sub: string | undefined,
  ): Promise<WriteResult> {
    const locking = next.lockedUntil > (observed?.lockedUntil ?? 0);
    const command = new UpdateCommand({
      TableName: this.tableName,
      Key: { [PARTITION_KEY]: key },
      UpdateExpression:
        'SET #f = :f, #w = :w, #l = :l, #n = :n, #r = :r, #a = :now, #ttl = :ttl, #op = :op' +
        (sub === undefined ? '' : ', #sub = :sub') +
        // The announcer reads a lock from the item's top level (outbox.ts).
        (locking ? ', lockedUntil = :l, lockouts = :n, #bucket = :device' : ''),
      // Revision 0 is a bucket not written yet (device-bucket.ts).
      ConditionExpression:
        '(attribute_not_exists(#revoked) OR #revoked < :iat) AND (attribute_not_exists(#operatorLock) OR #operatorLock <= :now) AND ' +
        (observed === undefined || observed.rev === 0 ? 'attribute_not_exists(#r)' : '#r = :rev'),
      ExpressionAttributeNames: {
        ...deviceNames(device.did),
        '#revoked': REVOKED_BEFORE,
        '#operatorLock': OPERATOR_LOCKED_UNTIL,
        '#ttl': TTL_ATTRIBUTE,
        '#op': OP_ATTRIBUTE,
        ...subName(sub),
        ...(locking ? { '#bucket': BUCKET_ATTRIBUTE } : {}),
      },
      ExpressionAttributeValues: {
        ':f': next.failures,
        ':w': next.windowStart,
        ':l': next.lockedUntil,
        ':n': next.lockouts,
        ':r': next.rev,
        ':now': device.decidedAt,
        ':iat': device.issuedAt,
        ':ttl': deviceItemTtl(device.decidedAt),
        ':op': (locking ? 'lock' : 'count') satisfies ItemOp,
        ...subValue(sub),
        ...(observed === undefined || observed.rev === 0 ? {} : { ':rev': observed.rev }),
        ...(locking ? { ':device': 'device' } : {}),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    return this.deviceConditional(
      device,
      async () => {
        await this.client.send(command, options);
        return undefined;
      },
      next,
    );
  }

  /**
   * A successful sign-in with a device token removes that token's bucket, unless it is locked (a lock written since
   * the item's last clear): one UpdateItem on the devices item. The anonymous bucket is not touched.
   */
  async clearDevice(key: string, did: string, now: number, options: RequestOptions = {}): Promise<'cleared' | 'locked' | 'absent'> {
    const names = deviceNames(did);
    const command = new UpdateCommand({
      TableName: this.tableName,
      Key: { [PARTITION_KEY]: key },
      UpdateExpression: 'REMOVE #f, #w, #l, #n, #r, #a',
      ConditionExpression: 'attribute_exists(#r) AND (#l <= :now OR (attribute_exists(clearedAt) AND #a <= clearedAt))',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':now': now },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    this.requestCount += 1;
    try {
      await this.client.send(command, options);
      return 'cleared';
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
      const raw = (error as ConditionalCheckFailedException).Item;
      return raw !== undefined && deviceState(unmarshall(raw), did) !== undefined ? 'locked' : 'absent';
    }
  }

  /**
   * A password reset or an operator unlock of every device bucket of a user: one UpdateItem that marks the item
   * cleared now, which voids every bucket written before (device-bucket.ts); a reset also revokes the tokens issued
   * before it. `op` tells the stream's consumers. 'permanent': a permanent operator lock kept it unwritten.
   */
  async clearDevices(
    key: string,
    now: number,
    op: Extract<ItemOp, 'reset' | 'operator-unlock'>,
    permanentToo: boolean,
    options: RequestOptions = {},
    facts: ItemFacts = {},
  ): Promise<'cleared' | 'permanent'> {
    this.requestCount += 1;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PARTITION_KEY]: key },
          // lockedUntil is the announcer's copy of the last device lock (device-bucket.ts): none is left. A password
          // reset also revokes every token issued before it (as a new password signs other sessions out): whoever
          // held one, and the old password, must sign in again.
          UpdateExpression:
            'SET clearedAt = :now, lockedUntil = :zero, #ttl = :ttl, #op = :op, #bucket = :device' +
            `${op === 'reset' ? ', #revoked = :now' : ''}${facts.sub === undefined ? '' : ', #sub = :sub'} REMOVE #operatorLock`,
          // Written even where there is no item yet: an instance that locked a device bucket alone during an outage
          // must not write that lock back (as for the anonymous item). A permanent operator lock is lifted only with
          // `permanentToo`; else nothing is written (the account stays locked for every device).
          ...(permanentToo ? {} : { ConditionExpression: 'attribute_not_exists(#operatorLock) OR #operatorLock < :permanent' }),
          ExpressionAttributeNames: {
            '#ttl': TTL_ATTRIBUTE,
            '#op': OP_ATTRIBUTE,
            '#bucket': BUCKET_ATTRIBUTE,
            '#operatorLock': OPERATOR_LOCKED_UNTIL,
            ...(op === 'reset' ? { '#revoked': REVOKED_BEFORE } : {}),
            ...subName(facts.sub),
          },
          ExpressionAttributeValues: {
            ':now': now,
            ':zero': 0,
            ':ttl': deviceItemTtl(now),
            ':op': op,
            ':device': 'device',
            ...subValue(facts.sub),
            ...(permanentToo ? {} : { ':permanent': PERMANENT_LOCK_UNTIL }),
          },
        }),
        options,
      );
      return 'cleared';
    } catch (error) {
      if (isConditionalFailure(error)) return 'permanent';
      throw error;
    }
  }

  /**
   * Removes the device buckets that no longer matter from a user's devices item: not locked for longer than the
   * streak is remembered, and not written within the window (or voided by a clear). A bucket whose token is never
   * used again (a sign-in whose success signal saw no token, a device given up) would otherwise stay for as long as
   * the item lives. Runs at a sign-in (pre token generation), never in a decision: a read, and a write only when
   * there is something to remove, conditioned on each removed bucket being unchanged since the read. At most
   * `limit` buckets at a time. Returns how many it removed.
   */
  async pruneDevices(key: string, now: number, policy: RateLimitPolicy, options: RequestOptions = {}, limit = 25): Promise<number> {
    this.requestCount += 1;
    const item = (await this.client.send(new GetCommand({ TableName: this.tableName, Key: { [PARTITION_KEY]: key } }), options)).Item;
    if (item === undefined) return 0;
    const stale: Array<{ did: string; rev: number }> = [];
    for (const name of Object.keys(item)) {
      if (!name.endsWith('.r') || stale.length >= limit) continue;
      const did = name.slice(0, -2);
      const state = deviceState(item, did);
      const writtenAt = item[bucketAttribute(did, 'a')];
      const voided = state !== undefined && state.failures === 0 && state.windowStart === 0;
      const quiet =
        typeof writtenAt === 'number' && writtenAt <= windowCutoff(now, policy) && (state?.lockedUntil ?? 0) + streakMemoryMs(policy) <= now;
      if (voided || quiet) stale.push({ did, rev: item[name] as number });
    }
    if (stale.length === 0) return 0;
    const names: Record<string, string> = {};
    const values: Record<string, number> = {};
    const removed: string[] = [];
    const unchanged: string[] = [];
    stale.forEach(({ did, rev }, i) => {
      for (const part of ['f', 'w', 'l', 'n', 'r', 'a'] as const) {
        names[`#${part}${i}`] = bucketAttribute(did, part);
        removed.push(`#${part}${i}`);
      }
      values[`:r${i}`] = rev;
      unchanged.push(`#r${i} = :r${i}`);
    });
    this.requestCount += 1;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PARTITION_KEY]: key },
          UpdateExpression: `REMOVE ${removed.join(', ')}`,
          ConditionExpression: unchanged.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
        options,
      );
      return stale.length;
    } catch (error) {
      // A bucket written since the read: the next sign-in tries again.
      if (isConditionalFailure(error)) return 0;
      throw error;
    }
  }

  /**
   * A successful sign-in forgets failures and the lockout streak by deleting the item, so the user's next
   * sign-in is a first attempt on the fast path. The condition keeps any active lock in place, and an item that
   * still remembers a recent clear (a reset or an unlock, see `clearedAt`): that one is zeroed instead, in a
   * second request that only identities reset within the last maximum lockout ever make.
   */
  async clearUnlessLocked(key: string, now: number, policy: RateLimitPolicy, options: RequestOptions = {}): Promise<'cleared' | 'locked' | 'absent'> {
    const command = new DeleteCommand({
      TableName: this.tableName,
      Key: { [PARTITION_KEY]: key },
      ConditionExpression: 'attribute_exists(#pk) AND lockedUntil <= :now AND (attribute_not_exists(clearedAt) OR clearedAt <= :forgotten)',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY },
      ExpressionAttributeValues: { ':now': now, ':forgotten': now - clearMemoryMs(policy) },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    const result = await this.conditional(async () => {
      await this.client.send(command, options);
    });
    if (result.ok) return 'cleared';
    if (result.observed === undefined) return 'absent';
    if (result.observed.lockedUntil > now) return 'locked';
    // The zeroed item opens a window now and still remembers the clear: its TTL covers both (a later count keeps it).
    const zeroedState: LockoutState = { ...result.observed, failures: 0, lockouts: 0, windowStart: now };
    const zeroed = await this.conditional(async () => {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PARTITION_KEY]: key },
          UpdateExpression: 'SET failures = :zero, lockouts = :zero, windowStart = :now, rev = rev + :one, #ttl = :ttl, #op = :op',
          ConditionExpression: 'attribute_exists(#pk) AND lockedUntil <= :now',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#ttl': TTL_ATTRIBUTE, '#op': OP_ATTRIBUTE },
          ExpressionAttributeValues: {
            ':zero': 0,
            ':one': 1,
            ':now': now,
            ':ttl': expiryEpochSeconds(zeroedState, policy),
            ':op': 'success' satisfies ItemOp,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
        options,
      );
    });
    if (zeroed.ok) return 'cleared';
    return zeroed.observed === undefined ? 'absent' : 'locked';
  }

  /**
   * A confirmed password reset: forgets failures, the streak and a temporary lock (a permanent one too when
   * `permanentToo`) in one conditional UpdateItem that leaves `clearedAt` behind, even where there was no item:
   * an instance that locked the identity alone during a store outage must not write that lock back afterwards.
   * Reports the state it replaced, or why it replaced nothing.
   */
  async clearAfterPasswordReset(
    key: string,
    permanentToo: boolean,
    now: number,
    policy: RateLimitPolicy,
    options: RequestOptions = {},
    facts: ItemFacts = {},
  ): Promise<{ readonly outcome: 'cleared'; readonly removed: LockoutState } | { readonly outcome: 'absent' | 'permanent' }> {
    const cleared: LockoutState = { failures: 0, windowStart: now, lockedUntil: 0, lockouts: 0, rev: 0, clearedAt: now };
    const command = new UpdateCommand({
      TableName: this.tableName,
      Key: { [PARTITION_KEY]: key },
      UpdateExpression:
        'SET failures = :zero, windowStart = :now, lockedUntil = :zero, lockouts = :zero, ' +
        `rev = if_not_exists(rev, :zero) + :one, clearedAt = :now, #ttl = :ttl, #op = :op${facts.sub === undefined ? '' : ', #sub = :sub'}`,
      ...(permanentToo ? {} : { ConditionExpression: 'attribute_not_exists(#pk) OR lockedUntil < :permanent' }),
      ExpressionAttributeNames: {
        '#ttl': TTL_ATTRIBUTE,
        '#op': OP_ATTRIBUTE,
        ...(facts.sub === undefined ? {} : { '#sub': SUB_ATTRIBUTE }),
        ...(permanentToo ? {} : { '#pk': PARTITION_KEY }),
      },
      ExpressionAttributeValues: {
        ':zero': 0,
        ':one': 1,
        ':now': now,
        ':ttl': expiryEpochSeconds(cleared, policy),
        ':op': 'reset' satisfies ItemOp,
        ...(facts.sub === undefined ? {} : { ':sub': facts.sub }),
        ...(permanentToo ? {} : { ':permanent': PERMANENT_LOCK_UNTIL }),
      },
      ReturnValues: 'ALL_OLD',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    const result = await this.conditional(async () => (await this.client.send(command, options)).Attributes);
    if (!result.ok) return { outcome: 'permanent' };
    return result.value === undefined ? { outcome: 'absent' } : { outcome: 'cleared', removed: parseState(result.value) };
  }

  /**
   * A device bucket write: the state written (from the item DynamoDB returns, or `written`), or the bucket's state
   * in the item that refused it. A refusal by the item's revocation throws DeviceTokenRevokedError.
   */
  private async deviceConditional(
    device: DeviceBucket,
    send: () => Promise<Record<string, unknown> | undefined>,
    written?: LockoutState,
  ): Promise<WriteResult> {
    this.requestCount += 1;
    try {
      const item = await send();
      // The fast path's ALL_NEW always holds the bucket it just wrote.
      return { ok: true, value: written ?? (deviceState(item ?? {}, device.did) as LockoutState) };
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
      const raw = (error as ConditionalCheckFailedException).Item;
      const item = raw === undefined ? {} : unmarshall(raw);
      if (isRevoked(item, device.issuedAt)) throw new DeviceTokenRevokedError();
      return { ok: false, observed: deviceState(item, device.did) };
    }
  }

  private async conditional<T>(send: () => Promise<T>): Promise<Conditional<T>> {
    this.requestCount += 1;
    try {
      return { ok: true, value: await send() };
    } catch (error) {
      if (isConditionalFailure(error)) {
        const raw = (error as ConditionalCheckFailedException).Item;
        return { ok: false, observed: raw ? parseState(unmarshall(raw)) : undefined };
      }
      throw error;
    }
  }
}

function isConditionalFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as Error)?.name === 'ConditionalCheckFailedException';
}

function deviceNames(did: string): Record<string, string> {
  return {
    '#f': bucketAttribute(did, 'f'),
    '#w': bucketAttribute(did, 'w'),
    '#l': bucketAttribute(did, 'l'),
    '#n': bucketAttribute(did, 'n'),
    '#r': bucketAttribute(did, 'r'),
    '#a': bucketAttribute(did, 'a'),
  };
}

const subName = (sub: string | undefined): Record<string, string> => (sub === undefined ? {} : { '#sub': SUB_ATTRIBUTE });
const subValue = (sub: string | undefined): Record<string, string> => (sub === undefined ? {} : { ':sub': sub });

function deviceItemTtl(now: number): number {
  return Math.ceil((now + DEVICE_ITEM_KEEP_MS) / 1000);
}

function revisionCondition(observed: LockoutState | undefined): {
  ConditionExpression: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
} {
  // DynamoDB rejects declared names or values that the expression does not use, so each branch declares its own.
  if (observed === undefined) return { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PARTITION_KEY } };
  const values = { ':rev': observed.rev };
  // rev 0 means the item was written without one (by hand or an older version): accept a missing attribute.
  if (observed.rev === 0) {
    return {
      ConditionExpression: 'attribute_exists(#pk) AND (attribute_not_exists(rev) OR rev = :rev)',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY },
      ExpressionAttributeValues: values,
    };
  }
  return { ConditionExpression: 'rev = :rev', ExpressionAttributeValues: values };
}

/** Reads an item defensively: a missing or non-numeric counter is 0, which the policy treats as expired. */
export function parseState(item: Record<string, unknown>): LockoutState {
  const num = (name: string): number => {
    const value = item[name];
    return typeof value === 'number' && Number.isFinite(value) ? value : 0;
  };
  return {
    failures: num('failures'),
    windowStart: num('windowStart'),
    lockedUntil: num('lockedUntil'),
    lockouts: num('lockouts'),
    rev: num('rev'),
    ...(typeof item.clearedAt === 'number' && Number.isFinite(item.clearedAt) ? { clearedAt: item.clearedAt } : {}),
  };
}

/**
 * Sockets one process keeps open to DynamoDB. A Lambda instance handles one invocation at a time and needs one;
 * the local sandbox runs every invocation in one process. Measured there (200 concurrent decisions on one
 * identity, DynamoDB Local): 16 sockets finished in 0.7-0.8 s without an error, 50 (the SDK's default) or 1,024
 * took 1.2-1.5 s and timed some requests out, because opening many connections at once costs more than queueing
 * on a few kept-alive ones: the store serves them one by one anyway.
 */
export const MAX_SOCKETS = 16;

/**
 * A DynamoDB client whose every request fits the decision budget; the caller's abort signal bounds the whole
 * decision. The SDK starts a try's connection and request timers when the request is created, so the time a
 * request waits for a socket counts against them: each try gets two thirds of the budget, enough to wait out
 * a queue, and a fast failure (throttling, a reset connection) leaves time for one retry. Sockets are kept
 * alive between invocations (no TLS handshake on a warm sign-in). The endpoint comes from the SDK's own
 * resolution, so `AWS_ENDPOINT_URL_DYNAMODB` points it at DynamoDB Local.
 */
export function createDocumentClient(budgetMs: number): DynamoDBDocumentClient {
  const agent = { keepAlive: true, maxSockets: MAX_SOCKETS };
  const tryMs = Math.ceil((budgetMs * 2) / 3);
  const client = new DynamoDBClient({
    maxAttempts: 2,
    requestHandler: {
      connectionTimeout: tryMs,
      requestTimeout: tryMs,
      // Without throwOnRequestTimeout the handler only logs a warning and keeps waiting.
      throwOnRequestTimeout: true,
      httpAgent: agent,
      httpsAgent: agent,
    },
  });
  return DynamoDBDocumentClient.from(client);
}
