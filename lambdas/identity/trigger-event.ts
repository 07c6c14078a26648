import { type IdentityRef, type NameComparison, unknownNameIdentity, userIdentity } from './identity';

/**
 * Minimal structural checks of Cognito trigger events. Cognito's shapes grow over time, so unknown fields are
 * accepted; only what the lockout reads is required.
 */

/** A malformed or unexpected event. Its message names the field, never a value or anything internal. */
export class InvalidTriggerEventError extends Error {
  override readonly name = 'InvalidTriggerEventError';
}

export interface CheckedEvent {
  readonly triggerSource: string;
  readonly userName: string;
  readonly userPoolId: string | undefined;
  readonly request: Record<string, unknown>;
  readonly userAttributes: Record<string, unknown>;
}

export function checkTriggerEvent(event: unknown, trigger: string, triggerSources: readonly string[]): CheckedEvent {
  const fail = (what: string): never => {
    throw new InvalidTriggerEventError(`Invalid ${trigger} trigger event: ${what}`);
  };
  if (!isRecord(event)) return fail('the event must be an object');
  const { triggerSource, userName, userPoolId, request } = event;
  if (typeof triggerSource !== 'string' || !triggerSources.includes(triggerSource)) {
    return fail(`triggerSource must be one of ${triggerSources.join(', ')}`);
  }
  if (typeof userName !== 'string' || userName.trim() === '') return fail('userName must be a non-empty string');
  if (!isRecord(request)) return fail('request must be an object');
  const userAttributes = request.userAttributes;
  if (userAttributes !== undefined && !isRecord(userAttributes)) return fail('request.userAttributes must be an object');
  return {
    triggerSource,
    userName,
    userPoolId: typeof userPoolId === 'string' ? userPoolId : undefined,
    request,
    userAttributes: userAttributes ?? {},
  };
}

/** Users from an external identity provider sign in without a password: nothing to guess, nothing to lock. */
export function isFederated(event: CheckedEvent): boolean {
  return event.userAttributes['cognito:user_status'] === 'EXTERNAL_PROVIDER';
}

export function attributeText(event: CheckedEvent, name: string): string | undefined {
  const value = event.userAttributes[name];
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The sign-in identity Cognito means: the user's `sub` when Cognito resolved the name, the typed name compared as
 * the pool compares names when it did not (`userNotFound`). Undefined when a known user arrives without a `sub`,
 * which Cognito does not send: the caller decides what that means for its trigger.
 */
export function signInIdentityOf(event: CheckedEvent, names: NameComparison): IdentityRef | undefined {
  if (event.request.userNotFound === true) return unknownNameIdentity(event.userName, names);
  const sub = attributeText(event, 'sub');
  return sub === undefined ? undefined : userIdentity(sub);
}
