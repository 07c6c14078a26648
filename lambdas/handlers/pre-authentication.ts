import type { PreAuthenticationTriggerEvent } from 'aws-lambda';
import { InvalidTriggerEventError, checkTriggerEvent, isFederated } from '../engine/events';
import { signInIdentity } from '../engine/identity';
import { RefusalError, type TriggerDeps, decideKeys } from '../engine/runtime';
import { count, flush } from '../engine/telemetry';

/**
 * Runs before Cognito checks the password: refuse while locked, otherwise count the attempt as presumed
 * failed (post-authentication clears it on success). Unknown users (`userNotFound`, sent when the app client
 * prevents user-existence errors) take exactly the same path, so lockout behaviour never reveals existence.
 */
export function createPreAuthenticationHandler(deps: TriggerDeps) {
  return async (event: PreAuthenticationTriggerEvent): Promise<PreAuthenticationTriggerEvent> => {
    const { logger, metrics } = deps.telemetry;
    try {
      const checked = checkTriggerEvent(event, 'PreAuthentication', ['PreAuthentication_Authentication']);
      if (isFederated(checked)) {
        logger.debug('federated user: not counted');
        return event;
      }
      const verdict = await decideKeys(deps, [{ scope: 'signin', identity: signInIdentity(checked.userName), policy: deps.config.signIn }], {
        userNotFound: checked.request.userNotFound === true,
      });
      if (!verdict.allow) throw new RefusalError(deps.config.settings.refusalMessage);
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
