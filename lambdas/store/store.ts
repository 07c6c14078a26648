import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ATTEMPT_AT, AUTH_SESSION_MS, attemptAtOf } from './accounting';
import { PARTITION_KEY, TTL_ATTRIBUTE } from '../shared/contract';
import {
  BUCKET_ATTRIBUTE,
  DEVICES_ATTRIBUTE,
  type BucketAttribute,
  type DeviceBucket,
  MAX_DEVICES_PER_USER,
  OPEN_ATTRIBUTE,
  OPERATOR_LOCKED_UNTIL,
  REVOKED_BEFORE,
  bucketAttribute,
  deviceItemTtl,
  deviceState,
  isRevoked,
  openEntry,
  openEntryWindow,
  windowIndex,
} from '../devices/device-bucket';
import { type ItemOp, OP_ATTRIBUTE, SUB_ATTRIBUTE } from '../outbox/outbox';
import { type LockoutState, PERMANENT_LOCK_UNTIL, type RateLimitPolicy, expiryEpochSeconds, streakMemoryMs, windowCutoff } from '../policy/policy';

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
 *   attemptAt   number  epoch ms of the last counted attempt, kept by a success's clear (accounting.ts)
 *   expiresAt   number  epoch seconds, the table's TTL attribute (absent on permanent locks)
 *
 * Every write is a single conditional request. There is no read-then-write anywhere: when a condition
 * fails, DynamoDB returns the item it saw (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), and that is
 * what the next decision is made from.
 */
export { PARTITION_KEY, TTL_ATTRIBUTE } from '../shared/contract';

type Conditional<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      readonly observed: LockoutState | undefined;
      /** A device write's refusal: the item's `open` set as it was, which the slow path must replace unchanged. */
      readonly open?: readonly string[];
    };
/** What a success's clear did, and when its bucket last counted an attempt (accounting.ts). */
export interface ClearResult {
  readonly outcome: 'cleared' | 'locked' | 'absent';
  readonly attemptAt?: number;
}

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
  /** The time of the attempt a slow-path write counts (`ATTEMPT_AT`), for the accounting of the success that may follow. */
  readonly attemptAt?: number;
  /** A device token's bucket in the user's devices item (device-bucket.ts); absent for the anonymous bucket. */
  readonly device?: DeviceBucket;
}

/**
 * Why a device attempt does not count in its device's bucket, as the device write itself found (device-bucket.ts):
 * - revoked:      an operator or a password reset revoked the tokens issued before it
 * - superseded:   a newer token of the same device has been counted: this one no longer counts apart
 * - devices-full: the user's item holds MAX_DEVICES_PER_USER devices already
 * - window-full:  `maxOpen` other devices are counting in this window already
 * Each sends the attempt to the anonymous bucket, exactly as a token that is not valid.
 */
export type DeviceRefusal = 'revoked' | 'superseded' | 'devices-full' | 'window-full';

export class DeviceBucketRefusedError extends Error {
  override readonly name: string = 'DeviceBucketRefusedError';
  constructor(readonly reason: DeviceRefusal) {
    super(`device bucket refused: ${reason}`);
  }
}

/** The devices item revokes the token a device attempt carried: the attempt counts in the anonymous bucket instead. */
export class DeviceTokenRevokedError extends DeviceBucketRefusedError {
  override readonly name = 'DeviceTokenRevokedError';
  constructor() {
    super('revoked');
  }
}

/** The store as the engine uses it; `LockoutStore` on DynamoDB, or a model of it in property tests. */
export type AttemptStore = Pick<
  LockoutStore,
  | 'countAttempt'
  | 'compareAndSet'
  | 'clearUnlessLocked'
  | 'markUncounted'
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
        'rev = if_not_exists(rev, :zero) + :one, #ttl = if_not_exists(#ttl, :ttl), #op = :count, #at = :now',
      ConditionExpression: 'attribute_not_exists(#pk) OR (lockedUntil <= :now AND windowStart > :cutoff AND failures < :max)',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#ttl': TTL_ATTRIBUTE, '#op': OP_ATTRIBUTE, '#at': ATTEMPT_AT },
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
    const sent = await this.sendConditional(command, options);
    // ALL_NEW after a successful update always carries the item.
    return sent.ok ? { ok: true, value: parseState(sent.attributes ?? {}) } : refusedBy(sent.item);
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
    if (facts.device !== undefined) return this.compareAndSetDevice(key, facts.device, observed, next, policy, options, facts.sub);
    const expiresAt = expiryEpochSeconds(next, policy);
    // A longer lock than the one before is a lock starting: the one write the stream's consumers announce.
    const op: ItemOp = next.lockedUntil > (observed?.lockedUntil ?? 0) ? 'lock' : 'count';
    const item: Record<string, unknown> = { [PARTITION_KEY]: key, ...next, [OP_ATTRIBUTE]: op };
    if (facts.sub !== undefined) item[SUB_ATTRIBUTE] = facts.sub;
    if (facts.attemptAt !== undefined) item[ATTEMPT_AT] = facts.attemptAt;
    if (expiresAt !== undefined) item[TTL_ATTRIBUTE] = expiresAt;
    const command = new PutCommand({
      TableName: this.tableName,
      Item: item,
      ...revisionCondition(observed),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    const sent = await this.sendConditional(command, options);
    return sent.ok ? { ok: true, value: next } : refusedBy(sent.item);
  }

  /**
   * The fast path for a device bucket (device-bucket.ts): one UpdateItem on the user's devices item that counts
   * the attempt when the token is neither revoked nor superseded, the device has a place among the user's devices and
   * among those counting in this window, and its bucket is new, or unlocked, in its window, with room left and
   * written since the item's last clear. A refusal that sends the attempt elsewhere throws DeviceBucketRefusedError.
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
    const entry = openEntry(windowIndex(now, policy.windowMs), device.did);
    const command = new UpdateCommand({
      TableName: this.tableName,
      Key: { [PARTITION_KEY]: key },
      UpdateExpression:
        'SET #f = if_not_exists(#f, :zero) + :one, #w = if_not_exists(#w, :now), #l = if_not_exists(#l, :zero), ' +
        '#n = if_not_exists(#n, :zero), #r = if_not_exists(#r, :zero) + :one, #a = :now, #i = :iat, #ttl = :ttl, #op = :count' +
        (sub === undefined ? '' : ', #sub = :sub') +
        ' ADD #devices :didSet, #open :entrySet',
      ConditionExpression:
        `${DEVICE_PLACE_CONDITION} AND (contains(#open, :entry) OR attribute_not_exists(#open) OR size(#open) < :maxOpen) AND ` +
        '(attribute_not_exists(#r) OR (#l <= :now AND #w > :cutoff AND #f < :max AND (attribute_not_exists(clearedAt) OR #a > clearedAt)))',
      ExpressionAttributeNames: {
        ...names,
        ...DEVICE_ITEM_NAMES,
        '#ttl': TTL_ATTRIBUTE,
        '#op': OP_ATTRIBUTE,
        ...subName(sub),
      },
      ExpressionAttributeValues: {
        ...devicePlaceValues(device, now),
        ':zero': 0,
        ':one': 1,
        ':cutoff': windowCutoff(now, policy),
        ':max': policy.maxAttempts,
        ':ttl': deviceItemTtl(now),
        ':count': 'count' satisfies ItemOp,
        ':entry': entry,
        ':entrySet': new Set([entry]),
        ':maxOpen': device.maxOpen,
        ...subValue(sub),
      },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    return deviceWritten(device, await this.sendConditional(command, options));
  }

  /**
   * The slow path for a device bucket: writes its next state if the bucket is still at the observed revision, with
   * the same checks as the fast path. The `open` set is replaced by the devices of this window it held (older
   * windows' fall out) plus this one, if nobody changed it since the fast path saw it.
   */
  private async compareAndSetDevice(
    key: string,
    device: DeviceBucket,
    observed: LockoutState | undefined,
    next: LockoutState,
    policy: RateLimitPolicy,
    options: RequestOptions,
    sub: string | undefined,
  ): Promise<WriteResult> {
    const locking = next.lockedUntil > (observed?.lockedUntil ?? 0);
    const seen = device.observedOpen ?? [];
    const window = windowIndex(device.decidedAt, policy.windowMs);
    const entry = openEntry(window, device.did);
    const open = new Set(seen.filter((e) => openEntryWindow(e) === window));
    open.add(entry);
    if (open.size > device.maxOpen) throw new DeviceBucketRefusedError('window-full');
    const openValues: Record<string, unknown> = {};
    const openCondition =
      seen.length === 0
        ? 'attribute_not_exists(#open)'
        : [
            'size(#open) = :openSize',
            ...seen.map((e, i) => {
              openValues[`:seen${i}`] = e;
              return `contains(#open, :seen${i})`;
            }),
          ].join(' AND ');
    if (seen.length > 0) openValues[':openSize'] = seen.length;
    const command = new UpdateCommand({
      TableName: this.tableName,
      Key: { [PARTITION_KEY]: key },
      UpdateExpression:
        'SET #f = :f, #w = :w, #l = :l, #n = :n, #r = :r, #a = :now, #i = :iat, #ttl = :ttl, #op = :op, #open = :open' +
        (sub === undefined ? '' : ', #sub = :sub') +
        // The announcer reads a lock from the item's top level (outbox.ts).
        (locking ? ', lockedUntil = :l, lockouts = :n, #bucket = :device' : '') +
        ' ADD #devices :didSet',
      // Revision 0 is a bucket not written yet (device-bucket.ts).
      ConditionExpression:
        `${DEVICE_PLACE_CONDITION} AND (${openCondition}) AND ` +
        (observed === undefined || observed.rev === 0 ? 'attribute_not_exists(#r)' : '#r = :rev'),
      ExpressionAttributeNames: {
        ...deviceNames(device.did),
        ...DEVICE_ITEM_NAMES,
        '#ttl': TTL_ATTRIBUTE,
        '#op': OP_ATTRIBUTE,
        ...subName(sub),
        ...(locking ? { '#bucket': BUCKET_ATTRIBUTE } : {}),
      },
      ExpressionAttributeValues: {
        ...devicePlaceValues(device, device.decidedAt),
        ...openValues,
        ':f': next.failures,
        ':w': next.windowStart,
        ':l': next.lockedUntil,
        ':n': next.lockouts,
        ':r': next.rev,
        ':ttl': deviceItemTtl(device.decidedAt),
        ':op': (locking ? 'lock' : 'count') satisfies ItemOp,
        ':open': open,
        ...subValue(sub),
        ...(observed === undefined || observed.rev === 0 ? {} : { ':rev': observed.rev }),
        ...(locking ? { ':device': 'device' } : {}),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    return deviceWritten(device, await this.sendConditional(command, options), next);
  }

  /**
   * A successful sign-in with a device token removes that bucket's counts, unless it is locked (a lock written since
   * the item's last clear), and takes the device out of the `open` set, so the owner's sign-ins never hold a place
   * there: one UpdateItem on the devices item. The anonymous bucket is not touched. The device stays among the user's
   * devices, with the issue time of its newest token counted (`i`) and its last write (`a`).
   */
  async clearDevice(key: string, did: string, now: number, windowMs: number, options: RequestOptions = {}): Promise<ClearResult> {
    const window = windowIndex(now, windowMs);
    // The attempt may have been counted in the window before this one.
    const entries = new Set([openEntry(window, did), openEntry(window - 1, did)]);
    const command = new UpdateCommand({
      TableName: this.tableName,
      Key: { [PARTITION_KEY]: key },
      UpdateExpression: 'REMOVE #f, #w, #l, #n, #r DELETE #open :entries',
      ConditionExpression: 'attribute_exists(#r) AND (#l <= :now OR (attribute_exists(clearedAt) AND #a <= clearedAt))',
      // Every name used, and no other: DynamoDB refuses a declared name the expressions do not use.
      ExpressionAttributeNames: { ...deviceNames(did, ['f', 'w', 'l', 'n', 'r', 'a']), '#open': OPEN_ATTRIBUTE },
      ExpressionAttributeValues: { ':now': now, ':entries': entries },
      // The bucket's last write (`<did>.a`, kept by the clear) tells the accounting whether an attempt was counted.
      ReturnValues: 'ALL_OLD',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    const lastWrite = (item: Record<string, unknown> | undefined) => {
      const value = item?.[bucketAttribute(did, 'a')];
      return typeof value === 'number' ? value : undefined;
    };
    const sent = await this.sendConditional(command, options);
    if (sent.ok) return { outcome: 'cleared', attemptAt: lastWrite(sent.attributes) };
    // 'absent' keeps the stamp too: a bucket already cleared by this sign-in's other success trigger still shows
    // that the attempt was counted here (sign-in-success.ts).
    return sent.item !== undefined && deviceState(sent.item, did) !== undefined
      ? { outcome: 'locked', attemptAt: lastWrite(sent.item) }
      : { outcome: 'absent', attemptAt: lastWrite(sent.item) };
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
    const sent = await this.sendConditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [PARTITION_KEY]: key },
        // lockedUntil is the announcer's copy of the last device lock (device-bucket.ts): none is left. A password
        // reset also revokes every token issued before it (as a new password signs other sessions out): whoever
        // held one, and the old password, must sign in again.
        UpdateExpression:
          'SET clearedAt = :now, lockedUntil = :zero, #ttl = :ttl, #op = :op, #bucket = :device' +
          `${op === 'reset' ? ', #revoked = :now' : ''}${facts.sub === undefined ? '' : ', #sub = :sub'} REMOVE #operatorLock, #open`,
        // Written even where there is no item yet: an instance that locked a device bucket alone during an outage
        // must not write that lock back (as for the anonymous item). A permanent operator lock is lifted only with
        // `permanentToo`; else nothing is written (the account stays locked for every device).
        ...(permanentToo ? {} : { ConditionExpression: 'attribute_not_exists(#operatorLock) OR #operatorLock < :permanent' }),
        ExpressionAttributeNames: {
          '#ttl': TTL_ATTRIBUTE,
          '#op': OP_ATTRIBUTE,
          '#bucket': BUCKET_ATTRIBUTE,
          '#operatorLock': OPERATOR_LOCKED_UNTIL,
          // The devices that counted before the clear hold no place in this window any more.
          '#open': OPEN_ATTRIBUTE,
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
    if (sent.ok) return 'cleared';
    // The permanent operator lock stays, but a reset's revocation does not wait for the operator: a later unlock
    // must not bring back tokens issued before the password changed. Rare (a reset under a permanent lock), so a
    // second request, in the same budget.
    if (op === 'reset') await this.revokeBefore(key, now, options);
    return 'permanent';
  }

  /** Revokes every device token issued at or before `now`, and nothing else. */
  private async revokeBefore(key: string, now: number, options: RequestOptions): Promise<void> {
    this.requestCount += 1;
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [PARTITION_KEY]: key },
        // No TTL: the item holds a permanent operator lock, which keeps it for good.
        UpdateExpression: 'SET #revoked = :now',
        ExpressionAttributeNames: { '#revoked': REVOKED_BEFORE },
        ExpressionAttributeValues: { ':now': now },
      }),
      options,
    );
  }

  /**
   * Makes room among a user's devices (device-bucket.ts, MAX_DEVICES_PER_USER): when the item holds more than
   * `keep` devices, removes the least recently written of those that no longer matter (not locked for longer than the
   * streak is remembered, not written within the window) until `keep` are left. Devices in use stay, and with them
   * the issue time of their newest token, so an older token of theirs stays superseded. Runs at a sign-in (pre token
   * generation), never in a decision, and only when there is time (handlers/pre-token-generation.ts): a read, and a
   * write only when there is something to remove, conditioned on each removed device being unwritten since the
   * read. `spare` is the device the sign-in came with: never removed. Returns how many devices it removed.
   */
  async pruneDevices(
    key: string,
    now: number,
    policy: RateLimitPolicy,
    options: RequestOptions = {},
    spare?: string,
    keep = PRUNE_KEEPS_DEVICES,
  ): Promise<number> {
    this.requestCount += 1;
    const item = (await this.client.send(new GetCommand({ TableName: this.tableName, Key: { [PARTITION_KEY]: key } }), options)).Item;
    if (item === undefined) return 0;
    const dids = devicesOf(item);
    if (dids.length <= keep) return 0;
    const writtenAt = (did: string): number => {
      const value = item[bucketAttribute(did, 'a')];
      return typeof value === 'number' ? value : 0;
    };
    const stale = dids
      .filter((did) => {
        const state = deviceState(item, did);
        return did !== spare && writtenAt(did) <= windowCutoff(now, policy) && (state?.lockedUntil ?? 0) + streakMemoryMs(policy) <= now;
      })
      .sort((a, b) => writtenAt(a) - writtenAt(b))
      // DynamoDB refuses an expression over 4 KB: at most PRUNE_BATCH devices a call (an item from before the
      // `devices` set may hold hundreds of buckets; each sign-in then removes the next batch).
      .slice(0, Math.min(dids.length - keep, PRUNE_BATCH));
    if (stale.length === 0) return 0;
    const names: Record<string, string> = { '#devices': DEVICES_ATTRIBUTE };
    const values: Record<string, unknown> = { ':gone': new Set(stale) };
    const removed: string[] = [];
    const unchanged: string[] = [];
    stale.forEach((did, i) => {
      for (const part of BUCKET_PARTS) {
        names[`#${part}${i}`] = bucketAttribute(did, part);
        removed.push(`#${part}${i}`);
      }
      const at = item[bucketAttribute(did, 'a')];
      if (typeof at === 'number') {
        values[`:a${i}`] = at;
        unchanged.push(`#a${i} = :a${i}`);
      } else unchanged.push(`attribute_not_exists(#a${i})`);
    });
    const sent = await this.sendConditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [PARTITION_KEY]: key },
        UpdateExpression: `REMOVE ${removed.join(', ')} DELETE #devices :gone`,
        ConditionExpression: unchanged.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
      options,
    );
    // Refused: a device written since the read; the next sign-in tries again.
    return sent.ok ? stale.length : 0;
  }

  /**
   * A successful sign-in forgets failures and the lockout streak: one conditional UpdateItem that zeroes the item
   * (the condition keeps any active lock in place) and keeps `attemptAt` and `clearedAt`, returning the item as it
   * was. What it was tells the accounting (accounting.ts) whether pre-authentication counted an attempt shortly
   * before; an item kept rather than deleted lets every success of a sign-in, and every one of several at once,
   * still see that attempt. The item then lives for what it may have to remember (a clear, the attempt), at most
   * one maximum lockout.
   */
  async clearUnlessLocked(key: string, now: number, policy: RateLimitPolicy, options: RequestOptions = {}): Promise<ClearResult> {
    const zeroed: LockoutState = { failures: 0, windowStart: now, lockedUntil: 0, lockouts: 0, rev: 0, clearedAt: now };
    const sent = await this.sendConditional(
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
          // Covers a clear remembered since any time up to now, and the attempt the accounting looks for.
          ':ttl': Math.max(expiryEpochSeconds(zeroed, policy) ?? 0, Math.ceil((now + AUTH_SESSION_MS) / 1000)),
          ':op': 'success' satisfies ItemOp,
        },
        ReturnValues: 'ALL_OLD',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
      options,
    );
    if (sent.ok) return { outcome: 'cleared', attemptAt: attemptAtOf(sent.attributes) };
    return sent.item === undefined ? { outcome: 'absent' } : { outcome: 'locked', attemptAt: attemptAtOf(sent.item) };
  }

  /**
   * Marks a successful sign-in that no attempt was counted for (accounting.ts): the stream's announcer publishes it
   * (`SignInUncounted`). A second request, made only for such a sign-in; written even where there is no item.
   */
  async markUncounted(
    key: string,
    now: number,
    facts: { readonly sub?: string; readonly clientId?: string } = {},
    options: RequestOptions = {},
  ): Promise<void> {
    this.requestCount += 1;
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [PARTITION_KEY]: key },
        UpdateExpression:
          // Where there was no item, a zero state: the next attempt counts on the fast path, the next success clears it.
          'SET #op = :op, uncountedAt = :now, #ttl = if_not_exists(#ttl, :ttl), lockedUntil = if_not_exists(lockedUntil, :zero), ' +
          'failures = if_not_exists(failures, :zero), windowStart = if_not_exists(windowStart, :now), ' +
          'lockouts = if_not_exists(lockouts, :zero), rev = if_not_exists(rev, :zero)' +
          (facts.sub === undefined ? '' : ', #sub = :sub') +
          (facts.clientId === undefined ? '' : ', clientId = :client'),
        ExpressionAttributeNames: { '#op': OP_ATTRIBUTE, '#ttl': TTL_ATTRIBUTE, ...(facts.sub === undefined ? {} : { '#sub': SUB_ATTRIBUTE }) },
        ExpressionAttributeValues: {
          ':op': 'uncounted' satisfies ItemOp,
          ':now': now,
          ':zero': 0,
          ':ttl': Math.ceil((now + AUTH_SESSION_MS) / 1000),
          ...(facts.sub === undefined ? {} : { ':sub': facts.sub }),
          ...(facts.clientId === undefined ? {} : { ':client': facts.clientId }),
        },
      }),
      options,
    );
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
    const sent = await this.sendConditional(command, options);
    if (!sent.ok) return { outcome: 'permanent' };
    return sent.attributes === undefined ? { outcome: 'absent' } : { outcome: 'cleared', removed: parseState(sent.attributes) };
  }

  /**
   * The one way a conditional request is sent, and counted: what it returned when it landed, or the item that refused
   * it (`ReturnValuesOnConditionCheckFailure: ALL_OLD`; undefined where there was none). Any other error is thrown.
   */
  private async sendConditional(command: UpdateCommand | PutCommand, options: RequestOptions): Promise<Sent> {
    this.requestCount += 1;
    try {
      // Either command answers with `Attributes`; the client's overloads take one command class at a time.
      return { ok: true, attributes: (await this.client.send(command as UpdateCommand, options)).Attributes };
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
      const raw = (error as ConditionalCheckFailedException).Item;
      return { ok: false, item: raw === undefined ? undefined : unmarshall(raw) };
    }
  }
}

/** A conditional request's answer (`sendConditional`). */
type Sent = { readonly ok: true; readonly attributes?: Record<string, unknown> } | { readonly ok: false; readonly item?: Record<string, unknown> };

/** An anonymous item's write refused: the state of the item that refused it. */
function refusedBy(item: Record<string, unknown> | undefined): WriteResult {
  return { ok: false, observed: item === undefined ? undefined : parseState(item) };
}

/**
 * A device bucket write: the state written (from the item DynamoDB returns, or `written`), or the bucket's state
 * in the item that refused it. A refusal that sends the attempt to the anonymous bucket throws
 * DeviceBucketRefusedError (DeviceTokenRevokedError for a revocation).
 */
function deviceWritten(device: DeviceBucket, sent: Sent, written?: LockoutState): WriteResult {
  // The fast path's ALL_NEW always holds the bucket it just wrote.
  if (sent.ok) return { ok: true, value: written ?? (deviceState(sent.attributes ?? {}, device.did) as LockoutState) };
  const item = sent.item ?? {};
  const refusal = deviceRefusal(item, device);
  if (refusal === 'revoked') throw new DeviceTokenRevokedError();
  if (refusal !== undefined) throw new DeviceBucketRefusedError(refusal);
  return { ok: false, observed: deviceState(item, device.did), open: textSet(item[OPEN_ATTRIBUTE]) };
}

function isConditionalFailure(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException || (error as Error)?.name === 'ConditionalCheckFailedException';
}

function deviceNames(did: string, parts: readonly BucketAttribute[] = BUCKET_PARTS): Record<string, string> {
  return Object.fromEntries(parts.map((part) => [`#${part}`, bucketAttribute(did, part)]));
}

const BUCKET_PARTS = ['f', 'w', 'l', 'n', 'r', 'a', 'i'] as const satisfies readonly BucketAttribute[];

/**
 * How many devices a tidy-up leaves: half the most an item keeps, so a user's new devices find room again while every
 * device a person plausibly uses keeps its bucket and its supersession record.
 */
export const PRUNE_KEEPS_DEVICES = MAX_DEVICES_PER_USER / 2;

/** Devices one tidy-up removes at most: seven names each keep its UpdateItem's expressions well under 4 KB. */
const PRUNE_BATCH = 25;

/** Every device the item has attributes for: those in its `devices` set, and buckets written before the set existed. */
function devicesOf(item: Record<string, unknown>): string[] {
  const dids = new Set(textSet(item[DEVICES_ATTRIBUTE]));
  for (const name of Object.keys(item)) {
    const dot = name.lastIndexOf('.');
    if (dot === 22 && (BUCKET_PARTS as readonly string[]).includes(name.slice(dot + 1))) dids.add(name.slice(0, dot));
  }
  return [...dids];
}

/** The item-level attributes every device write checks. */
const DEVICE_ITEM_NAMES = {
  '#revoked': REVOKED_BEFORE,
  '#operatorLock': OPERATOR_LOCKED_UNTIL,
  '#devices': DEVICES_ATTRIBUTE,
  '#open': OPEN_ATTRIBUTE,
} as const;

/**
 * What lets a token count in its device's bucket at all: not revoked, no operator lock, not superseded by a newer
 * token of the same device, and a place among the user's devices. The same in both paths, so what one admits the
 * other does too; `deviceRefusal` reads the same facts from a refusing item.
 */
const DEVICE_PLACE_CONDITION =
  '(attribute_not_exists(#revoked) OR #revoked < :iat) AND (attribute_not_exists(#operatorLock) OR #operatorLock <= :now) AND ' +
  '(attribute_not_exists(#i) OR #i <= :iat) AND (contains(#devices, :did) OR attribute_not_exists(#devices) OR size(#devices) < :maxDevices)';

function devicePlaceValues(device: DeviceBucket, now: number): Record<string, unknown> {
  return { ':now': now, ':iat': device.issuedAt, ':did': device.did, ':didSet': new Set([device.did]), ':maxDevices': MAX_DEVICES_PER_USER };
}

/** Why a refusing item sends the attempt to the anonymous bucket, or undefined when the bucket itself decides. */
function deviceRefusal(item: Record<string, unknown>, device: DeviceBucket): Exclude<DeviceRefusal, 'window-full'> | undefined {
  if (isRevoked(item, device.issuedAt)) return 'revoked';
  const newest = item[bucketAttribute(device.did, 'i')];
  if (typeof newest === 'number' && newest > device.issuedAt) return 'superseded';
  const devices = textSet(item[DEVICES_ATTRIBUTE]);
  if (!devices.includes(device.did) && devices.length >= MAX_DEVICES_PER_USER) return 'devices-full';
  return undefined;
}

/** A string set as the document client reads it (a Set), as an array; anything else is empty. */
function textSet(value: unknown): string[] {
  return value instanceof Set ? [...(value as Set<unknown>)].filter((v): v is string => typeof v === 'string') : [];
}

const subName = (sub: string | undefined): Record<string, string> => (sub === undefined ? {} : { '#sub': SUB_ATTRIBUTE });
const subValue = (sub: string | undefined): Record<string, string> => (sub === undefined ? {} : { ':sub': sub });

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
