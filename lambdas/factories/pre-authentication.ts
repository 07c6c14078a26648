import type { Context, PreAuthenticationTriggerEvent } from 'aws-lambda';
import { runtimeDeps } from '../runtime/deps';
import { secretsManagerReader } from '../runtime/secret-reader';
import { triggerEntry } from '../runtime/entry';
import { createPreAuthenticationHandler } from '../handlers/pre-authentication';

/**
 * Counts the attempt and throws the configured refusal when the identity is locked. The Lambda context is accepted
 * (composed handlers pass it on) and not needed: the decision is one write within its own budget.
 */
export function preAuthenticationHandler(
  env: NodeJS.ProcessEnv = process.env,
): (event: PreAuthenticationTriggerEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<PreAuthenticationTriggerEvent> {
  return triggerEntry(
    'PreAuthentication',
    () => createPreAuthenticationHandler(runtimeDeps('PreAuthentication', env, secretsManagerReader())),
    'fail',
  );
}
