import { identityRef, normalizeEmail, normalizeIdentifier, normalizePhone, phoneCallingCode, signInIdentity } from '../lambdas/engine/identity';

describe('identity normalization and keys', () => {
  it('gives case, width and padding variants of one name the same key', () => {
    const keys = ['Jane.Doe', 'jane.doe', '  JANE.DOE ', 'Ｊａｎｅ．Ｄｏｅ'].map((n) => signInIdentity(n).key);
    expect(new Set(keys).size).toBe(1);
    expect(signInIdentity('jane.doe2').key).not.toBe(keys[0]);
  });

  it('keeps keys small and free of the typed text, whatever is typed', () => {
    for (const typed of ['x'.repeat(10_000), 'a\u0000b\u001b[31m', '😀'.repeat(3000), 'jane@example.com']) {
      const ref = signInIdentity(typed);
      expect(ref.key).toMatch(/^signin#[0-9a-f]{64}$/);
      expect(ref.logId).toBe(ref.key.slice(7, 23));
    }
  });

  it('separates scopes', () => {
    expect(identityRef('signup-email', 'a@b.c').key).not.toBe(identityRef('signin', 'a@b.c').key);
  });

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

  it('normalizes with NFKC before lower-casing', () => {
    expect(normalizeIdentifier('ﬁnance')).toBe('finance');
  });
});
