// Lambda entry point: configuration is parsed once here, at cold start; a missing or malformed variable
// fails the init with a message naming it.
import { runtimeDeps } from './engine/runtime';
import { createPreSignUpHandler } from './handlers/pre-signup';

export const handler = createPreSignUpHandler(runtimeDeps('PreSignUp'));
