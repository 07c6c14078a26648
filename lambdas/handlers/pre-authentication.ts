import type { PreAuthenticationTriggerEvent } from 'aws-lambda';
import { InvalidTriggerEventError, checkTriggerEvent, isFederated, signInIdentityOf } from '../engine/trigger-event';
import { decideKeys } from '../engine/decide';
import type { TriggerDeps } from '../engine/deps';
import { RefusalError, refusingTrigger } from '../engine/failure';
import { refusalText } from '../engine/refusal-text';

/**
 * Runs before Cognito checks the password: refuse while locked, otherwise count the attempt as presumed
 * failed (post-authentication clears it on success). Unknown users (`userNotFound`, sent when the app client
 * prevents user-existence errors) take exactly the same path, so lockout behaviour never reveals existence.
 *
 * A decision is its one write and nothing else: the lock it may start is announced, and its owner told, by the
 * table's stream consumers afterwards (outbox.ts). Nothing here waits on a side call, so a lock-starting attempt
 * costs the same for a known account and an unknown name.
 */
export function createPreAuthenticationHandler(deps: TriggerDeps) {
  return (event: PreAuthenticationTriggerEvent): Promise<PreAuthenticationTriggerEvent> =>
    refusingTrigger(deps.telemetry, async () => {
      const checked = checkTriggerEvent(event, 'PreAuthentication', ['PreAuthentication_Authentication']);
      if (isFederated(checked)) {
        deps.telemetry.logger.debug('federated user: not counted');
        return event;
      }
      const identity = signInIdentityOf(checked, deps.config.names);
      // Cognito sends `sub` for every user it resolved. Keying such a user by the typed name instead would split
      // its counter by alias and share it with strangers, so the event is refused as malformed.
      if (identity === undefined)
        throw new InvalidTriggerEventError('Invalid PreAuthentication trigger event: request.userAttributes.sub is missing');
      const { verdict, results, now } = await decideKeys(deps, [{ scope: 'signin', identity, policy: deps.config.signIn }], {
        userNotFound: checked.request.userNotFound === true,
      });
      if (!verdict.allow) {
        throw new RefusalError(
          refusalText(deps.config.settings.refusalMessage, results[0]?.lockedUntil, results[0]?.permanent ?? false, now, deps.config.signIn),
        );
      }
      return event;
    });
}
