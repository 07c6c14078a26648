// Lambda entry point: configuration is parsed once here, at cold start; a missing or malformed variable is
// logged naming it, and sign-ins still complete (see triggerEntry).
import { triggerEntry } from './engine/entry';
import { runtimeDeps } from './engine/runtime';
import { createPostAuthenticationHandler } from './handlers/post-authentication';

export const handler = triggerEntry('PostAuthentication', () => createPostAuthenticationHandler(runtimeDeps('PostAuthentication')), 'pass');
