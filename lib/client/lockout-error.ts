/**
 * Recognizes a lockout refusal in whatever a sign-in (or sign-up) call threw, for Amplify v6, for
 * amazon-cognito-identity-js and for the AWS SDK, so a front end can show the message. No runtime dependency:
 * it reads the error's shape only.
 *
 * Cognito reports an exception thrown by a trigger as `UserLambdaValidationException` with the message
 * `PreAuthentication failed with error <message>.` (or `PreSignUp failed with error ...`). Some flows report the
 * same text as `NotAuthorizedException`, so the message decides, not only the name.
 */

export interface LockoutRefusal {
  readonly locked: true;
  /** The message the lockout configured for users, e.g. "Too many failed sign-in attempts. Try again later." */
  readonly message: string;
  /** Which trigger refused: sign-in (PreAuthentication) or sign-up (PreSignUp). */
  readonly trigger: 'PreAuthentication' | 'PreSignUp';
}

export type LockoutCheck = LockoutRefusal | { readonly locked: false };

const REFUSAL = /^(PreAuthentication|PreSignUp) failed with error ([\s\S]*?)\.?$/;
const NAMES = new Set(['UserLambdaValidationException', 'NotAuthorizedException']);

/** `{ locked: true, message }` when `error` is a lockout refusal, else `{ locked: false }`. Never throws. */
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

function fromErrorShape(error: Record<string, unknown>): LockoutRefusal | undefined {
  const name = [error.name, error.code, error.__type].find((v): v is string => typeof v === 'string');
  // The SDK's raw JSON names look like "com.amazonaws...#UserLambdaValidationException".
  if (name !== undefined && !NAMES.has(name.split('#').pop()!)) return undefined;
  if (typeof error.message !== 'string') return undefined;
  const match = REFUSAL.exec(error.message.trim());
  if (!match) return undefined;
  return { locked: true, message: match[2].trim(), trigger: match[1] as LockoutRefusal['trigger'] };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
