/**
 * Choice-based sign-in (`AuthFlow: USER_AUTH`) as far as a password is involved, for the sandbox's front
 * (cognito-front.ts): the requests' shapes, and the sessions between InitiateAuth's SELECT_CHALLENGE and its answer.
 *
 * The sandbox's pool offers passwords only (no EMAIL_OTP, SMS_OTP or WEB_AUTHN), so the choice is PASSWORD or
 * PASSWORD_SRP. Which request runs pre-authentication is the sandbox's choice, documented in docs/sandbox.md
 * ("Choice-based sign-in"): the one that carries the password or SRP_A, so exactly once per password attempt.
 */
import { randomBytes } from 'node:crypto';

/** The first factors the sandbox's pool offers, in the order AvailableChallenges lists them. */
export const PASSWORD_CHALLENGES = ['PASSWORD', 'PASSWORD_SRP'] as const;
export type PasswordChallenge = (typeof PASSWORD_CHALLENGES)[number];
/** The first factors Cognito knows for USER_AUTH; the sandbox offers the password ones only. */
const FIRST_FACTORS = new Set<string>([...PASSWORD_CHALLENGES, 'EMAIL_OTP', 'SMS_OTP', 'WEB_AUTHN']);
/**
 * The flow the sandbox's app client allows besides the stack's own: the stack's client does not allow USER_AUTH (the
 * construct refuses a client that does unless PoolRisk.USER_AUTH is accepted), the sandbox's does, so that front
 * ends can try it locally.
 */
export const SANDBOX_ONLY_AUTH_FLOWS = ['ALLOW_USER_AUTH'] as const;
/** Cognito's default authentication session validity (AuthSessionValidity, 3 minutes). */
const SESSION_TTL_MS = 3 * 60_000;

/** What an InitiateAuth USER_AUTH asks for: a password attempt now, or the choice (SELECT_CHALLENGE). */
export type UserAuthStart =
  | { readonly kind: 'attempt'; readonly challenge: PasswordChallenge }
  | { readonly kind: 'choose' }
  | { readonly kind: 'invalid'; readonly message: string };

/**
 * PREFERRED_CHALLENGE PASSWORD or PASSWORD_SRP is an attempt in this very call; none, or a first factor the pool
 * does not offer, gets the choice of the ones it does (AWS: "If you don't provide a value for PREFERRED_CHALLENGE,
 * Amazon Cognito responds with the AvailableChallenges"; for an unavailable preference the answer is UNVERIFIED).
 */
export function userAuthStart(parameters: Record<string, unknown>): UserAuthStart {
  const preferred = parameters.PREFERRED_CHALLENGE;
  if (preferred === undefined) return { kind: 'choose' };
  if (preferred === 'PASSWORD' || preferred === 'PASSWORD_SRP') return { kind: 'attempt', challenge: preferred };
  if (typeof preferred === 'string' && FIRST_FACTORS.has(preferred)) return { kind: 'choose' };
  return { kind: 'invalid', message: `PREFERRED_CHALLENGE must be one of ${[...FIRST_FACTORS].join(', ')}` };
}

/** The credential a password attempt must carry: PASSWORD with the password, PASSWORD_SRP with SRP_A. */
export function missingCredential(challenge: PasswordChallenge, parameters: Record<string, unknown>): string | undefined {
  const name = challenge === 'PASSWORD' ? 'PASSWORD' : 'SRP_A';
  return typeof parameters[name] === 'string' ? undefined : `Missing required parameter ${name}`;
}

/** The answer to a SELECT_CHALLENGE: one of the AvailableChallenges, or a message saying what is wrong. */
export function selectedChallenge(responses: Record<string, unknown>): PasswordChallenge | { readonly message: string } {
  const answer = responses.ANSWER;
  if (answer === 'PASSWORD' || answer === 'PASSWORD_SRP') return answer;
  return { message: `ANSWER must be one of the AvailableChallenges: ${PASSWORD_CHALLENGES.join(', ')}` };
}

interface Choice {
  /** The name as typed at InitiateAuth: the answer signs in as it, whatever USERNAME the answer repeats. */
  readonly typed: string;
  readonly clientId: string | undefined;
  readonly expiresAt: number;
}

/**
 * The sessions of SELECT_CHALLENGE answers in progress. A session is answered once: a wrong password ends it, as
 * a wrong password ends Cognito's flow, and a new attempt starts with InitiateAuth.
 */
export class ChoiceSessions {
  private readonly open = new Map<string, Choice>();

  issue(typed: string, clientId: string | undefined): string {
    this.sweep();
    const session = randomBytes(96).toString('base64');
    this.open.set(session, { typed, clientId, expiresAt: Date.now() + SESSION_TTL_MS });
    return session;
  }

  /** The choice a session was issued for, once, by the client it was issued to; undefined if none (or expired). */
  take(session: unknown, clientId: unknown): { readonly typed: string } | undefined {
    const choice = typeof session === 'string' ? this.open.get(session) : undefined;
    if (choice === undefined) return undefined;
    this.open.delete(session as string);
    if (choice.expiresAt < Date.now() || choice.clientId !== clientId) return undefined;
    return { typed: choice.typed };
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, value] of this.open) if (value.expiresAt < now) this.open.delete(key);
  }
}
