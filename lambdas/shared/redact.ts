/**
 * Addresses out of text bound for a log or an event. Provider messages quote what they were given (an SES rejection
 * names its recipient), and an AWS identity can carry one (IAM Identity Center session names are often the
 * person's email). No dependency: the admin CLI uses it too.
 */

/**
 * Anything shaped like an email address: local part, @, domain, as loosely as providers quote them. A slash ends
 * it, so a path or an ARN keeps what precedes the address.
 */
const ADDRESS = /[^\s@"'<>(),;:[\]/]+@[^\s@"'<>(),;:[\]/]+/g;

/** `text` with every address replaced by `[address]`. */
export function redacted(text: string): string {
  return text.replace(ADDRESS, '[address]');
}
