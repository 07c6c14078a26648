/**
 * Every policy knob, stated once: its environment variable, default and bounds. The Lambda configuration
 * parser, the CDK construct and the CDK app's context parser all validate through this table, so a value
 * accepted at synth is a value the trigger accepts at cold start, and the configuration reference (docs/configuration.md) has one source.
 */

export type LockoutMode = 'enforce' | 'monitor';
/**
 * What a decision does when the store fails or runs out of time (see store-guard.ts):
 * - `local` (default): this instance decides from its own record of recent decisions, with the same policy: at
 *   most N admissions per identity per window per instance, and identities it knows are locked stay refused.
 * - `allow`: admit as if the lockout were absent (the behaviour before `local` existed; an outage turns it off).
 * - `deny`: refuse every attempt the store cannot decide (no sign-in at all during an outage).
 */
export type StoreErrorPolicy = 'local' | 'allow' | 'deny';

/**
 * What a confirmed password reset (ConfirmForgotPassword) does to a sign-in lock: `temporary` (default) lifts a
 * temporary lock and clears the counts and streak, `all` lifts permanent locks too, `off` attaches nothing.
 */
export type UnlockOnPasswordReset = 'temporary' | 'all' | 'off';

/**
 * Which trigger tells the lockout a sign-in succeeded (and clears its failures): post-authentication, pre token
 * generation, or both (default). See docs/policy.md, "Success on every sign-in path", for the evidence.
 */
export type SuccessSignal = 'both' | 'pre-token-generation' | 'post-authentication';

/**
 * Device tokens (device-token.ts): `on` (default) issues one at every sign-in and counts a valid one in its own
 * bucket, so an attacker holding the account locked does not lock out its owner's familiar devices; `off` counts
 * every attempt in the user's one bucket, as before. On by default: it takes nothing from a front end that ignores
 * it (no token is one anonymous bucket, exactly the old behaviour) and costs one HMAC per decision.
 */
export type DeviceTokens = 'on' | 'off';

export interface LockoutSettings {
  readonly maxFailedAttempts: number;
  readonly lockoutDurationSeconds: number;
  readonly failureWindowSeconds: number;
  readonly lockoutBackoffMultiplier: number;
  readonly maxLockoutDurationSeconds: number;
  readonly maxTemporaryLockouts: number;
  readonly lockoutMode: LockoutMode;
  readonly storeErrorPolicy: StoreErrorPolicy;
  readonly refusalMessage: string;
  readonly signUpMaxAttempts: number;
  readonly signUpWindowSeconds: number;
  readonly signUpLockoutSeconds: number;
  readonly signUpMaxPerEmailDomain: number;
  readonly signUpMaxPerPhonePrefix: number;
  readonly signUpRefusalMessage: string;
  readonly storeTimeoutMs: number;
  readonly unlockOnPasswordReset: UnlockOnPasswordReset;
  readonly successSignal: SuccessSignal;
  readonly deviceTokens: DeviceTokens;
  /** Attempts a device bucket admits per window; 0 = the same as `maxFailedAttempts`. */
  readonly deviceMaxFailedAttempts: number;
  /**
   * Devices of one user that may count apart in one failure window (fixed windows of `failureWindowSeconds`);
   * attempts of further devices count in the anonymous bucket. Bounds what stolen tokens buy: at most
   * (deviceBucketsPerWindow + 1) × N attempts per window in all, however many tokens an attacker holds.
   */
  readonly deviceBucketsPerWindow: number;
  readonly deviceTokenLifetimeDays: number;
  /** The ID token claim, and the `clientMetadata` key the client sends the token back under. */
  readonly deviceTokenClaim: string;
}

export type SettingName = keyof LockoutSettings;

interface IntKnob {
  readonly type: 'int';
  readonly min: number;
  readonly max: number;
}
interface DecimalKnob {
  readonly type: 'decimal';
  readonly min: number;
  readonly max: number;
}
interface EnumKnob {
  readonly type: 'enum';
  readonly values: readonly string[];
}
interface TextKnob {
  readonly type: 'text';
  readonly maxLength: number;
  /** `{name}` placeholders the text may contain; any other `{...}` is refused (a typo would reach users). */
  readonly placeholders?: readonly string[];
  /** A shape the whole text must have, and how to say it. */
  readonly pattern?: { readonly regex: RegExp; readonly says: string };
}
/** A knob's environment variable and how its values are checked; what each means is in docs/configuration.md. */
export type KnobSpec = (IntKnob | DecimalKnob | EnumKnob | TextKnob) & {
  readonly env: string;
};

const YEAR_SECONDS = 365 * 24 * 3600;

export const KNOBS: { readonly [K in SettingName]: KnobSpec } = {
  maxFailedAttempts: {
    env: 'LOCKOUT_MAX_FAILED_ATTEMPTS',
    type: 'int',
    min: 1,
    max: 1000,
  },
  lockoutDurationSeconds: {
    env: 'LOCKOUT_DURATION_SECONDS',
    type: 'int',
    min: 1,
    max: YEAR_SECONDS,
  },
  failureWindowSeconds: {
    env: 'LOCKOUT_FAILURE_WINDOW_SECONDS',
    type: 'int',
    min: 1,
    max: YEAR_SECONDS,
  },
  lockoutBackoffMultiplier: {
    env: 'LOCKOUT_BACKOFF_MULTIPLIER',
    type: 'decimal',
    min: 1,
    max: 100,
  },
  maxLockoutDurationSeconds: {
    env: 'LOCKOUT_MAX_DURATION_SECONDS',
    type: 'int',
    min: 1,
    max: YEAR_SECONDS,
  },
  maxTemporaryLockouts: {
    env: 'LOCKOUT_MAX_TEMPORARY_LOCKOUTS',
    type: 'int',
    min: 0,
    max: 1000,
  },
  lockoutMode: {
    env: 'LOCKOUT_MODE',
    type: 'enum',
    values: ['enforce', 'monitor'],
  },
  storeErrorPolicy: {
    env: 'LOCKOUT_STORE_ERROR_POLICY',
    type: 'enum',
    values: ['local', 'allow', 'deny'],
  },
  refusalMessage: {
    env: 'LOCKOUT_REFUSAL_MESSAGE',
    type: 'text',
    maxLength: 200,
    placeholders: ['minutes'],
  },
  signUpMaxAttempts: {
    env: 'SIGNUP_MAX_ATTEMPTS',
    type: 'int',
    min: 1,
    max: 100_000,
  },
  signUpWindowSeconds: {
    env: 'SIGNUP_WINDOW_SECONDS',
    type: 'int',
    min: 1,
    max: YEAR_SECONDS,
  },
  signUpLockoutSeconds: {
    env: 'SIGNUP_LOCKOUT_SECONDS',
    type: 'int',
    min: 1,
    max: YEAR_SECONDS,
  },
  signUpMaxPerEmailDomain: {
    env: 'SIGNUP_MAX_PER_EMAIL_DOMAIN',
    type: 'int',
    min: 0,
    max: 10_000_000,
  },
  signUpMaxPerPhonePrefix: {
    env: 'SIGNUP_MAX_PER_PHONE_PREFIX',
    type: 'int',
    min: 0,
    max: 10_000_000,
  },
  signUpRefusalMessage: {
    env: 'SIGNUP_REFUSAL_MESSAGE',
    type: 'text',
    maxLength: 200,
  },
  storeTimeoutMs: {
    env: 'LOCKOUT_STORE_TIMEOUT_MS',
    type: 'int',
    min: 100,
    max: 2500,
  },
  unlockOnPasswordReset: {
    env: 'LOCKOUT_UNLOCK_ON_PASSWORD_RESET',
    type: 'enum',
    values: ['temporary', 'all', 'off'],
  },
  successSignal: {
    env: 'LOCKOUT_SUCCESS_SIGNAL',
    type: 'enum',
    values: ['both', 'pre-token-generation', 'post-authentication'],
  },
  deviceTokens: {
    env: 'LOCKOUT_DEVICE_TOKENS',
    type: 'enum',
    values: ['on', 'off'],
  },
  deviceMaxFailedAttempts: {
    env: 'LOCKOUT_DEVICE_MAX_FAILED_ATTEMPTS',
    type: 'int',
    min: 0,
    max: 1000,
  },
  deviceBucketsPerWindow: {
    env: 'LOCKOUT_DEVICE_BUCKETS_PER_WINDOW',
    type: 'int',
    min: 1,
    // MAX_DEVICES_PER_USER (device-bucket.ts): no more devices are kept apart at all.
    max: 20,
  },
  deviceTokenLifetimeDays: {
    env: 'LOCKOUT_DEVICE_TOKEN_LIFETIME_DAYS',
    type: 'int',
    min: 1,
    max: 400,
  },
  deviceTokenClaim: {
    env: 'LOCKOUT_DEVICE_TOKEN_CLAIM',
    type: 'text',
    maxLength: 64,
    // Cognito refuses to add its reserved claims, and a `custom:` name would read as a user attribute.
    pattern: { regex: /^(?!custom:)(?!cognito:)[a-z][a-z0-9_]*$/, says: 'a lower-case claim name (a-z, 0-9, _; starting with a letter)' },
  },
};

export const DEFAULT_SETTINGS: LockoutSettings = {
  maxFailedAttempts: 5,
  lockoutDurationSeconds: 15 * 60,
  failureWindowSeconds: 15 * 60,
  lockoutBackoffMultiplier: 2,
  maxLockoutDurationSeconds: 24 * 3600,
  maxTemporaryLockouts: 0,
  lockoutMode: 'enforce',
  storeErrorPolicy: 'local',
  refusalMessage: 'Too many failed sign-in attempts. Try again later.',
  signUpMaxAttempts: 5,
  signUpWindowSeconds: 3600,
  signUpLockoutSeconds: 3600,
  signUpMaxPerEmailDomain: 0,
  signUpMaxPerPhonePrefix: 0,
  signUpRefusalMessage: 'Too many sign-up attempts. Try again later.',
  storeTimeoutMs: 1500,
  unlockOnPasswordReset: 'temporary',
  successSignal: 'both',
  deviceTokens: 'on',
  deviceMaxFailedAttempts: 0,
  deviceBucketsPerWindow: 2,
  deviceTokenLifetimeDays: 30,
  deviceTokenClaim: 'lockout_device',
};

export const SETTING_NAMES = Object.keys(KNOBS) as SettingName[];

/** A setting that failed validation; `message` names the setting as the caller knows it. */
export class SettingError extends Error {
  override readonly name = 'SettingError';
}

/**
 * Parses one knob from text (environment variables, `-c key=value`). `label` is how the caller names it:
 * the variable, the context key or the prop.
 */
export function parseSettingText(name: SettingName, raw: string, label: string): LockoutSettings[SettingName] {
  const spec = KNOBS[name];
  const text = raw.trim();
  if (spec.type === 'int' || spec.type === 'decimal') {
    const pattern = spec.type === 'int' ? /^-?\d+$/ : /^-?\d+(\.\d+)?$/;
    if (!pattern.test(text)) throw new SettingError(`${label} must be ${describe(spec)}, got ${JSON.stringify(raw)}`);
    return checkSetting(name, Number(text), label);
  }
  return checkSetting(name, raw, label);
}

/** Checks an already-typed value (construct props, JSON context). */
export function checkSetting<K extends SettingName>(name: K, value: unknown, label: string): LockoutSettings[K] {
  const spec = KNOBS[name];
  const fail = (): never => {
    throw new SettingError(`${label} must be ${describe(spec)}, got ${JSON.stringify(value)}`);
  };
  switch (spec.type) {
    case 'int':
    case 'decimal':
      if (typeof value !== 'number' || !Number.isFinite(value)) fail();
      if (spec.type === 'int' && !Number.isInteger(value)) fail();
      if ((value as number) < spec.min || (value as number) > spec.max) fail();
      break;
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) fail();
      break;
    case 'text':
      // Control characters would reach end users verbatim inside Cognito's error text.
      // eslint-disable-next-line no-control-regex
      if (typeof value !== 'string' || value.trim() === '' || value.length > spec.maxLength || /[\u0000-\u001f\u007f]/.test(value)) fail();
      if (spec.pattern !== undefined && !spec.pattern.regex.test(value as string)) {
        throw new SettingError(`${label} must be ${spec.pattern.says}, got ${JSON.stringify(value)}`);
      }
      for (const [placeholder, name] of (value as string).matchAll(/\{([^}]*)\}/g)) {
        if (!(spec.placeholders ?? []).includes(name)) {
          const allowed = spec.placeholders?.length
            ? `the only placeholder is ${spec.placeholders.map((p) => `{${p}}`).join(', ')}`
            : 'it takes no placeholders';
          throw new SettingError(`${label} contains ${placeholder}, but ${allowed}`);
        }
      }
      break;
  }
  return value as LockoutSettings[K];
}

/**
 * Claims the device token must not take: those Cognito refuses to change, and the standard attributes it puts in
 * the ID token (overriding one would hand apps a token where the user's email or name should be).
 */
const TAKEN_CLAIMS = new Set(
  (
    'acr amr aud at_hash auth_time azp exp iat identities iss jti nbf nonce origin_jti sub token_use event_id ' +
    'address birthdate email email_verified family_name gender given_name locale middle_name name nickname phone_number ' +
    'phone_number_verified picture preferred_username profile updated_at website zoneinfo'
  ).split(' '),
);

/** Rules between knobs; `labelOf` names each knob the way the caller knows it. */
export function checkSettingRelations(settings: LockoutSettings, labelOf: (name: SettingName) => string): void {
  if (TAKEN_CLAIMS.has(settings.deviceTokenClaim)) {
    throw new SettingError(`${labelOf('deviceTokenClaim')} must not be a claim Cognito sets (${JSON.stringify(settings.deviceTokenClaim)})`);
  }
  if (settings.lockoutDurationSeconds > settings.maxLockoutDurationSeconds) {
    throw new SettingError(
      `${labelOf('lockoutDurationSeconds')} (${settings.lockoutDurationSeconds}) must not exceed ` +
        `${labelOf('maxLockoutDurationSeconds')} (${settings.maxLockoutDurationSeconds})`,
    );
  }
}

function describe(spec: KnobSpec): string {
  switch (spec.type) {
    case 'int':
      return `a whole number from ${spec.min} to ${spec.max}`;
    case 'decimal':
      return `a number from ${spec.min} to ${spec.max}`;
    case 'enum':
      return `one of ${spec.values.map((v) => `"${v}"`).join(', ')}`;
    case 'text':
      return `non-empty text of at most ${spec.maxLength} characters without control characters`;
  }
}

/** Reads every knob from environment variables, defaults for those unset. Throws naming the variable. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): LockoutSettings {
  const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const name of SETTING_NAMES) {
    const raw = env[KNOBS[name].env];
    if (raw !== undefined && raw !== '') settings[name] = parseSettingText(name, raw, KNOBS[name].env);
  }
  const result = settings as unknown as LockoutSettings;
  checkSettingRelations(result, (name) => KNOBS[name].env);
  return result;
}

/** The environment a trigger function needs for these settings (the inverse of `settingsFromEnv`). */
export function settingsToEnv(settings: Partial<LockoutSettings>, format: (value: unknown) => string = String): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of SETTING_NAMES) {
    const value = settings[name];
    if (value !== undefined) env[KNOBS[name].env] = format(value);
  }
  return env;
}
