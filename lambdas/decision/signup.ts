import type { TriggerConfig } from '../runtime/config';
import type { CheckedEvent } from '../identity/trigger-event';
import { identityRef, normalizeEmail, normalizeIdentifier, normalizePhone, phoneCallingCode } from '../identity/identity';
import type { KeyCheck } from './decide';

/** Cognito generates a UUID user name when email or phone is the sign-in name: a fresh one per sign-up. */
const GENERATED_USER_NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The keys one self-service sign-up is counted against: the chosen user name (unless Cognito generated it,
 * since a fresh UUID never repeats), the email address and phone number, and, when enabled, the email domain
 * and the phone country calling code.
 */
export function signUpChecks(event: CheckedEvent, config: TriggerConfig): KeyCheck[] {
  const checks: KeyCheck[] = [];
  const add = (scope: KeyCheck['scope'], text: string, policy: KeyCheck['policy'] | undefined): void => {
    if (policy !== undefined) checks.push({ scope, identity: identityRef(scope, text), policy });
  };

  const userName = normalizeIdentifier(event.userName);
  if (!GENERATED_USER_NAME.test(userName)) add('signup-username', userName, config.signUp);

  const emailText = typeof event.userAttributes.email === 'string' ? event.userAttributes.email : undefined;
  const email = emailText === undefined ? undefined : normalizeEmail(emailText);
  if (email !== undefined) {
    add('signup-email', email.address, config.signUp);
    add('signup-email-domain', email.domain, config.signUpPerEmailDomain);
  }

  const phoneText = typeof event.userAttributes.phone_number === 'string' ? event.userAttributes.phone_number : undefined;
  const phone = phoneText === undefined ? undefined : normalizePhone(phoneText);
  if (phone !== undefined) {
    add('signup-phone', phone, config.signUp);
    const callingCode = phoneCallingCode(phone);
    if (callingCode !== undefined) add('signup-phone-prefix', callingCode, config.signUpPerPhonePrefix);
  }

  // Nothing usable to count (a UUID name and no contact attribute): count the generated name so the
  // attempt still passes through the store and its error policy, keeping behaviour uniform.
  if (checks.length === 0) add('signup-username', userName, config.signUp);
  return checks;
}
