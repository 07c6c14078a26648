/**
 * What Cognito gives the success triggers of a sign-in that a challenge response completes (RespondToAuthChallenge:
 * an SRP proof, a USER_AUTH SELECT_CHALLENGE answer): that request's ClientMetadata, as `request.clientMetadata` of
 * post-authentication and of pre token generation (cognito-triggers.md). cognito-local finishes every sign-in the
 * front completes as USER_PASSWORD_AUTH, whose success triggers get none, so the front hands the metadata over here
 * for the time of that call and the Lambda router adds it to the two success events of that user. Sign-ins that
 * InitiateAuth completes (USER_PASSWORD_AUTH, USER_AUTH with a preferred PASSWORD) get none, as in Cognito.
 *
 * Keyed by the pool's user name: two challenge responses of one user at the same instant can swap their metadata,
 * which no test or demo does and which a real pool never does.
 */
const SUCCESS_SOURCES = new Set(['PostAuthentication_Authentication', 'TokenGeneration_Authentication']);

export class ChallengeMetadata {
  private readonly pending = new Map<string, Record<string, string>>();

  /** Runs `call` (the front's sign-in at cognito-local) with `metadata` given to the user's success triggers. */
  async during<T>(username: string, metadata: Record<string, string> | undefined, call: () => Promise<T>): Promise<T> {
    if (metadata === undefined || Object.keys(metadata).length === 0) return call();
    this.pending.set(username, metadata);
    try {
      return await call();
    } finally {
      if (this.pending.get(username) === metadata) this.pending.delete(username);
    }
  }

  /** The event as Cognito would send it: with the metadata, when it is a success event of a sign-in being completed. */
  addTo(event: unknown): unknown {
    if (typeof event !== 'object' || event === null) return event;
    const { triggerSource, userName, request } = event as { triggerSource?: unknown; userName?: unknown; request?: Record<string, unknown> };
    if (typeof triggerSource !== 'string' || !SUCCESS_SOURCES.has(triggerSource) || typeof userName !== 'string') return event;
    const metadata = this.pending.get(userName);
    if (metadata === undefined || request?.clientMetadata !== undefined) return event;
    return { ...event, request: { ...request, clientMetadata: metadata } };
  }
}
