import type { PreSignUpTriggerEvent } from 'aws-lambda';
import { InvalidTriggerEventError, checkTriggerEvent } from '../engine/events';
import { RefusalError, type TriggerDeps, decideKeys } from '../engine/runtime';
import { signUpChecks } from '../engine/signup';
import { count, flush } from '../engine/telemetry';

const SOURCES = ['PreSignUp_SignUp', 'PreSignUp_AdminCreateUser', 'PreSignUp_ExternalProvider'] as const;

/**
 * Limits self-service sign-ups per email, phone number and user name (and optionally per email domain and
 * phone country code). Administrator-created and federated sign-ups pass untouched: neither is self-service
 * abuse. The event is returned unchanged, so auto-confirmation settings stay Cognito's.
 */
export function createPreSignUpHandler(deps: TriggerDeps) {
  return async (event: PreSignUpTriggerEvent): Promise<PreSignUpTriggerEvent> => {
    const { logger, metrics } = deps.telemetry;
    try {
      const checked = checkTriggerEvent(event, 'PreSignUp', SOURCES);
      if (checked.triggerSource !== 'PreSignUp_SignUp') return event;
      const { verdict } = await decideKeys(deps, signUpChecks(checked, deps.config));
      if (!verdict.allow) throw new RefusalError(deps.config.settings.signUpRefusalMessage);
      return event;
    } catch (error) {
      if (error instanceof InvalidTriggerEventError) {
        count(metrics, 'InvalidEvents');
        logger.error(error.message);
      }
      throw error;
    } finally {
      flush(metrics);
    }
  };
}
