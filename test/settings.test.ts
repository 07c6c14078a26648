import { loadConfig } from '../lambdas/runtime/config';
import { DEFAULT_SETTINGS, settingsFromEnv, settingsToEnv } from '../lambdas/policy/settings';

const base = { LOCKOUT_TABLE_NAME: 'lockout-table', LOCKOUT_SIGN_IN_CASE_SENSITIVE: 'false' };

describe('trigger configuration from the environment', () => {
  it('uses the documented defaults when only the table is set', () => {
    const config = loadConfig(base);
    expect(config.settings).toEqual(DEFAULT_SETTINGS);
    expect(config.signIn).toEqual({
      maxAttempts: 5,
      windowMs: 900_000,
      lockoutMs: 900_000,
      backoffMultiplier: 2,
      maxLockoutMs: 86_400_000,
      maxTemporaryLockouts: 0,
    });
    expect(config.signUpPerEmailDomain).toBeUndefined();
    expect(config.signUpPerPhonePrefix).toBeUndefined();
  });

  it('reads every knob from its variable', () => {
    const settings = {
      ...DEFAULT_SETTINGS,
      maxFailedAttempts: 3,
      lockoutBackoffMultiplier: 1.5,
      lockoutMode: 'monitor' as const,
      signUpMaxPerEmailDomain: 50,
      refusalMessage: 'Nope.',
    };
    const config = loadConfig({ ...base, ...settingsToEnv(settings) });
    expect(config.settings).toEqual(settings);
    expect(config.signUpPerEmailDomain?.maxAttempts).toBe(50);
  });

  it('treats 0 as a value, not as unset', () => {
    expect(settingsFromEnv({ LOCKOUT_MAX_TEMPORARY_LOCKOUTS: '0', SIGNUP_MAX_PER_PHONE_PREFIX: '0' }).maxTemporaryLockouts).toBe(0);
    expect(settingsFromEnv({ LOCKOUT_MAX_TEMPORARY_LOCKOUTS: '3' }).maxTemporaryLockouts).toBe(3);
  });

  it.each([
    [{}, 'LOCKOUT_TABLE_NAME must name the lockout DynamoDB table, but it is not set'],
    [{ LOCKOUT_TABLE_NAME: 'a/b' }, 'LOCKOUT_TABLE_NAME must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -), got "a/b"'],
    [{ ...base, LOCKOUT_MAX_FAILED_ATTEMPTS: 'five' }, 'LOCKOUT_MAX_FAILED_ATTEMPTS must be a whole number from 1 to 1000, got "five"'],
    [{ ...base, LOCKOUT_MAX_FAILED_ATTEMPTS: '0' }, 'LOCKOUT_MAX_FAILED_ATTEMPTS must be a whole number from 1 to 1000, got 0'],
    [{ ...base, LOCKOUT_DURATION_SECONDS: '1.5' }, 'LOCKOUT_DURATION_SECONDS must be a whole number from 1 to 31536000, got "1.5"'],
    [{ ...base, LOCKOUT_BACKOFF_MULTIPLIER: '0.5' }, 'LOCKOUT_BACKOFF_MULTIPLIER must be a number from 1 to 100, got 0.5'],
    [{ ...base, LOCKOUT_MODE: 'Enforce' }, 'LOCKOUT_MODE must be one of "enforce", "monitor", got "Enforce"'],
    [
      { ...base, LOCKOUT_REFUSAL_MESSAGE: 'Try again in {minuts} minutes.' },
      'LOCKOUT_REFUSAL_MESSAGE contains {minuts}, but the only placeholder is {minutes}',
    ],
    [{ ...base, SIGNUP_REFUSAL_MESSAGE: 'Wait {minutes}.' }, 'SIGNUP_REFUSAL_MESSAGE contains {minutes}, but it takes no placeholders'],
    [{ ...base, LOCKOUT_STORE_ERROR_POLICY: 'open' }, 'LOCKOUT_STORE_ERROR_POLICY must be one of "local", "allow", "deny", got "open"'],
    [
      { ...base, LOCKOUT_REFUSAL_MESSAGE: 'two\nlines' },
      'LOCKOUT_REFUSAL_MESSAGE must be non-empty text of at most 200 characters without control characters, got "two\\nlines"',
    ],
    [{ ...base, LOCKOUT_STORE_TIMEOUT_MS: '5000' }, 'LOCKOUT_STORE_TIMEOUT_MS must be a whole number from 100 to 2500, got 5000'],
    [
      { LOCKOUT_TABLE_NAME: 'lockout-table' },
      'LOCKOUT_SIGN_IN_CASE_SENSITIVE must be "true" or "false" (the user pool\'s UsernameConfiguration.CaseSensitive), got null',
    ],
    [
      { ...base, LOCKOUT_SIGN_IN_CASE_SENSITIVE: 'yes' },
      'LOCKOUT_SIGN_IN_CASE_SENSITIVE must be "true" or "false" (the user pool\'s UsernameConfiguration.CaseSensitive), got "yes"',
    ],
    [
      { ...base, LOCKOUT_DURATION_SECONDS: '7200', LOCKOUT_MAX_DURATION_SECONDS: '3600' },
      'LOCKOUT_DURATION_SECONDS (7200) must not exceed LOCKOUT_MAX_DURATION_SECONDS (3600)',
    ],
  ])('rejects %j with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
