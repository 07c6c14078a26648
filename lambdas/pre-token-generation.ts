// Lambda entry point: configuration is parsed once here, at cold start; a missing or malformed variable is
// logged naming it, and sign-ins still complete (see triggerEntry).
import { preTokenGenerationHandler } from './factories/pre-token-generation';

export const handler = preTokenGenerationHandler();
