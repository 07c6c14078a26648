/**
 * A notice request as the notifier receives it: one record of the table's stream, the INSERT of a `notice#` item
 * (outbox.ts). Everything in the record is checked before anything acts on it; a reason names the field, never its
 * value.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { PARTITION_KEY } from '../shared/contract';
import { NOTICE_PREFIX, type NoticeRequest } from './outbox';
import { PERMANENT_LOCK_UNTIL } from '../policy/policy';

export type NoticeRecord =
  | { readonly kind: 'notice'; readonly request: NoticeRequest }
  /** Not an INSERT of a notice item: the stream filter should have kept it away. */
  | { readonly kind: 'unexpected'; readonly reason: string }
  /** A notice item that cannot be acted on. `identity` only when it has the shape of a hashed identity. */
  | { readonly kind: 'invalid'; readonly reason: string; readonly identity?: string };

/** A Cognito `sub`: a UUID. Anything else is not a user this notifier may look up. */
const SUB = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A notice key: the prefix and a lock id (announcementId: hex digits; any token is accepted). */
const NOTICE_KEY = new RegExp(`^${NOTICE_PREFIX}[\\w-]{8,128}$`);
/** The hashed identity (logIdOf: hex digits of a key's hash). */
const IDENTITY = /^[0-9a-f]{8,64}$/;

export function isNoticeSub(value: unknown): value is string {
  return typeof value === 'string' && SUB.test(value);
}

/** Reads one stream record; never throws. */
export function noticeRecordOf(record: DynamoDBRecord): NoticeRecord {
  const keyAttribute = record.dynamodb?.Keys?.[PARTITION_KEY]?.S;
  if (record.eventName !== 'INSERT' || typeof keyAttribute !== 'string' || !keyAttribute.startsWith(NOTICE_PREFIX)) {
    return { kind: 'unexpected', reason: `${record.eventName ?? 'an unnamed event'} of a key that is not a notice request` };
  }
  const newImage = record.dynamodb?.NewImage;
  if (newImage === undefined) return { kind: 'invalid', reason: 'the record has no new image (the stream must carry NEW_AND_OLD_IMAGES)' };
  let image: Record<string, unknown>;
  try {
    image = unmarshall(newImage as Record<string, AttributeValue>);
  } catch {
    return { kind: 'invalid', reason: 'the new image cannot be read' };
  }
  const identity = typeof image.identity === 'string' && IDENTITY.test(image.identity) ? image.identity : undefined;
  const problem = requestProblem(image, keyAttribute);
  if (problem !== undefined) return { kind: 'invalid', reason: problem, identity };
  return { kind: 'notice', request: image as unknown as NoticeRequest };
}

function requestProblem(image: Record<string, unknown>, key: string): string | undefined {
  const pk = image[PARTITION_KEY];
  if (pk !== key || !NOTICE_KEY.test(key)) return `${PARTITION_KEY} must be the record's key, ${NOTICE_PREFIX} and a lock id`;
  if (typeof image.identity !== 'string' || !IDENTITY.test(image.identity)) return 'identity must be a hashed identity (hex)';
  if (!isNoticeSub(image.sub)) return 'sub must be a Cognito sub (a UUID)';
  if (typeof image.permanent !== 'boolean') return 'permanent must be a boolean';
  if (typeof image.resetUnlocks !== 'boolean') return 'resetUnlocks must be a boolean';
  const { lockedUntil } = image;
  if (typeof lockedUntil !== 'number' || !Number.isInteger(lockedUntil) || lockedUntil <= 0) return 'lockedUntil must be an epoch time in ms';
  if (image.permanent !== lockedUntil >= PERMANENT_LOCK_UNTIL) return 'permanent must say whether lockedUntil is the permanent lock';
  for (const name of ['requestedAt', 'expiresAt']) {
    if (typeof image[name] !== 'number' || !Number.isFinite(image[name])) return `${name} must be a number`;
  }
  return undefined;
}
