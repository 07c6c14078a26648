// Lambda entry point: configuration is parsed once here, at cold start; a missing or malformed variable
// fails the init with a message naming it.
import { runtimeDeps } from './engine/runtime';
import { createPostAuthenticationHandler } from './handlers/post-authentication';

export const handler = createPostAuthenticationHandler(runtimeDeps('PostAuthentication'));
