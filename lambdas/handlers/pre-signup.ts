import type { PreSignUpTriggerEvent } from 'aws-lambda';
import { checkTriggerEvent } from '../identity/trigger-event';
import { decideKeys } from '../decision/decide';
import type { TriggerDeps } from '../runtime/deps';
import { DecisionUnavailableError, RefusalError, refusingTrigger } from '../runtime/failure';
import { signUpChecks } from '../decision/signup';

const SOURCES = ['PreSignUp_SignUp', 'PreSignUp_AdminCreateUser', 'PreSignUp_ExternalProvider'] as const;

/**
 * Limits self-service sign-ups per email, phone number and user name (and optionally per email domain and
 * phone country code). Administrator-created and federated sign-ups pass untouched: neither is self-service
 * abuse. The event is returned unchanged, so auto-confirmation settings stay Cognito's.
 */
export function createPreSignUpHandler(deps: TriggerDeps) {
  return (event: PreSignUpTriggerEvent): Promise<PreSignUpTriggerEvent> =>
    refusingTrigger(deps.telemetry, async () => {
      const checked = checkTriggerEvent(event, 'PreSignUp', SOURCES);
      if (checked.triggerSource !== 'PreSignUp_SignUp') return event;
      const { verdict, unavailable } = await decideKeys(deps, signUpChecks(checked, deps.config));
      if (!verdict.allow) throw unavailable ? new DecisionUnavailableError() : new RefusalError(deps.config.settings.signUpRefusalMessage);
      return event;
    });
}
