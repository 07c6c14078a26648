import type { Context, PreAuthenticationTriggerEvent } from 'aws-lambda';
import { InvalidTriggerEventError, checkTriggerEvent, isFederated, signInIdentityOf } from '../engine/trigger-event';
import { announce, eventBudget } from '../engine/announce';
import { noticeAddress, requestNotice } from '../engine/lock-notice';
import { lockedUntilText } from '../engine/lockout-events';
import { decideKeys } from '../engine/decide';
import type { TriggerDeps } from '../engine/deps';
import { RefusalError, refusingTrigger } from '../engine/failure';
import { refusalText } from '../engine/refusal-text';

/**
 * Runs before Cognito checks the password: refuse while locked, otherwise count the attempt as presumed
 * failed (post-authentication clears it on success). Unknown users (`userNotFound`, sent when the app client
 * prevents user-existence errors) take exactly the same path, so lockout behaviour never reveals existence.
 */
export function createPreAuthenticationHandler(deps: TriggerDeps) {
  return (event: PreAuthenticationTriggerEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<PreAuthenticationTriggerEvent> =>
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
      if (results[0]?.outcome === 'lockout-started') {
        const result = results[0];
        await announce(deps, 'AccountLocked', identity.logId, eventBudget(context?.getRemainingTimeInMillis?.()), {
          userPoolId: checked.userPoolId ?? null,
          lockedUntil: lockedUntilText(result.lockedUntil, result.permanent),
          reason: 'failed-attempts',
          lockouts: result.lockouts,
          mode: deps.config.settings.lockoutMode,
        });
        // One notice per lock: only the attempt that started it gets here. Not in monitor mode: nothing is locked.
        const email = noticeAddress(checked);
        if (email !== undefined && deps.config.settings.lockoutMode === 'enforce') {
          await requestNotice(deps, identity.logId, eventBudget(context?.getRemainingTimeInMillis?.()), {
            email,
            lockedUntil: lockedUntilText(result.lockedUntil, result.permanent),
            userPoolId: checked.userPoolId ?? null,
          });
        }
      }
      if (!verdict.allow) {
        throw new RefusalError(
          refusalText(deps.config.settings.refusalMessage, results[0]?.lockedUntil, results[0]?.permanent ?? false, now, deps.config.signIn),
        );
      }
      return event;
    });
}
