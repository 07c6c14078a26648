// Lambda entry point: configuration is parsed once here, at cold start; a missing or malformed variable is
// logged naming it, and every sign-in then gets the generic message (see triggerEntry).
import { preAuthenticationHandler } from './factories/pre-authentication';

export const handler = preAuthenticationHandler();
