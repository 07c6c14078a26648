import type { LockNotice } from '../engine/deps';
import type { Telemetry } from '../engine/telemetry';
import { count, errorFields, flush } from '../engine/telemetry';

/** What the notifier sends: from whom, and the words. */
export interface NoticeSettings {
  readonly from: string;
  readonly subject: string;
  /** `{until}` becomes the lock's end (an ISO time), or "an administrator unlocks it" for a permanent lock. */
  readonly text: string;
}

export const DEFAULT_NOTICE_SUBJECT = 'Your account was locked';
export const DEFAULT_NOTICE_TEXT =
  'Your account was locked after too many failed sign-in attempts. It unlocks at {until}. ' +
  'If this was not you, someone may be guessing your password. Resetting your password unlocks the account now.';

/** Sends one email; the SES client in Lambda, a stand-in in the sandbox. */
export interface EmailSender {
  send(email: { from: string; to: string; subject: string; text: string }): Promise<void>;
}

export class InvalidNoticeError extends Error {
  override readonly name = 'InvalidNoticeError';
}

/**
 * What the notifier throws when a notice was not sent: the reason's name only. Lambda logs whatever an
 * asynchronous invocation throws, and the provider's message can name the recipient.
 */
export class NoticeNotSentError extends Error {
  override readonly name = 'NoticeNotSentError';
  constructor(reason: unknown) {
    super(`lock notice not sent: ${(reason as Error | undefined)?.name ?? 'unknown error'}`);
  }
}

/**
 * The notifier function, invoked asynchronously by pre-authentication when a lock starts (Lambda does not retry
 * it: at most one email per lock). The address comes in the invocation, from the trigger event; it is never
 * logged, only the hashed identity the caller logs is.
 */
export function createNotifyUserHandler(settings: NoticeSettings, sender: EmailSender, telemetry: Telemetry) {
  return async (notice: unknown): Promise<void> => {
    try {
      const { email, lockedUntil } = checkNotice(notice);
      const until = lockedUntil === 'permanent' ? 'an administrator unlocks it' : new Date(lockedUntil).toUTCString();
      await sender.send({ from: settings.from, to: email, subject: settings.subject, text: settings.text.split('{until}').join(until) });
      count(telemetry.metrics, 'NoticesSent');
      telemetry.logger.info('lock notice sent');
    } catch (error) {
      count(telemetry.metrics, 'NoticeErrors');
      telemetry.logger.error('lock notice not sent', errorFields(error));
      throw error instanceof InvalidNoticeError ? error : new NoticeNotSentError(error);
    } finally {
      flush(telemetry.metrics);
    }
  };
}

function checkNotice(value: unknown): LockNotice {
  const notice = value as Partial<LockNotice> | null;
  if (typeof notice !== 'object' || notice === null) throw new InvalidNoticeError('the notice must be an object');
  if (typeof notice.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(notice.email)) throw new InvalidNoticeError('email must be an address');
  if (typeof notice.lockedUntil !== 'string' || (notice.lockedUntil !== 'permanent' && Number.isNaN(Date.parse(notice.lockedUntil)))) {
    throw new InvalidNoticeError('lockedUntil must be an ISO time or "permanent"');
  }
  return { email: notice.email, lockedUntil: notice.lockedUntil, userPoolId: notice.userPoolId ?? null };
}
