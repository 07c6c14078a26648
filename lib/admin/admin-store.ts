/**
 * Operator actions on the lockout table: read, lock, unlock, list and reset. Each change to an identity and its
 * audit item (who, when, what) are one DynamoDB transaction: the trail never misses a change that was made, nor
 * records one that was refused. The triggers' invariants hold: `lock` never shortens a lock (a condition), and
 * `unlock` and `reset-all` leave a cleared marker rather than deleting (see `clearedMarker`).
 *
 * Time: every decision here ("locked", where a lock ends, when counts were cleared) uses `now`, which the CLI
 * reads from DynamoDB's responses (server-clock.ts), so it is the server's time and not the operator's.
 */
import { randomUUID } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type LockoutState, PERMANENT_LOCK_UNTIL, isLocked, isPermanent } from '../../lambdas/policy/policy';
import { PARTITION_KEY, TTL_ATTRIBUTE, parseState } from '../../lambdas/store/store';
import { type ItemOp, OP_ATTRIBUTE, SUB_ATTRIBUTE } from '../../lambdas/outbox/outbox';
import { redacted } from '../../lambdas/shared/redact';
import {
  OPEN_ATTRIBUTE,
  OPERATOR_LOCKED_UNTIL,
  REVOKED_BEFORE,
  deviceItemTtl,
  devicesIdentity,
  lockedDeviceCount,
} from '../../lambdas/devices/device-bucket';
import type { OperatorIdentity } from './operator';
import { AdminError } from './errors';
import type { RotationStage } from './device-key';

export const AUDIT_PREFIX = 'audit#';
/** Audit items are kept for 400 days (the TTL deletes them afterwards). */
const AUDIT_RETENTION_SECONDS = 400 * 24 * 3600;
const SIGN_IN_PREFIX = 'signin#';
const SIGN_UP_PREFIX = 'signup-';
const STATE_PREFIXES = [SIGN_IN_PREFIX, SIGN_UP_PREFIX];
/**
 * TTL slack after an operator's temporary lock ends. The operator does not know the stack's streak memory
 * (the maximum lockout), so keep the item generously: TTL is clean-up only, never a decision.
 */
const OPERATOR_LOCK_TTL_SLACK_SECONDS = 30 * 24 * 3600;
/**
 * How long a cleared marker is kept. It must outlive any lock a function instance could be holding on its own,
 * and the CLI does not know the stack's maximum lockout; the settings cap that at one year, so 366 days would cover
 * every stack. A user's devices item marked so must keep a revocation for the longest token lifetime (400 days):
 * every marker is kept 401 days.
 */
const CLEARED_MARKER_TTL_SECONDS = 401 * 24 * 3600;
/**
 * Tries of a transaction that loses a race: another write to the item in between (a sign-in attempt) cancels it
 * without changing anything. Attempts on one identity stop writing once it is locked, so a few tries suffice.
 */
const MAX_TRANSACTION_TRIES = 5;
/** Sign-in identities reset-all clears concurrently: a batch at a time, so a large reset does not burst past the table's capacity. */
const RESET_BATCH_SIZE = 25;

export interface IdentityStatus {
  readonly key: string;
  readonly locked: boolean;
  readonly permanent: boolean;
  /** Epoch ms, or undefined when not locked. */
  readonly lockedUntil?: number;
  /** Attempts counted since `windowStart` (whether that window is still open depends on the stack's window). */
  readonly failures: number;
  /** When the counting window began (epoch ms); undefined when nothing is counted. */
  readonly windowStart?: number;
  readonly lockouts: number;
  /** When an operator (unlock, reset-all) or a password reset last cleared the identity (epoch ms); undefined when not remembered. */
  readonly clearedAt?: number;
  /** A known user's device buckets (device tokens): how many are locked now, and since when tokens are revoked. */
  readonly devices?: { readonly locked: number; readonly revokedBefore?: number };
}

export interface AuditEntry {
  readonly action: 'lock' | 'unlock' | 'reset-all' | 'revoke-devices' | 'rotate-device-key';
  /** The caller's AWS identity (ARN), from STS. */
  readonly operator: string;
  /** The operator's free-text note, when given. */
  readonly note?: string;
  /** Epoch ms, the server's time. */
  readonly at: number;
  /** The identity key acted on, or '*' for reset-all. */
  readonly identity: string;
  readonly details: Record<string, unknown>;
}

export interface UnlockResult {
  /** The state the unlock replaced; undefined when the identity had no item. */
  readonly previous: LockoutState | undefined;
  /** Whether the identity was locked at the time of the unlock. */
  readonly wasLocked: boolean;
}

export interface LockResult {
  /** False when a longer lock was in place: nothing was changed and nothing recorded. */
  readonly applied: boolean;
  /** The lock now in place (epoch ms, or PERMANENT_LOCK_UNTIL). */
  readonly lockedUntil: number;
  /** When not applied: the operator lock now on the user's device buckets (a known user's), which it still reaches. */
  readonly devicesLockedUntil?: number;
}

/** What reset-all would clear, counted before asking the operator to confirm. */
export interface ResetPlan {
  readonly signIn: readonly string[];
  readonly signUp: readonly string[];
  readonly total: number;
  /** Identities locked at the server's time when counted. */
  readonly locked: number;
}

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
/** A transaction lands, or is refused by the state item's condition (with the item it saw), or loses a race. */
type TransactOutcome =
  { readonly ok: true } | { readonly ok: false; readonly refusedBy: LockoutState | undefined } | { readonly ok: false; readonly raced: true };

export class AdminStore {
  /** `now`: the server's time in the CLI (ServerClock), a fake clock in tests; this machine's only by default. */
  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The identity's state; with a known user's `sub`, its device buckets too. */
  async status(key: string, sub?: string): Promise<IdentityStatus> {
    const [item, devices] = await Promise.all([this.item(key), sub === undefined ? undefined : this.item(devicesIdentity(sub).key)]);
    const now = this.now();
    const clearedAt = typeof item?.clearedAt === 'number' ? item.clearedAt : undefined;
    const revokedBefore = devices?.[REVOKED_BEFORE];
    return {
      ...describe(key, item === undefined ? undefined : parseState(item), now),
      clearedAt,
      ...(sub === undefined
        ? {}
        : {
            devices: {
              locked: devices === undefined ? 0 : lockedDeviceCount(devices, now),
              ...(typeof revokedBefore === 'number' ? { revokedBefore } : {}),
            },
          }),
    };
  }

  /**
   * Revokes every device token issued to the user until now (a stolen laptop): from this write on, each counts in
   * the anonymous bucket, checked by the condition of the decision's own write (device-bucket.ts). With its audit
   * item, in one transaction. The user's next sign-in issues a token that counts apart again.
   */
  async revokeDevices(sub: string, operator: OperatorIdentity): Promise<{ revokedBefore: number }> {
    const key = devicesIdentity(sub).key;
    for (let tries = 1; ; tries++) {
      const now = this.now();
      const told = newsOf('operator-revoke', { operator: redacted(operator.arn), sub });
      const outcome = await this.transact([
        {
          Update: this.stateUpdate(key, {
            expression: `SET #revoked = :now, #ttl = :ttl, ${told.expression}`,
            names: { '#revoked': REVOKED_BEFORE, '#ttl': TTL_ATTRIBUTE, ...told.names },
            values: { ':now': now, ':ttl': deviceItemTtl(now), ...told.values },
          }),
        },
        { Put: this.auditPut({ action: 'revoke-devices', ...actor(operator), at: now, identity: key, details: { revokedBefore: now } }) },
      ]);
      if (outcome.ok) return { revokedBefore: now };
      if (tries >= MAX_TRANSACTION_TRIES) throw racedTooOften('revocation');
    }
  }

  /**
   * The time as DynamoDB tells it (`now` after one answer): a read of a key no item has, for a decision that writes
   * elsewhere first (a key rotation's `signFrom`).
   */
  async serverNow(): Promise<number> {
    await this.item(`${AUDIT_PREFIX}clock`);
    return this.now();
  }

  /**
   * Records one stage of a device key rotation (device-key.ts): the intent before the secret changes, then its
   * completion or failure. The key itself is never written here.
   */
  async auditRotation(operator: OperatorIdentity, secret: string, stage: RotationStage, details: Readonly<Record<string, unknown>>): Promise<void> {
    await this.client.send(
      new PutCommand(
        this.auditPut({ action: 'rotate-device-key', ...actor(operator), at: this.now(), identity: '*', details: { secret, stage, ...details } }),
      ),
    );
  }

  /**
   * Clears the identity (lock, counts, streak) by writing a cleared marker, with its audit item, in one
   * transaction. The transaction is a compare-and-set on the state read just before, so the audit's
   * `wasLockedUntil` and the result say exactly what the unlock replaced even while sign-in attempts race it.
   */
  async unlock(key: string, operator: OperatorIdentity, sub?: string): Promise<UnlockResult> {
    let observed = await this.state(key);
    for (let tries = 1; ; tries++) {
      const now = this.now();
      const news = { operator: redacted(operator.arn), sub };
      const outcome = await this.transact([
        { Update: this.stateUpdate(key, clearedMarker(now, news), sameRevision(observed)) },
        // A known user's device buckets are lifted in the same transaction: marked cleared, which voids them all.
        ...(sub === undefined ? [] : [{ Update: this.stateUpdate(devicesIdentity(sub).key, devicesCleared(now, news)) }]),
        {
          Put: this.auditPut({
            action: 'unlock',
            ...actor(operator),
            at: now,
            identity: key,
            details: { wasLockedUntil: observed?.lockedUntil ?? 0 },
          }),
        },
      ]);
      if (outcome.ok) return { previous: observed, wasLocked: isLocked(observed, now) };
      if (tries >= MAX_TRANSACTION_TRIES) throw racedTooOften('unlock');
      // A refusal returned the item that changed under us; a lost race did not, so read it again.
      observed = 'refusedBy' in outcome ? outcome.refusedBy : await this.state(key);
    }
  }

  /**
   * Locks for `duration` ms from now (the server's now), or permanently, with its audit item, in one transaction.
   * Never shortens an existing lock: the condition refuses, and then nothing is written (no audit item either) and
   * the longer lock in place is returned.
   */
  async lock(key: string, duration: number | 'permanent', operator: OperatorIdentity, sub?: string): Promise<LockResult> {
    // The answer carries DynamoDB's time, from which the lock's end is counted. The state read decides nothing:
    // the transaction's condition does.
    await this.state(key);
    for (let tries = 1; ; tries++) {
      const now = this.now();
      const until = duration === 'permanent' ? PERMANENT_LOCK_UNTIL : now + duration;
      const outcome = await this.transact([
        { Update: this.stateUpdate(key, lockUpdate(until, { operator: redacted(operator.arn), sub }), notShortening(until)) },
        // The account's lock reaches the user's device buckets too: a valid device token does not get past it.
        ...(sub === undefined ? [] : [{ Update: this.stateUpdate(devicesIdentity(sub).key, devicesLocked(now, until)) }]),
        {
          Put: this.auditPut({
            action: 'lock',
            ...actor(operator),
            at: now,
            identity: key,
            details: { lockedUntil: isPermanent({ lockedUntil: until }) ? 'permanent' : until },
          }),
        },
      ]);
      if (outcome.ok) return { applied: true, lockedUntil: until };
      if ('refusedBy' in outcome) {
        // A longer lock from failed attempts does not stop device tokens: the operator's lock still reaches them.
        const devicesLockedUntil = sub === undefined ? undefined : await this.lockDevices(sub, now, until, operator);
        return { applied: false, lockedUntil: outcome.refusedBy?.lockedUntil ?? 0, devicesLockedUntil };
      }
      if (tries >= MAX_TRANSACTION_TRIES) throw racedTooOften('lock');
    }
  }

  /**
   * The operator's lock of a user's device buckets alone, with its audit item, never shortening one in place.
   * Returns the operator lock now on them.
   */
  private async lockDevices(sub: string, now: number, until: number, operator: OperatorIdentity): Promise<number> {
    const key = devicesIdentity(sub).key;
    const outcome = await this.transact([
      {
        Update: this.stateUpdate(key, devicesLocked(now, until), {
          expression: 'attribute_not_exists(#operatorLock) OR #operatorLock < :until',
          names: { '#operatorLock': OPERATOR_LOCKED_UNTIL },
          values: { ':until': until },
        }),
      },
      {
        Put: this.auditPut({
          action: 'lock',
          ...actor(operator),
          at: now,
          identity: key,
          details: { lockedUntil: isPermanent({ lockedUntil: until }) ? 'permanent' : until, devicesOnly: true },
        }),
      },
    ]);
    if (outcome.ok) return until;
    const current = (await this.item(key))?.[OPERATOR_LOCKED_UNTIL];
    return typeof current === 'number' ? current : 0;
  }

  /** Every identity locked now (the server's now), soonest expiry first. Reads every page of the scan. */
  async listLocked(): Promise<Array<{ key: string; lockedUntil: number; permanent: boolean; lockouts: number }>> {
    const everLocked: Array<{ key: string; lockedUntil: number; permanent: boolean; lockouts: number }> = [];
    // Filtered on "ever locked" only: the server's time is known once the scan has answered, and decides below.
    for await (const item of this.scan({ FilterExpression: 'lockedUntil > :zero', ExpressionAttributeValues: { ':zero': 0 } })) {
      const state = parseState(item);
      everLocked.push({ key: String(item[PARTITION_KEY]), lockedUntil: state.lockedUntil, permanent: isPermanent(state), lockouts: state.lockouts });
    }
    const now = this.now();
    return everLocked.filter((l) => l.lockedUntil > now).sort((a, b) => a.lockedUntil - b.lockedUntil);
  }

  /** Counts what reset-all would clear: every lockout state item, and how many of them are locked now. */
  async planReset(): Promise<ResetPlan> {
    const signIn: string[] = [];
    const signUp: string[] = [];
    const lockedUntils: number[] = [];
    for await (const item of this.scan({ ProjectionExpression: '#pk, lockedUntil' })) {
      const key = String(item[PARTITION_KEY]);
      (key.startsWith(SIGN_IN_PREFIX) ? signIn : signUp).push(key);
      lockedUntils.push(parseState(item).lockedUntil);
    }
    const now = this.now();
    return { signIn, signUp, total: signIn.length + signUp.length, locked: lockedUntils.filter((until) => until > now).length };
  }

  /**
   * Clears what `plan` counted: each sign-in identity gets the same cleared marker as `unlock` (one UpdateItem
   * each, a batch at a time), sign-up counters are deleted (no instance ever writes those back). Identities that
   * appeared after the count are left alone: the operator confirmed a number, not "whatever is there".
   * The audit item comes first: the changes span many items and cannot share one transaction (DynamoDB allows 100
   * per transaction), so if the CLI stops halfway, the trail still says what was started, and by whom.
   */
  async resetAll(plan: ResetPlan, operator: OperatorIdentity): Promise<{ cleared: number; deleted: number }> {
    await this.client.send(
      new PutCommand(
        this.auditPut({
          action: 'reset-all',
          ...actor(operator),
          at: this.now(),
          identity: '*',
          details: { signIn: plan.signIn.length, signUp: plan.signUp.length, lockedWhenCounted: plan.locked },
        }),
      ),
    );
    for (let i = 0; i < plan.signIn.length; i += RESET_BATCH_SIZE) {
      const marker = clearedMarker(this.now(), { operator: redacted(operator.arn) });
      await Promise.all(plan.signIn.slice(i, i + RESET_BATCH_SIZE).map((key) => this.client.send(new UpdateCommand(this.stateUpdate(key, marker)))));
    }
    await this.deleteAll(plan.signUp);
    return { cleared: plan.signIn.length, deleted: plan.signUp.length };
  }

  async auditTrail(): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    for await (const item of this.scan({}, [AUDIT_PREFIX])) entries.push(item as unknown as AuditEntry);
    return entries.sort((a, b) => a.at - b.at);
  }

  private async item(key: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { [PARTITION_KEY]: key }, ConsistentRead: true }));
    return Item;
  }

  private async state(key: string): Promise<LockoutState | undefined> {
    const item = await this.item(key);
    return item === undefined ? undefined : parseState(item);
  }

  /** An UpdateItem on one state item; the condition's names and values are merged with the update's. */
  private stateUpdate(key: string, update: Expression, condition?: Expression) {
    const names = { ...update.names, ...condition?.names };
    const values = { ...update.values, ...condition?.values };
    return {
      TableName: this.tableName,
      Key: { [PARTITION_KEY]: key },
      UpdateExpression: update.expression,
      ...(condition === undefined ? {} : { ConditionExpression: condition.expression, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const }),
      // DynamoDB rejects declared names or values that the expressions do not use: declare only those used.
      ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
      ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
    };
  }

  /** An audit item, conditioned on its key being new so that a (vanishingly unlikely) key collision never overwrites one. */
  private auditPut(entry: AuditEntry) {
    return {
      TableName: this.tableName,
      Item: {
        [PARTITION_KEY]: `${AUDIT_PREFIX}${new Date(entry.at).toISOString()}#${randomUUID().slice(0, 8)}`,
        ...entry,
        [TTL_ATTRIBUTE]: Math.ceil(entry.at / 1000) + AUDIT_RETENTION_SECONDS,
      },
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY },
    };
  }

  /**
   * Sends one transaction whose first item is the state item. Its condition failing is a refusal, reported with the
   * item DynamoDB saw (`ReturnValuesOnConditionCheckFailure: ALL_OLD`); anything else that cancels it without a
   * condition failing on the state (a concurrent write, an audit key collision) is a race worth another try.
   */
  private async transact(items: TransactItem[]): Promise<TransactOutcome> {
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items }));
      return { ok: true };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException || (error as Error).name === 'TransactionCanceledException')) throw error;
      const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
      const state = reasons[0];
      if (state?.Code === 'ConditionalCheckFailed') return { ok: false, refusedBy: state.Item ? parseState(unmarshall(state.Item)) : undefined };
      if (reasons.some((reason) => reason.Code === 'TransactionConflict' || reason.Code === 'ConditionalCheckFailed'))
        return { ok: false, raced: true };
      throw error;
    }
  }

  private async deleteAll(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 25) {
      let requests: Record<string, Array<Record<string, unknown>>> | undefined = {
        [this.tableName]: keys.slice(i, i + 25).map((key) => ({ DeleteRequest: { Key: { [PARTITION_KEY]: key } } })),
      };
      // BatchWriteItem may leave items unprocessed under load: retry those with a short backoff.
      for (let attempt = 0; requests && Object.keys(requests).length > 0; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
        const output = await this.client.send(new BatchWriteCommand({ RequestItems: requests as never }));
        requests = output.UnprocessedItems as typeof requests;
      }
    }
  }

  /** Scans the items whose key starts with one of `prefixes` (the lockout state by default), page by page. */
  private async *scan(
    input: {
      FilterExpression?: string;
      ProjectionExpression?: string;
      ExpressionAttributeNames?: Record<string, string>;
      ExpressionAttributeValues?: Record<string, unknown>;
    },
    prefixes = STATE_PREFIXES,
  ): AsyncGenerator<Record<string, unknown>> {
    const prefixFilter = prefixes.map((_, i) => `begins_with(#pk, :prefix${i})`).join(' OR ');
    const filter = input.FilterExpression ? `(${prefixFilter}) AND (${input.FilterExpression})` : prefixFilter;
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          ConsistentRead: true,
          FilterExpression: filter,
          ProjectionExpression: input.ProjectionExpression,
          ExpressionAttributeNames: { '#pk': PARTITION_KEY, ...input.ExpressionAttributeNames },
          ExpressionAttributeValues: { ...Object.fromEntries(prefixes.map((p, i) => [`:prefix${i}`, p])), ...input.ExpressionAttributeValues },
          ExclusiveStartKey,
        }),
      );
      yield* page.Items ?? [];
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  }
}

/** A DynamoDB expression with the names and values it uses. */
interface Expression {
  readonly expression: string;
  readonly names?: Record<string, string>;
  readonly values?: Record<string, unknown>;
}

/**
 * What unlock and reset-all leave instead of deleting: no lock, no counts, no streak, and `clearedAt`, the server's
 * time of the clear. Why not delete: a function instance that locked the identity on its own while DynamoDB was
 * failing writes its lock back when the store returns, unless the item's `clearedAt` is later than when that
 * instance's lock began. With no item there is no `clearedAt`, and the lock the operator just lifted would come
 * back at the user's next sign-in; so the marker is written even when there was no item. It lives 366 days
 * (CLEARED_MARKER_TTL_SECONDS). The triggers read it as an identity with nothing counted: a fresh window that
 * began at the clear.
 */
function clearedMarker(now: number, news: News): Expression {
  const told = newsOf('operator-unlock', news);
  return {
    expression:
      'SET failures = :zero, windowStart = :now, lockedUntil = :zero, lockouts = :zero, rev = if_not_exists(rev, :zero) + :one, ' +
      // An operator's lock of a user's device buckets (on that user's devices item) goes too.
      `clearedAt = :now, #ttl = :ttl, ${told.expression} REMOVE #operatorLock`,
    names: { '#ttl': TTL_ATTRIBUTE, '#operatorLock': OPERATOR_LOCKED_UNTIL, ...told.names },
    values: { ':zero': 0, ':one': 1, ':now': now, ':ttl': Math.floor(now / 1000) + CLEARED_MARKER_TTL_SECONDS, ...told.values },
  };
}

/** Every device bucket of a user voided (device-bucket.ts): the devices item's `clearedAt`, kept as long as the item. */
function devicesCleared(now: number, news: News): Expression {
  const told = newsOf('operator-unlock', news);
  return {
    // lockedUntil is the announcer's copy of the last device lock (device-bucket.ts): none is left, nor the operator's.
    // The devices that counted before the unlock hold no place in this window any more (`open`, device-bucket.ts).
    expression: `SET clearedAt = :now, lockedUntil = :zero, #ttl = :ttl, #bucket = :device, ${told.expression} REMOVE #operatorLock, #open`,
    names: { '#ttl': TTL_ATTRIBUTE, '#bucket': 'bucket', '#operatorLock': OPERATOR_LOCKED_UNTIL, '#open': OPEN_ATTRIBUTE, ...told.names },
    values: { ':now': now, ':zero': 0, ':ttl': deviceItemTtl(now), ':device': 'device', ...told.values },
  };
}

/**
 * An operator's lock of every device bucket (device-bucket.ts). Not news on its own (no `op`): the anonymous item's
 * operator-lock write in the same transaction is the one announced. Kept at least as long as the lock.
 */
function devicesLocked(now: number, until: number): Expression {
  const permanent = isPermanent({ lockedUntil: until });
  return {
    expression: `SET #operatorLock = :until${permanent ? ' REMOVE #ttl' : ', #ttl = :ttl'}`,
    names: { '#operatorLock': OPERATOR_LOCKED_UNTIL, '#ttl': TTL_ATTRIBUTE },
    values: {
      ':until': until,
      ...(permanent ? {} : { ':ttl': deviceItemTtl(now, until) + OPERATOR_LOCK_TTL_SLACK_SECONDS }),
    },
  };
}

/** Who acted, and for which user: what the stream's announcer tells the world (outbox.ts). */
export interface News {
  /** The operator as events may show it (addresses redacted). */
  readonly operator: string;
  /** The user's sub, when the name resolved to a user of the pool. */
  readonly sub?: string;
}

/** The `op` the stream's consumers filter on, with the operator and the user's sub (outbox.ts). */
function newsOf(op: ItemOp, news: News): Required<Expression> {
  return {
    expression: `#op = :op, #operator = :operator${news.sub === undefined ? '' : ', #sub = :sub'}`,
    names: { '#op': OP_ATTRIBUTE, '#operator': 'operator', ...(news.sub === undefined ? {} : { '#sub': SUB_ATTRIBUTE }) },
    values: { ':op': op, ':operator': news.operator, ...(news.sub === undefined ? {} : { ':sub': news.sub }) },
  };
}

/** A lock until `until`; the next window opens when it ends, as the triggers' locks do. A permanent lock never expires. */
function lockUpdate(until: number, news: News): Expression {
  const permanent = isPermanent({ lockedUntil: until });
  const told = newsOf('operator-lock', news);
  return {
    expression:
      'SET lockedUntil = :until, windowStart = :until, failures = :zero, lockouts = if_not_exists(lockouts, :zero), ' +
      `rev = if_not_exists(rev, :zero) + :one, ${told.expression}${permanent ? ' REMOVE #ttl' : ', #ttl = :ttl'}`,
    names: { '#ttl': TTL_ATTRIBUTE, ...told.names },
    values: {
      ':until': until,
      ':zero': 0,
      ':one': 1,
      ...told.values,
      ...(permanent ? {} : { ':ttl': Math.ceil(until / 1000) + OPERATOR_LOCK_TTL_SLACK_SECONDS }),
    },
  };
}

/** `lock` never shortens a lock in place. */
function notShortening(until: number): Expression {
  return { expression: 'attribute_not_exists(lockedUntil) OR lockedUntil < :until', values: { ':until': until } };
}

/**
 * The item is still at the revision `observed` was read at (every write of the triggers bumps `rev`): absent if it
 * was absent; rev 0 means an item written without one, so accept a missing attribute too.
 */
function sameRevision(observed: LockoutState | undefined): Expression {
  if (observed === undefined) return { expression: 'attribute_not_exists(#pk)', names: { '#pk': PARTITION_KEY } };
  if (observed.rev === 0)
    return {
      expression: 'attribute_exists(#pk) AND (attribute_not_exists(rev) OR rev = :rev)',
      names: { '#pk': PARTITION_KEY },
      values: { ':rev': 0 },
    };
  return { expression: 'rev = :rev', values: { ':rev': observed.rev } };
}

/** The audit fields naming who acted: the ARN, and the note beside it when there is one. */
function actor(operator: OperatorIdentity): Pick<AuditEntry, 'operator' | 'note'> {
  return operator.note === undefined ? { operator: operator.arn } : { operator: operator.arn, note: operator.note };
}

function racedTooOften(action: string): AdminError {
  return new AdminError(
    `the identity changed ${MAX_TRANSACTION_TRIES} times while the ${action} was being written (sign-in attempts racing it): nothing changed, try again`,
  );
}

function describe(key: string, state: LockoutState | undefined, now: number): IdentityStatus {
  if (state === undefined) return { key, locked: false, permanent: false, failures: 0, lockouts: 0 };
  const locked = state.lockedUntil > now;
  return {
    key,
    locked,
    permanent: locked && isPermanent(state),
    lockedUntil: locked ? state.lockedUntil : undefined,
    failures: locked ? 0 : state.failures,
    windowStart: locked || state.failures === 0 ? undefined : state.windowStart,
    lockouts: state.lockouts,
  };
}
