/**
 * The only texts a trigger ever sends to Cognito's caller besides the configured refusal messages. Kept free of
 * imports: the front-end helper bundles it to tell this failure apart from a refusal.
 */

/**
 * Thrown for everything that is not a refusal: a malformed event, a bug, a configuration error. One fixed text,
 * so nothing internal reaches end users, and nothing distinguishes an unknown name from a known one. No final
 * period: Cognito appends one ("[trigger] failed with error [text].").
 */
export const GENERIC_FAILURE_MESSAGE = 'Something went wrong. Try again later';
