// Lambda entry point: configuration is parsed once here, at cold start; a missing or malformed variable is
// logged naming it, and confirmations still complete (see triggerEntry).
import { postConfirmationHandler } from './factories/post-confirmation';

export const handler = postConfirmationHandler();
