/**
 * What Cognito gives the success triggers of a sign-in that a challenge response completes (RespondToAuthChallenge:
 * an SRP proof, a USER_AUTH SELECT_CHALLENGE answer): that request's ClientMetadata, as `request.clientMetadata` of
 * post-authentication and of pre token generation (cognito-triggers.md). cognito-local finishes every sign-in the
 * front completes as USER_PASSWORD_AUTH, whose success triggers get none, so the front hands the metadata over here
 * for the time of that call and the Lambda router adds it to the two success events of that user. Sign-ins that
 * InitiateAuth completes (USER_PASSWORD_AUTH, USER_AUTH with a preferred PASSWORD) get none, as in Cognito.
 *
 * Keyed by the pool's user name, so the sign-ins the front completes for one user run one at a time: each one's
 * success triggers get its own metadata, never that of another sign-in of the same user completing at the same
 * instant. (A sign-in that goes to cognito-local without the front, USER_PASSWORD_AUTH, is not held back: if it
 * succeeds while the front completes one of the same user, its success events can get that one's metadata.)
 */
const SUCCESS_SOURCES = new Set(['PostAuthentication_Authentication', 'TokenGeneration_Authentication']);

export class ChallengeMetadata {
  private readonly pending = new Map<string, Record<string, string>>();
  /** Per user name, the end of the last sign-in the front is completing: the next one starts after it. */
  private readonly queues = new Map<string, Promise<unknown>>();

  /**
   * Runs `call` (the front's sign-in at cognito-local) once every earlier one of the same user has finished, with
   * `metadata`, if any, given to that user's success triggers while it runs.
   */
  async during<T>(username: string, metadata: Record<string, string> | undefined, call: () => Promise<T>): Promise<T> {
    const mine = (this.queues.get(username) ?? Promise.resolve()).then(async () => {
      if (metadata !== undefined && Object.keys(metadata).length > 0) this.pending.set(username, metadata);
      try {
        return await call();
      } finally {
        this.pending.delete(username);
      }
    });
    const settled = mine.catch(() => undefined);
    this.queues.set(username, settled);
    try {
      return await mine;
    } finally {
      if (this.queues.get(username) === settled) this.queues.delete(username);
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
