/**
 * The words of a lock notice. Pure and dependency-free, so the construct can check a configured subject and text at
 * synth with the same rules the notifier applies at cold start.
 *
 * The text follows the lock:
 *   - a temporary lock says it was locked after failed attempts, until when (a UTC time), and that someone may be
 *     guessing the password;
 *   - a permanent lock says to contact support instead of giving an end;
 *   - the password-reset sentence appears only when a reset would lift this lock (`resetUnlocks`).
 *
 * A custom text (NOTIFY_TEXT) is one template for both kinds of lock, with two placeholders:
 *   `{until}`  the lock's end as a UTC time ("Sun, 22 Nov 2026 18:00:00 GMT"), or for a permanent lock the words
 *              "support unlocks it", so that "It stays locked until {until}." reads right for both;
 *   `{reset}`  "Resetting your password unlocks the account now." when a reset would unlock, else nothing.
 */

export const DEFAULT_NOTICE_SUBJECT = 'Your account was locked';

/** The default text of a temporary lock. */
export const DEFAULT_TEMPORARY_NOTICE_TEXT =
  'Your account was locked after too many failed sign-in attempts. It stays locked until {until}. ' +
  'If this was not you, someone may be guessing your password. {reset}';

/** The default text of a permanent lock: no end, whom to ask. */
export const DEFAULT_PERMANENT_NOTICE_TEXT =
  'Your account was locked after too many failed sign-in attempts. Contact support to unlock it. ' +
  'If this was not you, someone may be guessing your password. {reset}';

export const RESET_SENTENCE = 'Resetting your password unlocks the account now.';
/** What `{until}` becomes for a permanent lock. */
export const PERMANENT_UNTIL = 'support unlocks it';

export const NOTICE_PLACEHOLDERS = ['{until}', '{reset}'] as const;
export const MAX_NOTICE_SUBJECT_LENGTH = 200;
export const MAX_NOTICE_TEXT_LENGTH = 2000;

/** What the text depends on: the lock, as the notice request describes it. */
export interface NoticeLock {
  /** Epoch ms; ignored for a permanent lock. */
  readonly lockedUntil: number;
  readonly permanent: boolean;
  readonly resetUnlocks: boolean;
}

export interface NoticeWords {
  readonly subject: string;
  /** A custom template for both kinds of lock; the defaults when undefined. */
  readonly text?: string;
}

/** The notice's body for this lock. */
export function noticeText(words: NoticeWords, lock: NoticeLock): string {
  const template = words.text ?? (lock.permanent ? DEFAULT_PERMANENT_NOTICE_TEXT : DEFAULT_TEMPORARY_NOTICE_TEXT);
  const until = lock.permanent ? PERMANENT_UNTIL : new Date(lock.lockedUntil).toUTCString();
  const reset = lock.resetUnlocks ? RESET_SENTENCE : '';
  // One pass, so a value is never read as a placeholder; an empty {reset} leaves no trailing blank behind.
  return template.replace(/\{until\}|\{reset\}/g, (placeholder) => (placeholder === '{until}' ? until : reset)).replace(/[ \t]+$/gm, '');
}

/**
 * Why a subject cannot be used, or undefined when it can: one line (control characters would let configuration
 * inject mail headers), not blank, at most 200 characters. `label` names the setting as the caller knows it.
 */
export function noticeSubjectProblem(subject: string, label: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (subject.trim() === '' || subject.length > MAX_NOTICE_SUBJECT_LENGTH || /[\u0000-\u001f\u007f]/.test(subject)) {
    return `${label} must be one line of at most ${MAX_NOTICE_SUBJECT_LENGTH} characters, got ${JSON.stringify(subject)}`;
  }
  return undefined;
}

/** Why a text cannot be used, or undefined when it can: not blank, at most 2000 characters, known placeholders only. */
export function noticeTextProblem(text: string, label: string): string | undefined {
  if (text.trim() === '' || text.length > MAX_NOTICE_TEXT_LENGTH)
    return `${label} must be non-empty text of at most ${MAX_NOTICE_TEXT_LENGTH} characters`;
  for (const [placeholder] of text.matchAll(/\{[^}]*\}/g)) {
    if (!(NOTICE_PLACEHOLDERS as readonly string[]).includes(placeholder)) {
      return `${label} contains ${placeholder}, but the only placeholders are ${NOTICE_PLACEHOLDERS.join(' and ')}`;
    }
  }
  return undefined;
}
