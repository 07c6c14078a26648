// Lambda entry point: configuration is parsed once here, at cold start; a missing or malformed variable
// fails the init with a message naming it.
import { eventPublisherFromEnv } from './engine/event-publisher';
import { runtimeDeps } from './engine/runtime';
import { createPreAuthenticationHandler } from './handlers/pre-authentication';

export const handler = createPreAuthenticationHandler({ ...runtimeDeps('PreAuthentication'), events: eventPublisherFromEnv(process.env) });
