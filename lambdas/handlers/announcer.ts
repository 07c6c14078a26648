import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { PARTITION_KEY } from '../shared/contract';
import type { EventPublisher } from '../outbox/lockout-event-publisher';
import { type LockoutEventDetail, lockedUntilText, lockoutEventEntry } from '../outbox/lockout-events';
import {
  type Announcement,
  NOTICE_RECORD_SECONDS,
  type NoticeRequest,
  type StreamChange,
  announcementOf,
  logIdOf,
  noticeKey,
} from '../outbox/outbox';
import type { LockoutMode, UnlockOnPasswordReset } from '../policy/settings';
import { type Telemetry, count, errorFields, flush } from '../shared/telemetry';

/** Writes a notice request unless one for the same lock exists: 'duplicate' when it does (a redelivery). */
export interface NoticeRequests {
  request(notice: NoticeRequest): Promise<'requested' | 'duplicate'>;
}

export interface AnnouncerDeps {
  readonly telemetry: Telemetry;
  /** Absent when events are off. */
  readonly events?: EventPublisher;
  /** Absent when notices are off. */
  readonly notices?: NoticeRequests;
  readonly mode: LockoutMode;
  readonly unlockOnPasswordReset: UnlockOnPasswordReset;
  readonly userPoolId: string | null;
  readonly now: () => number;
}

export interface BatchResponse {
  readonly batchItemFailures: Array<{ readonly itemIdentifier: string }>;
}

/**
 * The announcer: reads lock starts and lifts from the table's stream (only those: the event source mapping's
 * filters keep ordinary attempts away) and, for each, publishes `AccountLocked` / `AccountUnlocked` and requests
 * the owner's notice. Records are handled in order; at the first failure (EventBridge or DynamoDB unavailable) it
 * reports that record and stops, so the stream delivers it and the rest again later (at least once: the event id
 * and the notice request's condition make redeliveries harmless). A record it cannot read is logged and counted,
 * never retried, so it cannot block the shard.
 */
export function createAnnouncerHandler(deps: AnnouncerDeps) {
  const { logger, metrics } = deps.telemetry;
  return async (event: DynamoDBStreamEvent): Promise<BatchResponse> => {
    try {
      for (const record of event.Records ?? []) {
        const change = changeOf(record);
        if (change === undefined) {
          count(metrics, 'StreamRecordsInvalid');
          logger.error('stream record not readable: skipped', { eventID: record?.eventID });
          continue;
        }
        const announcement = announcementOf(change);
        if (announcement === undefined) continue;
        try {
          await announce(deps, announcement);
        } catch (error) {
          logger.error('announcement delayed: the stream will deliver it again', {
            identity: logIdOf(announcement.key),
            type: announcement.type,
            ...errorFields(error),
          });
          const sequence = record.dynamodb?.SequenceNumber;
          // Without a sequence number the record cannot be named: failing the whole batch retries it the same way.
          if (sequence === undefined) throw error;
          return { batchItemFailures: [{ itemIdentifier: sequence }] };
        }
      }
      return { batchItemFailures: [] };
    } finally {
      flush(metrics);
    }
  };
}

async function announce(deps: AnnouncerDeps, announcement: Announcement): Promise<void> {
  const { logger, metrics } = deps.telemetry;
  const identity = logIdOf(announcement.key);
  if (deps.notices !== undefined && announcement.type === 'AccountLocked' && announcement.reason === 'failed-attempts') {
    // Only the owner of a known account hears of a lock, and only when it is enforced: unknown names have no
    // sub, hence no address, and a monitor-mode lock locks nobody. Only a lock of the account (its anonymous bucket):
    // a device bucket's lock leaves the account and every other device signing in, so "your account was locked"
    // would be false; the owner on that device already met the refusal, and the notice would use up the owner's one
    // notice per period that a lock of the account, which does keep them out, must have (docs/policy.md).
    if (announcement.sub !== undefined && deps.mode === 'enforce' && announcement.bucket === 'anonymous') {
      const now = deps.now();
      const outcome = await deps.notices.request({
        pk: noticeKey(announcement.id),
        sub: announcement.sub,
        lockedUntil: announcement.lockedUntil,
        permanent: announcement.permanent,
        resetUnlocks: deps.unlockOnPasswordReset === 'all' || (deps.unlockOnPasswordReset === 'temporary' && !announcement.permanent),
        identity,
        requestedAt: now,
        expiresAt: Math.ceil(now / 1000) + NOTICE_RECORD_SECONDS,
      });
      if (outcome === 'requested') count(metrics, 'NoticesRequested');
    }
  }
  if (deps.events !== undefined) {
    const detail: LockoutEventDetail = {
      id: announcement.id,
      identity,
      userPoolId: deps.userPoolId,
      lockedUntil: announcement.type === 'AccountLocked' ? lockedUntilText(announcement.lockedUntil, announcement.permanent) : null,
      reason: announcement.reason,
      bucket: announcement.bucket,
      ...(announcement.type === 'AccountLocked' ? { lockouts: announcement.lockouts } : {}),
      ...(announcement.type === 'SignInUncounted' && announcement.clientId !== undefined ? { clientId: announcement.clientId } : {}),
      ...(announcement.operator === undefined ? {} : { operator: announcement.operator }),
      mode: deps.mode,
    };
    await deps.events.publish(lockoutEventEntry(announcement.type, detail, deps.events.busName));
    count(metrics, 'EventsPublished');
  }
  logger.info(`${announcement.type} announced`, { identity, reason: announcement.reason, bucket: announcement.bucket, id: announcement.id });
}

/** A stream record as the outbox reads it; undefined when it is not one. */
export function changeOf(record: DynamoDBRecord): StreamChange | undefined {
  const { eventName, dynamodb, userIdentity } = record ?? {};
  if (eventName !== 'INSERT' && eventName !== 'MODIFY' && eventName !== 'REMOVE') return undefined;
  const key = dynamodb?.Keys?.[PARTITION_KEY]?.S;
  if (typeof key !== 'string') return undefined;
  try {
    const image = (raw: unknown) => (raw === undefined ? undefined : unmarshall(raw as Record<string, AttributeValue>));
    return {
      eventName,
      key,
      oldImage: image(dynamodb?.OldImage),
      newImage: image(dynamodb?.NewImage),
      // TTL deletions name the DynamoDB service as the user identity: clean-up, not news.
      byTtl: userIdentity?.type === 'Service' && userIdentity?.principalId === 'dynamodb.amazonaws.com',
    };
  } catch {
    return undefined;
  }
}
