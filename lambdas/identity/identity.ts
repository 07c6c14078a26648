import { createHash } from 'node:crypto';
import type { KeyScope } from '../shared/contract';

/**
 * Identities are keyed by a SHA-256: keys stay a fixed ~80 bytes whatever a stranger types (DynamoDB caps
 * partition keys at 2,048 bytes), and neither the table nor the logs hold a raw typed name or email. The hash is
 * pseudonymous, not secret: anyone with a candidate name or `sub` can compute it, which is what lets operators
 * and the admin CLI find an identity.
 *
 * One user is one user as Cognito sees it (cognito-triggers.md, "Identity equivalence"):
 *   - A known user (Cognito resolved the typed name: `userAttributes.sub` present) is keyed by `sub`. Every name,
 *     alias and case variant Cognito resolves to that user shares its counter, and nothing typed can reach it.
 *   - An unknown name (`userNotFound`) is keyed by the typed text compared as Cognito compares names: exactly in a
 *     case-sensitive pool; lower-cased in a case-insensitive one. No trim, no Unicode normalization: Cognito
 *     documents neither, and folding more than Cognito merges different users and turns the fold into an
 *     existence oracle (N attempts on a variant Cognito does not resolve would lock the real name's answer only
 *     when the real name is unknown). Folding less does the same the other way.
 * What is assumed: Cognito neither trims nor normalizes (AWS documents neither), and a case-insensitive pool
 * folds case like JavaScript's locale-independent `toLowerCase()`. Should Cognito differ, the oracle returns only
 * for the names where it differs (leading or trailing spaces; the few non-ASCII letters whose lower case differs
 * between implementations, such as dotted capital I or final sigma). Safe either way: no spelling of anything
 * reaches a known user's counter, which is keyed by `sub`.
 * The two kinds are hashed with different prefixes, so a typed name equal to someone's `sub` is still a name.
 */

export type { KeyScope } from '../shared/contract';

/**
 * How a pool compares typed names: Cognito's `UsernameConfiguration.CaseSensitive`. The construct reads it from
 * the pool at synth and passes it to the functions (`LOCKOUT_SIGN_IN_CASE_SENSITIVE`).
 */
export interface NameComparison {
  readonly caseSensitive: boolean;
}

/** Trim, Unicode NFKC, lower case: for sign-up abuse limits only, where folding look-alikes together is the point. */
export function normalizeIdentifier(raw: string): string {
  return raw.trim().normalize('NFKC').toLowerCase();
}

export interface IdentityRef {
  /** The DynamoDB partition key. */
  readonly key: string;
  /** A short, log-safe reference: the first 16 hex digits of the key's hash. */
  readonly logId: string;
  /** A known user's `sub`, written on the item with a lock so the notifier can find the address (outbox.ts). */
  readonly sub?: string;
}

export function identityRef(scope: KeyScope, normalized: string): IdentityRef {
  const digest = createHash('sha256').update(normalized, 'utf8').digest('hex');
  return { key: `${scope}#${digest}`, logId: digest.slice(0, 16) };
}

/** The sign-in identity of a user Cognito knows: its `sub`. */
export function userIdentity(sub: string): IdentityRef {
  return { ...identityRef('signin', `user\u0000${sub}`), sub };
}

/** The sign-in identity of a name Cognito resolves to nobody, compared as the pool compares names. */
export function unknownNameIdentity(typed: string, comparison: NameComparison): IdentityRef {
  return identityRef('signin', `name\u0000${comparison.caseSensitive ? typed : typed.toLowerCase()}`);
}

/**
 * Email for sign-up limits: normalized, with a `+tag` removed from the local part, since
 * `victim+1@`, `victim+2@`... is the cheapest way around a per-address limit. Dots are kept: only some
 * providers ignore them. Returns undefined for text that is not an address.
 */
export function normalizeEmail(raw: string): { address: string; domain: string } | undefined {
  const text = normalizeIdentifier(raw);
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return undefined;
  const local = text.slice(0, at).split('+')[0];
  const domain = text.slice(at + 1);
  if (local === '') return undefined;
  return { address: `${local}@${domain}`, domain };
}

/** E.164 digits with the leading +, or undefined when the text has no digits. */
export function normalizePhone(raw: string): string | undefined {
  const digits = normalizeIdentifier(raw).replace(/[^0-9]/g, '');
  return digits === '' ? undefined : `+${digits}`;
}

/**
 * ITU-T E.164 country calling codes are prefix-free: these are every 1- and 2-digit code; every other
 * code has 3 digits. That rule is all that is needed to group numbers by country without a phone library.
 */
const SHORT_CALLING_CODES = new Set([
  '1',
  '7',
  '20',
  '27',
  '30',
  '31',
  '32',
  '33',
  '34',
  '36',
  '39',
  '40',
  '41',
  '43',
  '44',
  '45',
  '46',
  '47',
  '48',
  '49',
  '51',
  '52',
  '53',
  '54',
  '55',
  '56',
  '57',
  '58',
  '60',
  '61',
  '62',
  '63',
  '64',
  '65',
  '66',
  '81',
  '82',
  '84',
  '86',
  '90',
  '91',
  '92',
  '93',
  '94',
  '95',
  '98',
]);

export function phoneCallingCode(e164: string): string | undefined {
  const digits = e164.replace(/^\+/, '');
  if (digits.length < 4) return undefined;
  for (const length of [1, 2]) {
    if (SHORT_CALLING_CODES.has(digits.slice(0, length))) return digits.slice(0, length);
  }
  return digits.slice(0, 3);
}
