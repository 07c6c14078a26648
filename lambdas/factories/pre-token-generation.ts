import type { PreTokenGenerationTriggerEvent } from 'aws-lambda';
import { runtimeDeps } from '../engine/deps';
import { secretsManagerReader } from '../engine/secret-reader';
import { triggerEntry } from '../engine/entry';
import { createPreTokenGenerationHandler } from '../handlers/pre-token-generation';

/** Clears the identity's failures when Cognito issues tokens for a sign-in (any path); refreshes pass. Never throws but on a malformed event. */
export function preTokenGenerationHandler(
  env: NodeJS.ProcessEnv = process.env,
): (event: PreTokenGenerationTriggerEvent) => Promise<PreTokenGenerationTriggerEvent> {
  return triggerEntry(
    'PreTokenGeneration',
    () => createPreTokenGenerationHandler(runtimeDeps('PreTokenGeneration', env, secretsManagerReader())),
    'pass',
  );
}
