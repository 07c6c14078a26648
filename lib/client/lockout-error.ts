/**
 * Recognizes a lockout refusal in whatever a sign-in (or sign-up) call threw, for Amplify v6, for
 * amazon-cognito-identity-js and for the AWS SDK, so a front end can show the message. No runtime dependency:
 * it reads the error's shape only.
 *
 * AWS documents how Cognito reports an exception thrown by a trigger: `UserLambdaValidationException` with the
 * message "[trigger] failed with error [error text]." — Cognito appends the final period, so the default refusal
 * ("... Try again later.") reaches clients as "... Try again later..". Some flows report the same text as
 * `NotAuthorizedException`, so the message decides, not only the name. Both forms, with and without the
 * appended period, are recognized.
 */
import { GENERIC_FAILURE_MESSAGE } from '../../lambdas/engine/messages';

export type LockoutTrigger = 'PreAuthentication' | 'PreSignUp';

export interface LockoutRefusal {
  readonly locked: true;
  /** The message the lockout configured for users, e.g. "Too many failed sign-in attempts. Try again later." */
  readonly message: string;
  /** Which trigger refused: sign-in (PreAuthentication) or sign-up (PreSignUp). */
  readonly trigger: LockoutTrigger;
}

/**
 * The trigger failed for a reason other than a lockout (the store, a bug, a configuration error) and sent its one
 * generic message. Not a refusal: show a generic "try again later", never "your account is locked".
 */
export interface LockoutUnavailable {
  readonly locked: false;
  readonly unavailable: true;
  readonly trigger: LockoutTrigger;
}

export type LockoutCheck = LockoutRefusal | LockoutUnavailable | { readonly locked: false };

const TRIGGER_ERROR = /^(PreAuthentication|PreSignUp) failed with error ([\s\S]*)$/;
const NAMES = new Set(['UserLambdaValidationException', 'NotAuthorizedException']);

/**
 * `{ locked: true, message, trigger }` for a lockout refusal, `{ locked: false, unavailable: true, trigger }` for
 * the trigger's generic failure, else `{ locked: false }`. Never throws.
 */
export function recognizeLockout(error: unknown): LockoutCheck {
  // Amplify wraps the service error as `underlyingError`; others may use `cause`. Follow a short chain.
  let current: unknown = error;
  for (let depth = 0; depth < 4 && isObject(current); depth++) {
    const found = fromErrorShape(current);
    if (found) return found;
    current = current.underlyingError ?? current.cause;
  }
  return { locked: false };
}

function fromErrorShape(error: Record<string, unknown>): LockoutRefusal | LockoutUnavailable | undefined {
  const name = [error.name, error.code, error.__type].find((v): v is string => typeof v === 'string');
  // The SDK's raw JSON names look like "com.amazonaws...#UserLambdaValidationException".
  if (name !== undefined && !NAMES.has(name.split('#').pop()!)) return undefined;
  if (typeof error.message !== 'string') return undefined;
  const match = TRIGGER_ERROR.exec(error.message.trim());
  if (!match) return undefined;
  const trigger = match[1] as LockoutTrigger;
  // Remove the period Cognito appends; a message that ends in its own period then keeps it.
  const text = match[2].trim().replace(/\.$/, '').trim();
  if (text === '') return undefined;
  if (withoutFinalPeriods(text) === withoutFinalPeriods(GENERIC_FAILURE_MESSAGE)) return { locked: false, unavailable: true, trigger };
  return { locked: true, message: text, trigger };
}

function withoutFinalPeriods(text: string): string {
  return text.replace(/\.+$/, '');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
