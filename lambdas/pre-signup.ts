// Lambda entry point: configuration is parsed once here, at cold start; a missing or malformed variable is
// logged naming it, and every sign-up then gets the generic message (see triggerEntry).
import { triggerEntry } from './engine/entry';
import { runtimeDeps } from './engine/runtime';
import { createPreSignUpHandler } from './handlers/pre-signup';

export const handler = triggerEntry('PreSignUp', () => createPreSignUpHandler(runtimeDeps('PreSignUp')), 'fail');
