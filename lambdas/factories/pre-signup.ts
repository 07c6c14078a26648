import type { PreSignUpTriggerEvent } from 'aws-lambda';
import { runtimeDeps } from '../runtime/deps';
import { triggerEntry } from '../runtime/entry';
import { createPreSignUpHandler } from '../handlers/pre-signup';

/** Counts a self-service sign-up and throws the configured refusal when over a limit. */
export function preSignUpHandler(env: NodeJS.ProcessEnv = process.env): (event: PreSignUpTriggerEvent) => Promise<PreSignUpTriggerEvent> {
  return triggerEntry('PreSignUp', () => createPreSignUpHandler(runtimeDeps('PreSignUp', env)), 'fail');
}
