/**
 * The notifier's bookkeeping, in the lockout table, one atomic conditional UpdateItem per step:
 *
 *   notice#<lockId>                   the request (written by the announcer) and its outcome:
 *     state       claimed | skipped | suppressed | capped | sent | retry | failed (absent until claimed)
 *     claimToken  who holds the claim (one random token per attempt at a notice)
 *     claims      how many attempts claimed it
 *     settledAt   epoch ms of the last outcome
 *   notice-recipient#<sha256 of sub>  the per-recipient limit
 *     lastSentAt  epoch ms of the last notice reserved for this recipient
 *     holder      the claim token that reserved it
 *     expiresAt   TTL: lastSentAt + the period (the condition re-checks the time; TTL only cleans up)
 *   notice-hour#<YYYY-MM-DDTHH>       the global cap, per UTC clock hour
 *     sent        notices reserved in that hour
 *     expiresAt   TTL: two days
 *
 * A refused condition is a typed answer (undefined, false), never an exception; anything else DynamoDB throws is
 * the caller's to handle. Only UpdateItem is used: the notifier's role needs no PutItem, DeleteItem or read.
 *
 * The SDK may retry a request whose first try landed unseen. The claim and the recipient reservation carry the
 * token in their conditions, so such a retry succeeds instead of finding its own write in the way. The hourly
 * counter may then count one notice twice, which only makes the cap bind a notice early.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { PARTITION_KEY, TTL_ATTRIBUTE } from '../shared/contract';
import { NOTICE_HOUR_PREFIX, NOTICE_RECIPIENT_PREFIX } from './outbox';

/** A notice's outcome once settled; `retry` hands it back to the next delivery of its record. */
export type NoticeOutcome = 'skipped' | 'suppressed' | 'capped' | 'sent' | 'retry' | 'failed';
export type NoticeState = 'claimed' | NoticeOutcome;

/** How long an hour's counter is kept. */
export const HOUR_COUNTER_SECONDS = 2 * 24 * 3600;

/** The recipient's slot, as reserved: enough to give it back. */
export interface RecipientHold {
  readonly key: string;
  readonly token: string;
  readonly lastSentAt: number;
  /** What the slot held before, when it held anything this attempt did not write itself. */
  readonly previous?: { readonly lastSentAt: number; readonly expiresAt?: number };
}

/** One unit of an hour's cap, as reserved. */
export interface HourHold {
  readonly key: string;
}

export function recipientKey(sub: string): string {
  return `${NOTICE_RECIPIENT_PREFIX}${createHash('sha256').update(sub.toLowerCase(), 'utf8').digest('hex')}`;
}

/** The UTC clock hour of `now`, as `YYYY-MM-DDTHH`. */
export function hourKey(now: number): string {
  return `${NOTICE_HOUR_PREFIX}${new Date(now).toISOString().slice(0, 13)}`;
}

export class NoticeLedger {
  /** DynamoDB requests sent, for tests and the decision log. */
  requestCount = 0;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /**
   * Takes the notice for this attempt: only an existing request nobody has handled (no state) or one handed back
   * for a retry. False when someone has it already: a duplicate delivery, or a notice already settled.
   */
  async claim(key: string, token: string, now: number): Promise<boolean> {
    return this.conditional({
      Key: { [PARTITION_KEY]: key },
      UpdateExpression: 'SET #state = :claimed, claimToken = :token, claimedAt = :now ADD claims :one',
      ConditionExpression: 'attribute_exists(#pk) AND (attribute_not_exists(#state) OR #state = :retry OR claimToken = :token)',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#state': 'state' },
      ExpressionAttributeValues: { ':claimed': 'claimed', ':retry': 'retry', ':token': token, ':now': now, ':one': 1 },
    });
  }

  /** Records the outcome, if this attempt still holds the claim. False when it does not. */
  async settle(key: string, token: string, outcome: NoticeOutcome, now: number): Promise<boolean> {
    return this.conditional({
      Key: { [PARTITION_KEY]: key },
      UpdateExpression: 'SET #state = :outcome, settledAt = :now',
      ConditionExpression: '#state = :claimed AND claimToken = :token',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':outcome': outcome, ':claimed': 'claimed', ':token': token, ':now': now },
    });
  }

  /**
   * Reserves the recipient's one notice per period: only when nothing was sent to them within `periodSeconds`.
   * Undefined when something was.
   */
  async holdRecipient(sub: string, token: string, now: number, periodSeconds: number): Promise<RecipientHold | undefined> {
    const key = recipientKey(sub);
    let attributes: Record<string, unknown> | undefined;
    const held = await this.conditional(
      {
        Key: { [PARTITION_KEY]: key },
        UpdateExpression: 'SET lastSentAt = :now, holder = :token, #ttl = :ttl',
        ConditionExpression: 'attribute_not_exists(lastSentAt) OR lastSentAt <= :cutoff OR holder = :token',
        ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: {
          ':now': now,
          ':token': token,
          ':cutoff': now - periodSeconds * 1000,
          ':ttl': Math.ceil(now / 1000) + periodSeconds,
        },
        ReturnValues: 'UPDATED_OLD',
      },
      (output) => (attributes = output),
    );
    if (!held) return undefined;
    const lastSentAt = attributes?.lastSentAt;
    const previous =
      typeof lastSentAt === 'number' && attributes?.holder !== token
        ? { lastSentAt, expiresAt: typeof attributes?.[TTL_ATTRIBUTE] === 'number' ? (attributes[TTL_ATTRIBUTE] as number) : undefined }
        : undefined;
    return { key, token, lastSentAt: now, previous };
  }

  /**
   * Gives the recipient's slot back, as it was, if it still holds this reservation: the notice was not sent, so it
   * must not count against the recipient's next one.
   */
  async releaseRecipient(hold: RecipientHold): Promise<boolean> {
    const condition = {
      ConditionExpression: 'lastSentAt = :mine AND holder = :token',
      ExpressionAttributeValues: { ':mine': hold.lastSentAt, ':token': hold.token } as Record<string, unknown>,
    };
    if (hold.previous === undefined) {
      return this.conditional({ Key: { [PARTITION_KEY]: hold.key }, UpdateExpression: 'REMOVE lastSentAt, holder', ...condition });
    }
    const restoreTtl = hold.previous.expiresAt !== undefined;
    return this.conditional({
      Key: { [PARTITION_KEY]: hold.key },
      UpdateExpression: restoreTtl ? 'SET lastSentAt = :previous, #ttl = :ttl REMOVE holder' : 'SET lastSentAt = :previous REMOVE holder',
      ...condition,
      ...(restoreTtl ? { ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE } } : {}),
      ExpressionAttributeValues: {
        ...condition.ExpressionAttributeValues,
        ':previous': hold.previous.lastSentAt,
        ...(restoreTtl ? { ':ttl': hold.previous.expiresAt } : {}),
      },
    });
  }

  /** Reserves one notice of this clock hour's cap. Undefined when the cap is reached. */
  async holdHour(now: number, cap: number): Promise<HourHold | undefined> {
    const key = hourKey(now);
    const held = await this.conditional({
      Key: { [PARTITION_KEY]: key },
      UpdateExpression: 'ADD sent :one SET #ttl = if_not_exists(#ttl, :ttl)',
      ConditionExpression: 'attribute_not_exists(sent) OR sent < :cap',
      ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
      ExpressionAttributeValues: { ':one': 1, ':cap': cap, ':ttl': Math.ceil(now / 1000) + HOUR_COUNTER_SECONDS },
    });
    return held ? { key } : undefined;
  }

  /** Gives one unit of the hour's cap back (to the hour it was taken from). */
  async releaseHour(hold: HourHold): Promise<boolean> {
    return this.conditional({
      Key: { [PARTITION_KEY]: hold.key },
      UpdateExpression: 'ADD sent :minusOne',
      ConditionExpression: 'sent > :zero',
      ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
    });
  }

  private async conditional(
    input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>,
    onOutput?: (attributes: Record<string, unknown> | undefined) => void,
  ): Promise<boolean> {
    this.requestCount++;
    try {
      const output = await this.client.send(new UpdateCommand({ TableName: this.tableName, ...input }));
      onOutput?.(output.Attributes);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as Error | undefined)?.name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}
