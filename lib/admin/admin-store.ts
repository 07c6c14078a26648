/**
 * Operator actions on the lockout table: read, lock, unlock, list and reset. Every change is one conditional
 * request on the identity's item (the triggers' invariants hold: a lock is never shortened by `lock`), and
 * every change is recorded as an audit item (who, when, what) beside the state items.
 */
import { randomUUID } from 'node:crypto';
import {
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type LockoutState, isPermanent } from '../../lambdas/engine/policy';
import { PARTITION_KEY, TTL_ATTRIBUTE, parseState } from '../../lambdas/engine/store';

export const AUDIT_PREFIX = 'audit#';
/** Audit items are kept for 400 days (the TTL deletes them afterwards). */
const AUDIT_RETENTION_SECONDS = 400 * 24 * 3600;
const STATE_PREFIXES = ['signin#', 'signup-'];
/**
 * TTL slack after an operator's temporary lock ends. The operator does not know the stack's streak memory
 * (the maximum lockout), so keep the item generously: TTL is clean-up only, never a decision.
 */
const OPERATOR_LOCK_TTL_SLACK_SECONDS = 30 * 24 * 3600;

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
}

export interface AuditEntry {
  readonly action: 'lock' | 'unlock' | 'reset-all';
  readonly operator: string;
  readonly at: number;
  /** The identity key acted on, or '*' for reset-all. */
  readonly identity: string;
  readonly details: Record<string, unknown>;
}

export class AdminStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async status(key: string): Promise<IdentityStatus> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { [PARTITION_KEY]: key }, ConsistentRead: true }));
    return describe(key, Item === undefined ? undefined : parseState(Item), this.now());
  }

  /** Clears the identity entirely (lock, counts, streak). Returns the state it had. */
  async unlock(key: string, operator: string): Promise<LockoutState | undefined> {
    const { Attributes } = await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { [PARTITION_KEY]: key }, ReturnValues: 'ALL_OLD' }),
    );
    const previous = Attributes === undefined ? undefined : parseState(Attributes);
    await this.audit({ action: 'unlock', operator, at: this.now(), identity: key, details: { wasLockedUntil: previous?.lockedUntil ?? 0 } });
    return previous;
  }

  /**
   * Locks until `until` (epoch ms, or PERMANENT_LOCK_UNTIL). Never shortens an existing lock: returns the
   * longer lock in place instead, without changing it.
   */
  async lock(key: string, until: number, operator: string): Promise<{ applied: boolean; lockedUntil: number }> {
    const permanent = isPermanent({ lockedUntil: until });
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PARTITION_KEY]: key },
          UpdateExpression:
            'SET lockedUntil = :until, windowStart = :until, failures = :zero, lockouts = if_not_exists(lockouts, :zero), ' +
            `rev = if_not_exists(rev, :zero) + :one${permanent ? ' REMOVE #ttl' : ', #ttl = :ttl'}`,
          ConditionExpression: 'attribute_not_exists(lockedUntil) OR lockedUntil < :until',
          ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: {
            ':until': until,
            ':zero': 0,
            ':one': 1,
            ...(permanent ? {} : { ':ttl': Math.ceil(until / 1000) + OPERATOR_LOCK_TTL_SLACK_SECONDS }),
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        return { applied: false, lockedUntil: Number(error.Item?.lockedUntil?.N ?? 0) };
      }
      throw error;
    }
    await this.audit({ action: 'lock', operator, at: this.now(), identity: key, details: { lockedUntil: permanent ? 'permanent' : until } });
    return { applied: true, lockedUntil: until };
  }

  /** Every identity locked now, soonest expiry first. Reads every page of the scan. */
  async listLocked(): Promise<Array<{ key: string; lockedUntil: number; permanent: boolean; lockouts: number }>> {
    const locked: Array<{ key: string; lockedUntil: number; permanent: boolean; lockouts: number }> = [];
    for await (const item of this.scan({ FilterExpression: 'lockedUntil > :now', ExpressionAttributeValues: { ':now': this.now() } })) {
      const state = parseState(item);
      locked.push({ key: String(item[PARTITION_KEY]), lockedUntil: state.lockedUntil, permanent: isPermanent(state), lockouts: state.lockouts });
    }
    return locked.sort((a, b) => a.lockedUntil - b.lockedUntil);
  }

  /** Deletes every lockout state item (sign-in and sign-up); audit items stay. Returns how many were deleted. */
  async resetAll(operator: string): Promise<number> {
    const keys: string[] = [];
    for await (const item of this.scan({ ProjectionExpression: '#pk', ExpressionAttributeNames: { '#pk': PARTITION_KEY } }))
      keys.push(String(item[PARTITION_KEY]));
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
    await this.audit({ action: 'reset-all', operator, at: this.now(), identity: '*', details: { deleted: keys.length } });
    return keys.length;
  }

  async auditTrail(): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    for await (const item of this.scan({}, [AUDIT_PREFIX])) entries.push(item as unknown as AuditEntry);
    return entries.sort((a, b) => a.at - b.at);
  }

  private async audit(entry: AuditEntry): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          [PARTITION_KEY]: `${AUDIT_PREFIX}${new Date(entry.at).toISOString()}#${randomUUID().slice(0, 8)}`,
          ...entry,
          [TTL_ATTRIBUTE]: Math.ceil(entry.at / 1000) + AUDIT_RETENTION_SECONDS,
        },
      }),
    );
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
