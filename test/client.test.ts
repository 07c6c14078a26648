import { recognizeLockout } from '../lib/client/lockout-error';

describe('recognizeLockout', () => {
  const message = 'Too many failed sign-in attempts. Try again later.';

  it('recognizes a refusal by name and message, and returns the configured text', () => {
    const error = Object.assign(new Error(`PreAuthentication failed with error ${message}.`), { name: 'UserLambdaValidationException' });
    expect(recognizeLockout(error)).toEqual({ locked: true, message, trigger: 'PreAuthentication' });
  });

  it('recognizes the same text reported as NotAuthorizedException', () => {
    expect(recognizeLockout({ name: 'NotAuthorizedException', message: `PreAuthentication failed with error ${message}.` })).toMatchObject({ locked: true });
  });

  it('follows Amplify\'s underlyingError and a cause chain', () => {
    const inner = { code: 'UserLambdaValidationException', message: `PreAuthentication failed with error ${message}.` };
    expect(recognizeLockout({ name: 'AuthError', message: 'wrapped', underlyingError: inner })).toMatchObject({ locked: true, message });
    expect(recognizeLockout(new Error('outer', { cause: inner }))).toMatchObject({ locked: true, message });
  });

  it('does not mistake other failures for a lockout', () => {
    expect(recognizeLockout({ name: 'NotAuthorizedException', message: 'Incorrect username or password.' })).toEqual({ locked: false });
    expect(recognizeLockout({ name: 'UserLambdaValidationException', message: 'PostConfirmation failed with error boom.' })).toEqual({ locked: false });
    expect(recognizeLockout({ name: 'ResourceNotFoundException', message: `PreAuthentication failed with error ${message}.` })).toEqual({ locked: false });
  });

  it.each([undefined, null, 42, 'text', [], {}, { message: 7 }])('never throws on %p', (value) => {
    expect(recognizeLockout(value)).toEqual({ locked: false });
  });
});
