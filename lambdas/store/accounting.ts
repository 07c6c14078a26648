/**
 * Accounting of successful sign-ins (docs/policy.md, "Every sign-in accounted for"). The lockout protects a flow
 * only if Cognito runs pre-authentication for it, which AWS documents for some flows and not for others
 * (USER_AUTH, CUSTOM_AUTH: cognito-triggers.md). So every deployment checks it itself: each counted attempt
 * stamps its bucket with its time (`attemptAt` on the anonymous item, `<did>.a` on a device bucket), the success
 * clear keeps that stamp and returns it with the write it makes anyway, and a success whose bucket holds no
 * attempt from within one authentication session is an uncounted sign-in: a flow that bypasses the lockout.
 * Pure: the handler reports (metric, log, event); see sign-in-success.ts.
 */

/**
 * How long before its success a sign-in's counted attempt may lie: Cognito's authentication session lasts at most
 * 15 minutes (the challenge `Session` of SRP, MFA and USER_AUTH steps), so an attempt older than that belongs to
 * another sign-in.
 */
export const AUTH_SESSION_MS = 15 * 60_000;

/** The anonymous item's stamp of its last counted attempt (epoch ms). */
export const ATTEMPT_AT = 'attemptAt';

/**
 * - counted:   pre-authentication counted an attempt in this bucket within the session before the success
 * - uncounted: it did not: the sign-in took a flow pre-authentication did not run for
 * - unknown:   the store did not answer, so nothing can be said (never reported as uncounted)
 */
export type Accounting = 'counted' | 'uncounted' | 'unknown';

/** The verdict on a success at `now` whose bucket's last counted attempt was at `attemptAt` (undefined: none). */
export function accountingOf(attemptAt: number | undefined, now: number): Exclude<Accounting, 'unknown'> {
  // A clock step between two functions can put an attempt slightly after its success: still this sign-in's.
  return attemptAt !== undefined && attemptAt > now - AUTH_SESSION_MS ? 'counted' : 'uncounted';
}

/** The stamp as the store returned it, when it is one. */
export function attemptAtOf(item: Record<string, unknown> | undefined): number | undefined {
  const value = item?.[ATTEMPT_AT];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
