/** The notifier's configuration, parsed and validated once at cold start; a bad value fails naming its variable. */
import {
  NOTIFY_FROM_ENV,
  NOTIFY_MAX_PER_HOUR_ENV,
  NOTIFY_RECIPIENT_PERIOD_ENV,
  NOTIFY_SUBJECT_ENV,
  NOTIFY_TEXT_ENV,
  TABLE_NAME_ENV,
  USER_POOL_ID_ENV,
} from '../shared/contract';
import { DEFAULT_NOTICE_SUBJECT, type NoticeWords, noticeSubjectProblem, noticeTextProblem } from './notice-text';
import { SettingError } from '../policy/settings';

export const DEFAULT_RECIPIENT_PERIOD_SECONDS = 86_400;
export const RECIPIENT_PERIOD_BOUNDS = { min: 60, max: 31_536_000 } as const;
export const DEFAULT_MAX_NOTICES_PER_HOUR = 500;
export const MAX_NOTICES_PER_HOUR_BOUNDS = { min: 1, max: 1_000_000 } as const;

export interface NotifierConfig {
  readonly tableName: string;
  readonly userPoolId: string;
  /** The sender (SES identity). */
  readonly from: string;
  readonly words: NoticeWords;
  /** At most one notice per recipient per this many seconds. */
  readonly recipientPeriodSeconds: number;
  /** At most this many notices per clock hour (UTC) over all recipients. */
  readonly maxPerHour: number;
}

export function loadNotifierConfig(env: NodeJS.ProcessEnv): NotifierConfig {
  const tableName = env[TABLE_NAME_ENV]?.trim();
  if (!tableName) throw new SettingError(`${TABLE_NAME_ENV} must name the lockout DynamoDB table, but it is not set`);
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(tableName)) {
    throw new SettingError(`${TABLE_NAME_ENV} must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -), got ${JSON.stringify(tableName)}`);
  }
  const userPoolId = env[USER_POOL_ID_ENV]?.trim();
  if (!userPoolId || !/^[\w-]+_[0-9a-zA-Z]+$/.test(userPoolId)) {
    throw new SettingError(`${USER_POOL_ID_ENV} must be a user pool id (region_id), got ${JSON.stringify(userPoolId ?? null)}`);
  }
  const from = env[NOTIFY_FROM_ENV]?.trim();
  if (!from || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(from)) {
    throw new SettingError(`${NOTIFY_FROM_ENV} must be an email address verified in Amazon SES, got ${JSON.stringify(from ?? null)}`);
  }
  // Unset or empty: the defaults (the construct sets these only when configured).
  const subject = env[NOTIFY_SUBJECT_ENV] || DEFAULT_NOTICE_SUBJECT;
  const subjectProblem = noticeSubjectProblem(subject, NOTIFY_SUBJECT_ENV);
  if (subjectProblem !== undefined) throw new SettingError(subjectProblem);
  const text = env[NOTIFY_TEXT_ENV] || undefined;
  const textProblem = text === undefined ? undefined : noticeTextProblem(text, NOTIFY_TEXT_ENV);
  if (textProblem !== undefined) throw new SettingError(textProblem);
  return {
    tableName,
    userPoolId,
    from,
    words: { subject, text },
    recipientPeriodSeconds: integerFromEnv(env, NOTIFY_RECIPIENT_PERIOD_ENV, DEFAULT_RECIPIENT_PERIOD_SECONDS, RECIPIENT_PERIOD_BOUNDS),
    maxPerHour: integerFromEnv(env, NOTIFY_MAX_PER_HOUR_ENV, DEFAULT_MAX_NOTICES_PER_HOUR, MAX_NOTICES_PER_HOUR_BOUNDS),
  };
}

function integerFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, bounds: { min: number; max: number }): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= bounds.min && value <= bounds.max)) {
    throw new SettingError(`${name} must be a whole number from ${bounds.min} to ${bounds.max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}
