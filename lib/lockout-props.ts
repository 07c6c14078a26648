import { Duration, Token } from 'aws-cdk-lib';
import { DEFAULT_SETTINGS, type LockoutSettings, type SettingName, checkSetting, checkSettingRelations } from '../lambdas/policy/settings';

// The closed sets of values are enums, so that Python, Java and Go apps get typed members rather than strings (jsii
// maps a union of string literals to a plain string). Each member's value is the setting's value in the functions'
// environment and in cdk.json, so the engine's string types and the enums never need a table between them.

/** What the lockout does with an attempt it would refuse. */
export enum LockoutMode {
  /** Refuse it. */
  ENFORCE = 'enforce',
  /** Count, log and emit metrics for what would be refused, but refuse nothing. */
  MONITOR = 'monitor',
}

/** What a decision does when DynamoDB fails or exceeds `storeTimeout`. */
export enum StoreErrorPolicy {
  /**
   * Decide from the function instance's own record of recent decisions: at most `maxFailedAttempts` per identity
   * per window per instance; known locks stay refused.
   */
  LOCAL = 'local',
  /** Let Cognito check the password, as if the lockout were absent. */
  ALLOW = 'allow',
  /** Refuse the attempt: no sign-in at all while DynamoDB is down. */
  DENY = 'deny',
}

/** What a confirmed password reset (forgot password) does to the user's sign-in lock. */
export enum UnlockOnPasswordReset {
  /** Lift a temporary lock and clear the counts and the streak; permanent locks stay for operators. */
  TEMPORARY = 'temporary',
  /** Lift any lock, permanent ones too. */
  ALL = 'all',
  /** Attach no post-confirmation trigger: a reset lifts nothing. */
  OFF = 'off',
}

/** Which trigger tells the lockout that a sign-in succeeded, clearing its failures. */
export enum SuccessSignal {
  /** Post-authentication and pre token generation. */
  BOTH = 'both',
  /** Pre token generation only (every token issued, the managed login included). */
  PRE_TOKEN_GENERATION = 'pre-token-generation',
  /** Post-authentication only: for a pool whose pre token generation trigger is not the lockout's. */
  POST_AUTHENTICATION = 'post-authentication',
}

/** The lockout policy, in CDK idioms. Shared by the construct and the stack. */
export interface LockoutPolicyProps {
  /**
   * Sign-in attempts admitted per failure window; the next attempt starts a lockout and is refused.
   * @default 5
   */
  readonly maxFailedAttempts?: number;
  /**
   * Duration of the first lockout.
   * @default Duration.minutes(15)
   */
  readonly lockoutDuration?: Duration;
  /**
   * Counted attempts older than this are forgotten.
   * @default Duration.minutes(15)
   */
  readonly failureWindow?: Duration;
  /**
   * Each consecutive lockout lasts this many times the previous one; 1 disables backoff.
   * @default 2
   */
  readonly lockoutBackoffMultiplier?: number;
  /**
   * Cap on a backed-off lockout. Also how long the lockout streak is remembered after a lock ends.
   * @default Duration.hours(24)
   */
  readonly maxLockoutDuration?: Duration;
  /**
   * Temporary lockouts before the next one is permanent (until an operator unlocks); 0 = never permanent.
   * @default 0
   */
  readonly maxTemporaryLockouts?: number;
  /**
   * `ENFORCE` refuses; `MONITOR` counts, logs and emits metrics for what would be refused, but refuses nothing.
   * @default LockoutMode.ENFORCE
   */
  readonly mode?: LockoutMode;
  /**
   * What to do when DynamoDB fails or exceeds `storeTimeout`: `LOCAL` decides from the function instance's own
   * record of recent decisions (at most `maxFailedAttempts` per identity per window per instance, known locks
   * stay refused); `ALLOW` lets Cognito check the password; `DENY` refuses the attempt. Every store error is
   * logged and counted.
   * @default StoreErrorPolicy.LOCAL
   */
  readonly storeErrorPolicy?: StoreErrorPolicy;
  /**
   * Message shown to a refused sign-in. Identical for known and unknown users.
   * @default 'Too many failed sign-in attempts. Try again later.'
   */
  readonly refusalMessage?: string;
  /**
   * Self-service sign-ups admitted per window for one email address, phone number or user name.
   * @default 5
   */
  readonly signUpMaxAttempts?: number;
  /**
   * Sign-up counting window.
   * @default Duration.hours(1)
   */
  readonly signUpWindow?: Duration;
  /**
   * How long sign-ups stay refused for a key that went over its limit.
   * @default Duration.hours(1)
   */
  readonly signUpLockoutDuration?: Duration;
  /**
   * Sign-ups admitted per window for one email domain (sign-up waves); 0 = no domain limit.
   * @default 0
   */
  readonly signUpMaxPerEmailDomain?: number;
  /**
   * Sign-ups admitted per window for one phone country calling code (SMS pumping); 0 = no such limit.
   * @default 0
   */
  readonly signUpMaxPerPhonePrefix?: number;
  /**
   * Message shown to a refused sign-up.
   * @default 'Too many sign-up attempts. Try again later.'
   */
  readonly signUpRefusalMessage?: string;
  /**
   * Time budget for the DynamoDB part of one decision, retries included; past it the store-error policy applies.
   * @default Duration.millis(1500)
   */
  readonly storeTimeout?: Duration;
  /**
   * A confirmed password reset (forgot password) lifts the user's sign-in lock and clears the counts and the
   * lockout streak: `TEMPORARY` lifts temporary locks (permanent ones stay for operators), `ALL` lifts permanent
   * ones too, `OFF` attaches no post-confirmation trigger. On by default: the person who can read the account's
   * email has proved more than any password guess could, and it spares support a call for every lockout an
   * attacker causes.
   * @default UnlockOnPasswordReset.TEMPORARY
   */
  readonly unlockOnPasswordReset?: UnlockOnPasswordReset;
  /**
   * Which trigger clears an identity's failures after a successful sign-in: `BOTH` (post-authentication and pre
   * token generation), `PRE_TOKEN_GENERATION` or `POST_AUTHENTICATION`. Both by default: AWS documents pre token
   * generation for every token issued (managed login included), and not post-authentication for the managed
   * login's /login; either answer is then safe, for one extra conditional write per sign-in. A pool that has its
   * own pre token generation trigger can run `preTokenGenerationHandler()` in it (`ownFunctions`), or use
   * `post-authentication`.
   * @default 'both'
   */
  readonly successSignal?: SuccessSignal;
  /**
   * Device tokens (docs/security-model.md, "Familiar devices"): when true, a signed token rides in the ID token of
   * every sign-in, and an attempt that sends a valid one back (`clientMetadata`) counts in that device's own bucket,
   * so an attacker holding the account locked does not lock out the owner's familiar devices. When false, every
   * attempt counts in the user's one bucket. On by default: a front end that never sends a token gets exactly the
   * behaviour of false.
   * @default true
   */
  readonly deviceTokens?: boolean;
  /**
   * Attempts a device bucket admits per window; 0 means the same as `maxFailedAttempts`. Window, lock and backoff
   * are always the user's.
   * @default 0
   */
  readonly deviceMaxFailedAttempts?: number;
  /**
   * Devices of one user that may count apart in one failure window; attempts from further devices count in the
   * anonymous bucket. However many of a user's device tokens an attacker holds (they ride in ID tokens, which
   * travel), the attempts admitted per window stay at most (deviceBucketsPerWindow + 1) × N in all.
   * @default 2
   */
  readonly deviceBucketsPerWindow?: number;
  /**
   * How long a device token stays valid (whole days, 1 to 400). A device that signs in again gets a new token with
   * the same device id, so a device in use never runs out; a token found in an old ID token stops counting sooner.
   * @default Duration.days(30)
   */
  readonly deviceTokenLifetime?: Duration;
  /**
   * The ID token claim that carries the device token, and the `clientMetadata` key the client sends it back under.
   * @default 'lockout_device'
   */
  readonly deviceTokenClaim?: string;
}

/**
 * How a prop's value becomes its setting's (settingsFromProps) and back (propsFromSettings). `note` follows the
 * prop's name in messages ("lockoutDuration (in whole seconds)").
 */
interface Conversion {
  readonly note: string;
  toSetting(raw: unknown, label: string): unknown;
  toProp(value: unknown): unknown;
}

/** A number, a string: the setting's own value, checked by the setting. */
const AS_IS: Conversion = { note: '', toSetting: (raw) => raw, toProp: (value) => value };

/** A `Duration`, held by the setting as a whole number of `unit`. */
function duration(unit: 'seconds' | 'millis' | 'days'): Conversion {
  const text = { seconds: 'whole seconds', millis: 'milliseconds', days: 'whole days' }[unit];
  return {
    note: ` (in ${text})`,
    toSetting: (raw, label) => {
      // Anything else is the setting's to refuse, naming the prop.
      if (!(raw instanceof Duration)) return raw;
      try {
        if (unit === 'days') return raw.toDays({ integral: true });
        return unit === 'seconds' ? raw.toSeconds({ integral: true }) : raw.toMilliseconds({ integral: true });
      } catch {
        throw new Error(`${label} must be a whole number of ${text.replace('whole ', '')}, got ${raw.toHumanString()}`);
      }
    },
    toProp: (value) =>
      unit === 'seconds' ? Duration.seconds(value as number) : unit === 'millis' ? Duration.millis(value as number) : Duration.days(value as number),
  };
}

/** A boolean, held by the setting as 'on' or 'off'. */
const SWITCH: Conversion = {
  note: '',
  toSetting: (raw, label) => {
    if (typeof raw !== 'boolean') throw new Error(`${label} must be true or false, got ${JSON.stringify(raw)}`);
    return raw ? 'on' : 'off';
  },
  toProp: (value) => value === 'on',
};

/** A member of an enum, checked here so that a wrong value names the enum rather than the setting's strings. */
function member(members: object, enumName: string): Conversion {
  return {
    note: '',
    toSetting: (raw, label) => {
      if (!(Object.values(members) as unknown[]).includes(raw)) {
        const names = Object.keys(members).map((key) => `${enumName}.${key}`);
        throw new Error(`${label} must be one of ${names.join(', ')}, got ${JSON.stringify(raw)}`);
      }
      return raw;
    },
    toProp: (value) => value,
  };
}

/** Each prop, the setting it feeds, and how its value converts. */
const PROP_SETTINGS: ReadonlyArray<readonly [keyof LockoutPolicyProps, SettingName, Conversion]> = [
  ['maxFailedAttempts', 'maxFailedAttempts', AS_IS],
  ['lockoutDuration', 'lockoutDurationSeconds', duration('seconds')],
  ['failureWindow', 'failureWindowSeconds', duration('seconds')],
  ['lockoutBackoffMultiplier', 'lockoutBackoffMultiplier', AS_IS],
  ['maxLockoutDuration', 'maxLockoutDurationSeconds', duration('seconds')],
  ['maxTemporaryLockouts', 'maxTemporaryLockouts', AS_IS],
  ['mode', 'lockoutMode', member(LockoutMode, 'LockoutMode')],
  ['storeErrorPolicy', 'storeErrorPolicy', member(StoreErrorPolicy, 'StoreErrorPolicy')],
  ['refusalMessage', 'refusalMessage', AS_IS],
  ['signUpMaxAttempts', 'signUpMaxAttempts', AS_IS],
  ['signUpWindow', 'signUpWindowSeconds', duration('seconds')],
  ['signUpLockoutDuration', 'signUpLockoutSeconds', duration('seconds')],
  ['signUpMaxPerEmailDomain', 'signUpMaxPerEmailDomain', AS_IS],
  ['signUpMaxPerPhonePrefix', 'signUpMaxPerPhonePrefix', AS_IS],
  ['signUpRefusalMessage', 'signUpRefusalMessage', AS_IS],
  ['storeTimeout', 'storeTimeoutMs', duration('millis')],
  ['unlockOnPasswordReset', 'unlockOnPasswordReset', member(UnlockOnPasswordReset, 'UnlockOnPasswordReset')],
  ['successSignal', 'successSignal', member(SuccessSignal, 'SuccessSignal')],
  ['deviceTokens', 'deviceTokens', SWITCH],
  ['deviceMaxFailedAttempts', 'deviceMaxFailedAttempts', AS_IS],
  ['deviceBucketsPerWindow', 'deviceBucketsPerWindow', AS_IS],
  ['deviceTokenLifetime', 'deviceTokenLifetimeDays', duration('days')],
  ['deviceTokenClaim', 'deviceTokenClaim', AS_IS],
];

/** The prop that feeds a setting, for messages. */
export function propNameOf(setting: SettingName): keyof LockoutPolicyProps {
  return PROP_SETTINGS.find(([, name]) => name === setting)![0];
}

/**
 * Props to settings, validated at synth with messages that name the prop. Values that are unresolved tokens
 * are passed through unvalidated (they are only known at deploy time); the trigger validates them again at
 * cold start.
 */
export function settingsFromProps(props: LockoutPolicyProps, owner: string): LockoutSettings {
  const settings: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  let hasTokens = false;
  for (const [prop, name, conversion] of PROP_SETTINGS) {
    const raw = props[prop];
    if (raw === undefined) continue;
    if (Token.isUnresolved(raw)) {
      hasTokens = true;
      settings[name] = raw;
      continue;
    }
    const label = `${owner}: ${prop}${conversion.note}`;
    const value = conversion.toSetting(raw, label);
    if (Token.isUnresolved(value)) {
      hasTokens = true;
      settings[name] = value;
      continue;
    }
    settings[name] = checkSetting(name, value, label);
  }
  const result = settings as unknown as LockoutSettings;
  if (!hasTokens) checkSettingRelations(result, (name) => `${owner}: ${propNameOf(name)}`);
  return result;
}

/** The inverse of `settingsFromProps`, for the app's context: every setting as its prop, durations as `Duration`. */
export function propsFromSettings(settings: Partial<LockoutSettings>): LockoutPolicyProps {
  const props: Record<string, unknown> = {};
  for (const [prop, name, conversion] of PROP_SETTINGS) {
    const value = settings[name];
    if (value !== undefined) props[prop] = conversion.toProp(value);
  }
  return props as LockoutPolicyProps;
}
