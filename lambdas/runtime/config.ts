import { type LockoutSettings, SettingError, settingsFromEnv } from '../policy/settings';
import type { RateLimitPolicy } from '../policy/policy';
import { DEVICE_KEY_SECRET_ENV, SIGN_IN_CASE_SENSITIVE_ENV, TABLE_NAME_ENV } from '../shared/contract';
import type { NameComparison } from '../identity/identity';

/** Everything a trigger needs, parsed and validated once at cold start. */
export interface TriggerConfig {
  readonly tableName: string;
  readonly settings: LockoutSettings;
  /** How the pool compares typed names: unknown names are keyed the same way. */
  readonly names: NameComparison;
  readonly signIn: RateLimitPolicy;
  /** Device tokens, when on: each valid token's own bucket counts under `policy`. */
  readonly devices?: DeviceTokenConfig;
  readonly signUp: RateLimitPolicy;
  /** Sign-up limit per email domain, or undefined when off. */
  readonly signUpPerEmailDomain?: RateLimitPolicy;
  /** Sign-up limit per phone country calling code, or undefined when off. */
  readonly signUpPerPhonePrefix?: RateLimitPolicy;
}

export interface DeviceTokenConfig {
  /** The ID token claim, and the `validationData` key the token comes back under. */
  readonly claim: string;
  readonly lifetimeMs: number;
  readonly policy: RateLimitPolicy;
  /** Devices that may count apart per fixed window (settings.ts `deviceBucketsPerWindow`). */
  readonly bucketsPerWindow: number;
  /** The secret holding the keys (its ARN), from DEVICE_KEY_SECRET_ENV. */
  readonly keySecret?: string;
}

/** Fails with a message naming the variable: a misconfigured trigger must never guess. */
export function loadConfig(env: NodeJS.ProcessEnv): TriggerConfig {
  const tableName = env[TABLE_NAME_ENV]?.trim();
  if (!tableName) throw new SettingError(`${TABLE_NAME_ENV} must name the lockout DynamoDB table, but it is not set`);
  // DynamoDB's own naming rule; catching it here beats a ValidationException on the first sign-in.
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(tableName)) {
    throw new SettingError(`${TABLE_NAME_ENV} must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -), got ${JSON.stringify(tableName)}`);
  }
  // A missing key secret is not a configuration error: like a key that cannot be read, it turns device tokens into
  // absent ones (logged and counted at every decision that carries one, deps.ts), never an error to a user.
  const keySecret = env[DEVICE_KEY_SECRET_ENV]?.trim() || undefined;
  return configFromSettings(tableName, settingsFromEnv(env), { caseSensitive: caseSensitivityFromEnv(env) }, keySecret);
}

/**
 * Required, with no default: guessing wrong in either direction makes unknown-name keys differ from Cognito's
 * comparison, which is an existence oracle (identity.ts).
 */
function caseSensitivityFromEnv(env: NodeJS.ProcessEnv): boolean {
  const raw = env[SIGN_IN_CASE_SENSITIVE_ENV]?.trim();
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new SettingError(
    `${SIGN_IN_CASE_SENSITIVE_ENV} must be "true" or "false" (the user pool's UsernameConfiguration.CaseSensitive), got ${JSON.stringify(raw ?? null)}`,
  );
}

export function configFromSettings(tableName: string, settings: LockoutSettings, names: NameComparison, keySecret?: string): TriggerConfig {
  const signUpWith = (maxAttempts: number): RateLimitPolicy => ({
    maxAttempts,
    windowMs: settings.signUpWindowSeconds * 1000,
    lockoutMs: settings.signUpLockoutSeconds * 1000,
    // Sign-up abuse is throttled, not escalated: no backoff, never permanent.
    backoffMultiplier: 1,
    maxLockoutMs: settings.signUpLockoutSeconds * 1000,
    maxTemporaryLockouts: 0,
  });
  const signIn: RateLimitPolicy = {
    maxAttempts: settings.maxFailedAttempts,
    windowMs: settings.failureWindowSeconds * 1000,
    lockoutMs: settings.lockoutDurationSeconds * 1000,
    backoffMultiplier: settings.lockoutBackoffMultiplier,
    maxLockoutMs: settings.maxLockoutDurationSeconds * 1000,
    maxTemporaryLockouts: settings.maxTemporaryLockouts,
  };
  return {
    tableName,
    settings,
    names,
    signIn,
    // A device bucket has the user's window, lock and backoff; only its N may differ.
    devices:
      settings.deviceTokens === 'on'
        ? {
            claim: settings.deviceTokenClaim,
            lifetimeMs: settings.deviceTokenLifetimeDays * 24 * 3600 * 1000,
            policy: { ...signIn, maxAttempts: settings.deviceMaxFailedAttempts || settings.maxFailedAttempts },
            bucketsPerWindow: settings.deviceBucketsPerWindow,
            keySecret,
          }
        : undefined,
    signUp: signUpWith(settings.signUpMaxAttempts),
    signUpPerEmailDomain: settings.signUpMaxPerEmailDomain > 0 ? signUpWith(settings.signUpMaxPerEmailDomain) : undefined,
    signUpPerPhonePrefix: settings.signUpMaxPerPhonePrefix > 0 ? signUpWith(settings.signUpMaxPerPhonePrefix) : undefined,
  };
}
