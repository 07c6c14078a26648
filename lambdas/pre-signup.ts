// Lambda entry point: configuration is parsed once here, at cold start; a missing or malformed variable is
// logged naming it, and every sign-up then gets the generic message (see triggerEntry).
import { preSignUpHandler } from './factories/pre-signup';

export const handler = preSignUpHandler();
