import { GENERIC_FAILURE_MESSAGE } from '../lambdas/engine/messages';
import { recognizeLockout } from '../lib/client/lockout-error';

/**
 * AWS documents the text a client receives when a trigger throws: "[trigger] failed with error [error text]."
 * (Cognito appends the period). These tests build errors in that documented format, independently of what the
 * local sandbox writes (client.e2e.test.ts checks the sandbox's errors with the real clients).
 */
const documented = (trigger: string, text: string) => `${trigger} failed with error ${text}.`;

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

  it('recognizes a configured message without a final period', () => {
    expect(
      recognizeLockout({ name: 'UserLambdaValidationException', message: documented('PreAuthentication', 'Account locked, call support') }),
    ).toEqual({
      locked: true,
      message: 'Account locked, call support',
      trigger: 'PreAuthentication',
    });
  });

  it.each([
    ['in the documented format', documented('PreAuthentication', GENERIC_FAILURE_MESSAGE)],
    ['without the appended period', `PreAuthentication failed with error ${GENERIC_FAILURE_MESSAGE}`],
    ['from pre-signup', documented('PreSignUp', GENERIC_FAILURE_MESSAGE)],
  ])('tells the generic failure apart from a refusal, %s', (_, text) => {
    const result = recognizeLockout({ name: 'UserLambdaValidationException', message: text });
    expect(result).toEqual({ locked: false, unavailable: true, trigger: text.startsWith('PreSignUp') ? 'PreSignUp' : 'PreAuthentication' });
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
  });

  it('does not mistake other failures for a lockout', () => {
    expect(recognizeLockout({ name: 'NotAuthorizedException', message: 'Incorrect username or password.' })).toEqual({ locked: false });
    expect(recognizeLockout({ name: 'UserLambdaValidationException', message: 'PostConfirmation failed with error boom.' })).toEqual({
      locked: false,
    });
    expect(recognizeLockout({ name: 'ResourceNotFoundException', message: `PreAuthentication failed with error ${message}.` })).toEqual({
      locked: false,
    });
  });

  it.each([undefined, null, 42, 'text', [], {}, { message: 7 }])('never throws on %p', (value) => {
    expect(recognizeLockout(value)).toEqual({ locked: false });
  });
});
