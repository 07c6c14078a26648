// Lambda entry point: configuration is parsed once here, at cold start; a missing or malformed variable is
// logged naming it, and every sign-in then gets the generic message (see triggerEntry).
import { triggerEntry } from './engine/entry';
import { eventPublisherFromEnv } from './engine/event-publisher';
import { runtimeDeps } from './engine/runtime';
import { createPreAuthenticationHandler } from './handlers/pre-authentication';

export const handler = triggerEntry(
  'PreAuthentication',
  () => createPreAuthenticationHandler({ ...runtimeDeps('PreAuthentication'), events: eventPublisherFromEnv(process.env) }),
  'fail',
);
