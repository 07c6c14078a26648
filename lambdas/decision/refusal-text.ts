/**
 * The refusal a user sees, with its optional `{minutes}` placeholder filled ("Try again in {minutes} minutes.").
 * It depends only on the lock the store reports, which the policy builds the same way for known and unknown
 * names, so the text reveals no more than the refusal itself. A permanent lock shows the longest temporary lock:
 * telling an attacker that an account is now permanently locked would tell them their guessing reached it.
 */
export const MINUTES_PLACEHOLDER = '{minutes}';

export function refusalText(
  template: string,
  lockedUntil: number | undefined,
  permanent: boolean,
  now: number,
  policy: { lockoutMs: number; maxLockoutMs: number },
): string {
  if (!template.includes(MINUTES_PLACEHOLDER)) return template;
  const leftMs = permanent ? policy.maxLockoutMs : lockedUntil !== undefined && lockedUntil > now ? lockedUntil - now : policy.lockoutMs;
  return template.split(MINUTES_PLACEHOLDER).join(String(Math.max(1, Math.ceil(leftMs / 60_000))));
}
