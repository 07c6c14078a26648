import { GENERIC_FAILURE_MESSAGE } from '../lambdas/shared/messages';
import { refusalText } from '../lambdas/decision/refusal-text';
import { DEFAULT_SETTINGS } from '../lambdas/policy/settings';
import { recognizeLockout } from '../lib/client/lockout-error';

/**
 * AWS documents the text a client receives when a trigger throws: "[trigger] failed with error [error text]."
 * (Cognito appends the period). These tests build errors in that documented format, independently of what the
 * local sandbox writes (client.e2e.test.ts checks the sandbox's errors with the real clients).
 */
const documented = (trigger: string, text: string) => `${trigger} failed with error ${text}.`;
const thrown = (trigger: string, text: string) => ({ name: 'UserLambdaValidationException', message: documented(trigger, text) });
const TRIGGERS = ['PreAuthentication', 'PreSignUp', 'PostAuthentication', 'PostConfirmation', 'PreTokenGeneration'] as const;

describe('recognizeLockout', () => {
  const message = 'Too many failed sign-in attempts. Try again later.';

  it('recognizes a refusal in the documented format, with the period Cognito appends ("later..")', () => {
    expect(recognizeLockout({ name: 'UserLambdaValidationException', message: documented('PreAuthentication', message) })).toEqual({
      locked: true,
      message,
      trigger: 'PreAuthentication',
    });
  });

  it("recognizes a refusal without the appended period (one final period is taken as Cognito's)", () => {
    expect(recognizeLockout({ name: 'UserLambdaValidationException', message: `PreAuthentication failed with error ${message}` })).toEqual({
      locked: true,
      message: message.slice(0, -1),
      trigger: 'PreAuthentication',
    });
  });

  it('recognizes a configured message without a final period, once told it is the refusal in use', () => {
    const error = thrown('PreAuthentication', 'Account locked, call support');
    expect(recognizeLockout(error, { refusalMessages: ['Account locked, call support'] })).toEqual({
      locked: true,
      message: 'Account locked, call support',
      trigger: 'PreAuthentication',
    });
    expect(
      recognizeLockout(
        { ...error, message: 'PreAuthentication failed with error Account locked, call support' },
        { refusalMessages: 'Account locked, call support' },
      ),
    ).toEqual({
      locked: true,
      message: 'Account locked, call support',
      trigger: 'PreAuthentication',
    });
    expect(recognizeLockout(error)).toEqual({ locked: false });
  });

  describe('the generic failure of every trigger the lockout runs', () => {
    it.each(
      TRIGGERS.flatMap((trigger) => [
        [trigger, 'in the documented format', documented(trigger, GENERIC_FAILURE_MESSAGE)] as const,
        [trigger, 'without the appended period', `${trigger} failed with error ${GENERIC_FAILURE_MESSAGE}`] as const,
      ]),
    )('is unavailable, not a refusal: %s, %s', (trigger, _, text) => {
      expect(recognizeLockout({ name: 'UserLambdaValidationException', message: text })).toEqual({ locked: false, unavailable: true, trigger });
      expect(recognizeLockout({ name: 'NotAuthorizedException', message: text })).toEqual({ locked: false, unavailable: true, trigger });
    });

    it('is unavailable whichever refusal messages are configured, and behind an Amplify wrapper', () => {
      const error = thrown('PostConfirmation', GENERIC_FAILURE_MESSAGE);
      expect(recognizeLockout(error, { refusalMessages: ['Locked.'], signUpRefusalMessages: [] })).toEqual({
        locked: false,
        unavailable: true,
        trigger: 'PostConfirmation',
      });
      expect(recognizeLockout({ name: 'AuthError', message: 'wrapped', underlyingError: error })).toMatchObject({ unavailable: true });
    });
  });

  describe('a trigger composed with the lockout (ownFunctions)', () => {
    it.each(TRIGGERS)('reports its own error from %s as no lockout', (trigger) => {
      expect(recognizeLockout(thrown(trigger, "Your own trigger's error."))).toEqual({ locked: false });
      expect(recognizeLockout({ name: 'UserLambdaValidationException', message: `${trigger} failed with error boom` })).toEqual({ locked: false });
    });

    it('is no lockout when its text only starts or ends like the refusal', () => {
      expect(recognizeLockout(thrown('PreAuthentication', `${message} Also: your own error.`))).toEqual({ locked: false });
      expect(recognizeLockout(thrown('PreAuthentication', `Blocked by policy. ${message}`))).toEqual({ locked: false });
    });
  });

  describe('the shipped defaults', () => {
    it('recognize DEFAULT_SETTINGS.refusalMessage from pre-authentication and signUpRefusalMessage from pre-signup', () => {
      expect(recognizeLockout(thrown('PreAuthentication', DEFAULT_SETTINGS.refusalMessage))).toEqual({
        locked: true,
        message: DEFAULT_SETTINGS.refusalMessage,
        trigger: 'PreAuthentication',
      });
      expect(recognizeLockout(thrown('PreSignUp', DEFAULT_SETTINGS.signUpRefusalMessage))).toEqual({
        locked: true,
        message: DEFAULT_SETTINGS.signUpRefusalMessage,
        trigger: 'PreSignUp',
      });
    });

    it("tie each refusal to its own trigger: neither is recognized from the other's, nor from a success signal", () => {
      expect(recognizeLockout(thrown('PreSignUp', DEFAULT_SETTINGS.refusalMessage))).toEqual({ locked: false });
      expect(recognizeLockout(thrown('PreAuthentication', DEFAULT_SETTINGS.signUpRefusalMessage))).toEqual({ locked: false });
      expect(recognizeLockout(thrown('PostAuthentication', DEFAULT_SETTINGS.refusalMessage))).toEqual({ locked: false });
      expect(recognizeLockout(thrown('PreTokenGeneration', DEFAULT_SETTINGS.refusalMessage))).toEqual({ locked: false });
    });

    it('are replaced, each on its own, by the configured messages', () => {
      const options = { refusalMessages: ['Locked. Call us.'] };
      expect(recognizeLockout(thrown('PreAuthentication', DEFAULT_SETTINGS.refusalMessage), options)).toEqual({ locked: false });
      expect(recognizeLockout(thrown('PreAuthentication', 'Locked. Call us.'), options)).toMatchObject({ locked: true });
      expect(recognizeLockout(thrown('PreSignUp', DEFAULT_SETTINGS.signUpRefusalMessage), options)).toMatchObject({
        locked: true,
        trigger: 'PreSignUp',
      });
    });
  });

  describe('a configured refusal', () => {
    const policy = { lockoutMs: 15 * 60_000, maxLockoutMs: 24 * 3_600_000 };
    const now = 1_700_000_000_000;

    it.each([
      ['a lock ending in 30 s', now + 30_000, false],
      ['a lock ending in 14 min 1 s', now + 14 * 60_000 + 1000, false],
      ['an expired lock (the policy duration)', now - 1, false],
      ['a permanent lock (the longest temporary lock)', undefined, true],
    ])('with {minutes} matches the text the trigger writes for %s', (_, lockedUntil, permanent) => {
      const template = 'Account locked. Try again in {minutes} minutes.';
      const text = refusalText(template, lockedUntil, permanent, now, policy);
      expect(text).toMatch(/^Account locked\. Try again in [1-9]\d* minutes\.$/);
      expect(recognizeLockout(thrown('PreAuthentication', text), { refusalMessages: [template] })).toEqual({
        locked: true,
        message: text,
        trigger: 'PreAuthentication',
      });
      expect(
        recognizeLockout(
          { name: 'UserLambdaValidationException', message: `PreAuthentication failed with error ${text}` },
          { refusalMessages: [template] },
        ),
      ).toMatchObject({ locked: true });
    });

    it('with {minutes} matches only a whole number of minutes, at least 1, the same at every occurrence', () => {
      const options = { refusalMessages: ['Locked for {minutes} min (retry after {minutes} min)'] };
      const check = (text: string) => recognizeLockout(thrown('PreAuthentication', text), options).locked;
      expect(check(refusalText(options.refusalMessages[0], now + 90_000, false, now, policy))).toBe(true);
      expect(check('Locked for 2 min (retry after 2 min)')).toBe(true);
      expect(check('Locked for 120 min (retry after 120 min)')).toBe(true);
      for (const text of [
        'Locked for 2 min (retry after 3 min)',
        'Locked for 0 min (retry after 0 min)',
        'Locked for 1.5 min (retry after 1.5 min)',
        'Locked for -1 min (retry after -1 min)',
        'Locked for soon min (retry after soon min)',
        'Locked for {minutes} min (retry after {minutes} min)',
        'Locked for  min (retry after  min)',
      ]) {
        expect(check(text)).toBe(false);
      }
    });

    it('without {minutes}, and with characters that mean something in a regular expression, matches literally', () => {
      const template = 'Locked (again?) [see https://example.com/help*] $1.';
      expect(recognizeLockout(thrown('PreAuthentication', template), { refusalMessages: [template] })).toMatchObject({
        locked: true,
        message: template,
      });
      expect(
        recognizeLockout(thrown('PreAuthentication', 'Locked (again) [see https://example.com/help] $1.'), { refusalMessages: [template] }),
      ).toEqual({
        locked: false,
      });
    });

    it('for sign-up matches its own text literally (it takes no placeholder)', () => {
      const options = { signUpRefusalMessages: ['Sign-ups are paused here.'] };
      expect(recognizeLockout(thrown('PreSignUp', 'Sign-ups are paused here.'), options)).toEqual({
        locked: true,
        message: 'Sign-ups are paused here.',
        trigger: 'PreSignUp',
      });
      expect(recognizeLockout(thrown('PreSignUp', DEFAULT_SETTINGS.signUpRefusalMessage), options)).toEqual({ locked: false });
      expect(recognizeLockout(thrown('PreAuthentication', DEFAULT_SETTINGS.refusalMessage), options)).toMatchObject({ locked: true });
    });

    it('may be one of several while a new message rolls out', () => {
      const options = { refusalMessages: ['Old text.', 'New text, {minutes} min.'] };
      expect(recognizeLockout(thrown('PreAuthentication', 'Old text.'), options)).toMatchObject({ locked: true });
      expect(recognizeLockout(thrown('PreAuthentication', 'New text, 7 min.'), options)).toMatchObject({ locked: true });
      expect(recognizeLockout(thrown('PreAuthentication', message), options)).toEqual({ locked: false });
    });
  });

  it('recognizes a refusal by name and message, and returns the configured text', () => {
    const error = Object.assign(new Error(`PreAuthentication failed with error ${message}.`), { name: 'UserLambdaValidationException' });
    expect(recognizeLockout(error)).toEqual({ locked: true, message, trigger: 'PreAuthentication' });
  });

  it('recognizes the same text reported as NotAuthorizedException', () => {
    expect(recognizeLockout({ name: 'NotAuthorizedException', message: `PreAuthentication failed with error ${message}.` })).toMatchObject({
      locked: true,
    });
  });

  it("follows Amplify's underlyingError and a cause chain", () => {
    const inner = { code: 'UserLambdaValidationException', message: `PreAuthentication failed with error ${message}.` };
    expect(recognizeLockout({ name: 'AuthError', message: 'wrapped', underlyingError: inner })).toMatchObject({ locked: true, message });
    expect(recognizeLockout(new Error('outer', { cause: inner }))).toMatchObject({ locked: true, message });
    const custom = { code: 'UserLambdaValidationException', message: documented('PreAuthentication', 'Locked for 3 minutes') };
    expect(
      recognizeLockout({ name: 'AuthError', message: 'wrapped', underlyingError: custom }, { refusalMessages: ['Locked for {minutes} minutes'] }),
    ).toMatchObject({
      locked: true,
      message: 'Locked for 3 minutes',
    });
  });

  it('does not mistake other failures for a lockout', () => {
    expect(recognizeLockout({ name: 'NotAuthorizedException', message: 'Incorrect username or password.' })).toEqual({ locked: false });
    expect(recognizeLockout({ name: 'UserLambdaValidationException', message: 'PostConfirmation failed with error boom.' })).toEqual({
      locked: false,
    });
    expect(recognizeLockout({ name: 'ResourceNotFoundException', message: `PreAuthentication failed with error ${message}.` })).toEqual({
      locked: false,
    });
    expect(recognizeLockout({ name: 'UserLambdaValidationException', message: documented('DefineAuthChallenge', GENERIC_FAILURE_MESSAGE) })).toEqual({
      locked: false,
    });
  });

  it.each([undefined, null, 42, 'text', [], {}, { message: 7 }])('never throws on %p', (value) => {
    expect(recognizeLockout(value)).toEqual({ locked: false });
  });

  it.each([null, 42, { refusalMessages: 7 }, { refusalMessages: [7, null] }, { signUpRefusalMessages: {} }])(
    'never throws on the options %p',
    (options) => {
      expect(() => recognizeLockout(thrown('PreAuthentication', message), options as never)).not.toThrow();
    },
  );
});
