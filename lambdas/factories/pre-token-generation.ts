import type { PreTokenGenerationTriggerEvent } from 'aws-lambda';
import { runtimeDeps } from '../runtime/deps';
import { secretsManagerReader } from '../runtime/secret-reader';
import { triggerEntry } from '../runtime/entry';
import { type InvocationContext, createPreTokenGenerationHandler } from '../handlers/pre-token-generation';

/**
 * Clears the identity's failures when Cognito issues tokens for a sign-in (any path), and issues the device token;
 * refreshes pass. Never throws but on a malformed event. Pass Lambda's `context` along when you call it from your
 * own handler: its remaining time decides whether optional work (tidying the devices item) still fits.
 */
export function preTokenGenerationHandler(
  env: NodeJS.ProcessEnv = process.env,
): (event: PreTokenGenerationTriggerEvent, context?: InvocationContext) => Promise<PreTokenGenerationTriggerEvent> {
  return triggerEntry(
    'PreTokenGeneration',
    () => createPreTokenGenerationHandler(runtimeDeps('PreTokenGeneration', env, secretsManagerReader())),
    'pass',
  );
}
