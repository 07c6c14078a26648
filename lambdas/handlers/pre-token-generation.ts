import type { PreTokenGenerationTriggerEvent } from 'aws-lambda';
import type { TriggerDeps } from '../engine/deps';
import { createSuccessHandler } from './sign-in-success';

/**
 * Pre token generation as a success signal. AWS's table of trigger sources: Cognito calls it whenever it issues
 * tokens, `TokenGeneration_HostedAuth` for sign-ins on the managed login pages, `TokenGeneration_Authentication`
 * "after user authentication flows have completed" (so after MFA), `TokenGeneration_NewPasswordChallenge` and
 * `TokenGeneration_AuthenticateDevice`. `TokenGeneration_RefreshTokens` is a token refresh and `TokenGeneration_ClientCredentials` (V3) a
 * machine-to-machine token, not sign-ins: they pass untouched, like any source this version does not know. The claims are never changed: the event is returned as it came.
 */
export function createPreTokenGenerationHandler(
  deps: TriggerDeps,
): (event: PreTokenGenerationTriggerEvent) => Promise<PreTokenGenerationTriggerEvent> {
  return createSuccessHandler<PreTokenGenerationTriggerEvent>(deps, {
    trigger: 'PreTokenGeneration',
    signIns: [
      'TokenGeneration_HostedAuth',
      'TokenGeneration_Authentication',
      'TokenGeneration_NewPasswordChallenge',
      'TokenGeneration_AuthenticateDevice',
    ],
    others: ['TokenGeneration_RefreshTokens', 'TokenGeneration_ClientCredentials'],
  });
}
