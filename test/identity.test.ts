import {
  identityRef,
  normalizeEmail,
  normalizeIdentifier,
  normalizePhone,
  phoneCallingCode,
  unknownNameIdentity,
  userIdentity,
} from '../lambdas/identity/identity';
import { checkTriggerEvent, signInIdentityOf } from '../lambdas/identity/trigger-event';
import { preAuthEvent, unknownUserPreAuthEvent } from '../sandbox/sample-events';

const INSENSITIVE = { caseSensitive: false };
const SENSITIVE = { caseSensitive: true };

function identityOf(event: ReturnType<typeof preAuthEvent>, names = INSENSITIVE) {
  return signInIdentityOf(checkTriggerEvent(event, 'PreAuthentication', ['PreAuthentication_Authentication']), names);
}

describe('sign-in identity: one user is one user as Cognito sees it', () => {
  it('keys a known user by sub, whatever name or alias was typed', () => {
    const sub = '7f1c0c4e-0000-4000-8000-000000000001';
    const attributes = { sub, email: 'jane@example.com' };
    const keys = ['jane', 'Jane', 'jane@example.com', 'JANE@EXAMPLE.COM'].map(
      (typed) => identityOf(preAuthEvent(typed, { userAttributes: attributes }))!.key,
    );
    expect(new Set(keys)).toEqual(new Set([userIdentity(sub).key]));
  });

  it("never lets a look-alike name share a known user's counter", () => {
    const alice = identityOf(preAuthEvent('alice', { userAttributes: { sub: 'sub-of-alice' } }))!;
    const fullwidth = identityOf(preAuthEvent('ａｌｉｃｅ', { userAttributes: { sub: 'sub-of-fullwidth-alice' } }))!;
    const unknownVariant = identityOf(unknownUserPreAuthEvent('ａｌｉｃｅ'))!;
    expect(new Set([alice.key, fullwidth.key, unknownVariant.key]).size).toBe(3);
  });

  it('keys unknown names as the pool compares them: lower-cased only when case-insensitive, never trimmed or NFKC-folded', () => {
    const key = (typed: string, names = INSENSITIVE) => identityOf(unknownUserPreAuthEvent(typed), names)!.key;
    expect(key('Nobody@Example.com')).toBe(key('nobody@example.com'));
    expect(key('Nobody@Example.com', SENSITIVE)).not.toBe(key('nobody@example.com', SENSITIVE));
    expect(key(' nobody@example.com')).not.toBe(key('nobody@example.com'));
    expect(key('ｎobody@example.com')).not.toBe(key('nobody@example.com'));
  });

  it('keeps a typed name that equals a sub apart from that user', () => {
    const sub = '7f1c0c4e-0000-4000-8000-000000000002';
    expect(unknownNameIdentity(sub, SENSITIVE).key).not.toBe(userIdentity(sub).key);
    expect(identityOf(unknownUserPreAuthEvent(sub))!.key).not.toBe(userIdentity(sub).key);
  });

  it('has no identity for a known user without a sub (the caller decides)', () => {
    expect(identityOf(preAuthEvent('jane', { userAttributes: { email: 'jane@example.com' } }))).toBeUndefined();
  });

  it('keeps keys small and free of the typed text, whatever is typed', () => {
    for (const typed of ['x'.repeat(10_000), 'a\u0000b\u001b[31m', '😀'.repeat(3000), 'jane@example.com']) {
      for (const ref of [unknownNameIdentity(typed, INSENSITIVE), userIdentity(typed)]) {
        expect(ref.key).toMatch(/^signin#[0-9a-f]{64}$/);
        expect(ref.logId).toBe(ref.key.slice(7, 23));
      }
    }
  });

  it('separates scopes', () => {
    expect(identityRef('signup-email', 'a@b.c').key).not.toBe(identityRef('signin', 'a@b.c').key);
  });
});

describe('sign-up limit keys', () => {
  it('normalizes emails for sign-up limits, dropping plus tags', () => {
    expect(normalizeEmail(' Victim+1@Example.COM ')).toEqual({ address: 'victim@example.com', domain: 'example.com' });
    expect(normalizeEmail('first.last@example.com')?.address).toBe('first.last@example.com');
    expect(normalizeEmail('not-an-address')).toBeUndefined();
    expect(normalizeEmail('@example.com')).toBeUndefined();
    expect(normalizeEmail('+tag@example.com')).toBeUndefined();
  });

  it('finds the country calling code of E.164 numbers', () => {
    expect(phoneCallingCode(normalizePhone('+1 (206) 555-0100')!)).toBe('1');
    expect(phoneCallingCode('+447700900123')).toBe('44');
    expect(phoneCallingCode('+79161234567')).toBe('7');
    expect(phoneCallingCode('+3725123456')).toBe('372');
    expect(phoneCallingCode('+8801712345678')).toBe('880');
    expect(phoneCallingCode('+12')).toBeUndefined();
    expect(normalizePhone('no digits')).toBeUndefined();
  });

  it('folds look-alikes together for sign-up abuse limits (NFKC, then lower case)', () => {
    expect(normalizeIdentifier('ﬁnance')).toBe('finance');
  });
});
