/**
 * Recognizes a lockout refusal in whatever a sign-in (or sign-up) call threw, for Amplify v6, for
 * amazon-cognito-identity-js and for the AWS SDK, so a front end can show the message. No runtime dependency:
 * it reads the error's shape only, and imports nothing but two constants from import-free modules.
 *
 * AWS documents how Cognito reports an exception thrown by a trigger: `UserLambdaValidationException` with the
 * message "[trigger] failed with error [error text]." — Cognito appends the final period, so the default refusal
 * ("... Try again later.") reaches clients as "... Try again later..". Some flows report the same text as
 * `NotAuthorizedException`, so the message decides, not only the name. Both forms, with and without the
 * appended period, are recognized.
 *
 * Any trigger's error reaches the client in that format, a trigger composed with the lockout (`ownFunctions`)
 * included, so the trigger's name alone proves nothing: a refusal is recognized only when the text is one of the
 * refusal messages in use, and the generic failure only when it is the lockout's one generic text.
 */
import { GENERIC_FAILURE_MESSAGE } from '../../lambdas/shared/messages';
import { MINUTES_PLACEHOLDER } from '../../lambdas/decision/refusal-text';

/** The triggers that refuse: sign-in (PreAuthentication) and sign-up (PreSignUp). */
export type LockoutTrigger = 'PreAuthentication' | 'PreSignUp';
/** Every trigger the lockout runs; any of them can fail with the generic message. */
export type LockoutTriggerName = LockoutTrigger | 'PostAuthentication' | 'PostConfirmation' | 'PreTokenGeneration';

export interface LockoutRefusal {
  readonly locked: true;
  /**
   * The refusal as the user should see it, without the period Cognito appends: the configured message, with
   * `{minutes}` filled in by the trigger, e.g. "Too many failed sign-in attempts. Try again later."
   */
  readonly message: string;
  /** Which trigger refused: sign-in (PreAuthentication) or sign-up (PreSignUp). */
  readonly trigger: LockoutTrigger;
}

/**
 * A lockout trigger failed for a reason other than a lockout (the store, a bug, a configuration error) and sent its
 * one generic message. Not a refusal: show a generic "try again later", never "your account is locked".
 */
export interface LockoutUnavailable {
  readonly locked: false;
  readonly unavailable: true;
  readonly trigger: LockoutTriggerName;
}

export type LockoutCheck = LockoutRefusal | LockoutUnavailable | { readonly locked: false };

/**
 * The refusal messages the deployment uses, when they are not the shipped defaults: the `refusalMessage` and
 * `signUpRefusalMessage` settings, exactly as configured. Give several while a change rolls out.
 */
export interface RecognizeLockoutOptions {
  /** The sign-in refusal(s), `{minutes}` left in as configured. Default: "Too many failed sign-in attempts. Try again later." */
  readonly refusalMessages?: string | readonly string[];
  /** The sign-up refusal(s). Default: "Too many sign-up attempts. Try again later." */
  readonly signUpRefusalMessages?: string | readonly string[];
}

/**
 * The shipped defaults of `refusalMessage` and `signUpRefusalMessage`. Copied rather than imported: the settings
 * module would bring its validation tables into front-end bundles. test/client.test.ts checks them against
 * `DEFAULT_SETTINGS`.
 */
const DEFAULT_REFUSAL = 'Too many failed sign-in attempts. Try again later.';
const DEFAULT_SIGN_UP_REFUSAL = 'Too many sign-up attempts. Try again later.';

const TRIGGER_ERROR = /^(PreAuthentication|PreSignUp|PostAuthentication|PostConfirmation|PreTokenGeneration) failed with error ([\s\S]*)$/;
const NAMES = new Set(['UserLambdaValidationException', 'NotAuthorizedException']);

interface Matchers {
  readonly signIn: readonly RegExp[];
  readonly signUp: readonly RegExp[];
}

/**
 * `{ locked: true, message, trigger }` for a lockout refusal: PreAuthentication's text is one of
 * `options.refusalMessages` (a `{minutes}` in it stands for the whole number of minutes the trigger puts there),
 * PreSignUp's is one of `options.signUpRefusalMessages`; both default to the shipped messages.
 * `{ locked: false, unavailable: true, trigger }` for the generic failure of any of the lockout's triggers
 * (PreAuthentication, PreSignUp, PostAuthentication, PostConfirmation, PreTokenGeneration).
 * `{ locked: false }` for anything else, another trigger's own error included. Follows Amplify's
 * `underlyingError` and `cause` chains. Never throws.
 */
export function recognizeLockout(error: unknown, options: RecognizeLockoutOptions = {}): LockoutCheck {
  const matchers: Matchers = {
    signIn: list(options?.refusalMessages, DEFAULT_REFUSAL).map((m) => pattern(m, true)),
    signUp: list(options?.signUpRefusalMessages, DEFAULT_SIGN_UP_REFUSAL).map((m) => pattern(m, false)),
  };
  // Amplify wraps the service error as `underlyingError`; others may use `cause`. Follow a short chain.
  let current: unknown = error;
  for (let depth = 0; depth < 4 && isObject(current); depth++) {
    const found = fromErrorShape(current, matchers);
    if (found) return found;
    current = current.underlyingError ?? current.cause;
  }
  return { locked: false };
}

function fromErrorShape(error: Record<string, unknown>, matchers: Matchers): LockoutRefusal | LockoutUnavailable | undefined {
  const name = [error.name, error.code, error.__type].find((v): v is string => typeof v === 'string');
  // The SDK's raw JSON names look like "com.amazonaws...#UserLambdaValidationException".
  if (name !== undefined && !NAMES.has(name.split('#').pop()!)) return undefined;
  if (typeof error.message !== 'string') return undefined;
  const match = TRIGGER_ERROR.exec(error.message.trim());
  if (!match) return undefined;
  const trigger = match[1] as LockoutTriggerName;
  // Remove the period Cognito appends; a message that ends in its own period then keeps it.
  const text = match[2].trim().replace(/\.$/, '').trim();
  if (text === '') return undefined;
  const bare = withoutFinalPeriods(text);
  if (bare === withoutFinalPeriods(GENERIC_FAILURE_MESSAGE)) return { locked: false, unavailable: true, trigger };
  // Only the triggers that refuse, each with its own messages; the success signals never refuse.
  if (trigger !== 'PreAuthentication' && trigger !== 'PreSignUp') return undefined;
  const refusals = trigger === 'PreAuthentication' ? matchers.signIn : matchers.signUp;
  return refusals.some((refusal) => refusal.test(bare)) ? { locked: true, message: text, trigger } : undefined;
}

/** The configured messages, or the default when none are given; never throws, whatever a JavaScript caller passes. */
function list(value: unknown, fallback: string): string[] {
  if (value === undefined) return [fallback];
  const values: unknown[] = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  return values.filter((m): m is string => typeof m === 'string' && m.trim() !== '');
}

/**
 * A configured message as a pattern over the received text, both without final periods (so the message matches
 * with or without Cognito's appended period). In a sign-in refusal, `{minutes}` becomes what refusal-text.ts puts
 * in its place: a whole number of minutes, at least 1, the same at every occurrence. The sign-up refusal takes no
 * placeholder, so its text is matched literally.
 */
function pattern(message: string, minutes: boolean): RegExp {
  const bare = withoutFinalPeriods(message.trim());
  if (!minutes || !bare.includes(MINUTES_PLACEHOLDER)) return new RegExp(`^${escape(bare)}$`);
  const [first, ...rest] = bare.split(MINUTES_PLACEHOLDER);
  return new RegExp(`^${escape(first)}${rest.map((part, i) => `${i === 0 ? '([1-9]\\d*)' : '\\1'}${escape(part)}`).join('')}$`);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function withoutFinalPeriods(text: string): string {
  return text.replace(/\.+$/, '');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
