// Lambda entry point: configuration is parsed once here, at cold start; a missing or malformed variable is
// logged naming it, and every sign-up then gets the generic message (see triggerEntry).
import { preSignUpHandler } from './triggers';

export const handler = preSignUpHandler();
