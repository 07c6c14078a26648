import { ChallengeMetadata } from '../sandbox/challenge-metadata';

/** A success event of `user`, as cognito-local sends it: no clientMetadata. */
const success = (user: string, triggerSource = 'PostAuthentication_Authentication') => ({ triggerSource, userName: user, request: {} });
const metadataOf = (event: unknown) => (event as { request: { clientMetadata?: Record<string, string> } }).request.clientMetadata;
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('the sandbox hands a challenge response its ClientMetadata', () => {
  it("gives each of one user's simultaneous sign-ins its own metadata, one after the other", async () => {
    const handover = new ChallengeMetadata();
    let running = 0;
    let most = 0;
    const signIn = (device: string) =>
      handover.during('alice', { device }, async () => {
        most = Math.max(most, ++running);
        await tick(); // cognito-local checking the password
        const seen = metadataOf(handover.addTo(success('alice')));
        await tick();
        const token = metadataOf(handover.addTo(success('alice', 'TokenGeneration_Authentication')));
        running -= 1;
        return [seen?.device, token?.device];
      });
    const results = await Promise.all(['one', 'two', 'three'].map(signIn));
    expect(results).toEqual([
      ['one', 'one'],
      ['two', 'two'],
      ['three', 'three'],
    ]);
    expect(most).toBe(1);
  });

  it('gives none to a sign-in without metadata that follows one with it, and holds no other user back', async () => {
    const handover = new ChallengeMetadata();
    const order: string[] = [];
    const withToken = handover.during('alice', { device: 'one' }, async () => {
      await tick();
      order.push('alice with');
      return metadataOf(handover.addTo(success('alice')));
    });
    const without = handover.during('alice', undefined, async () => {
      order.push('alice without');
      return metadataOf(handover.addTo(success('alice')));
    });
    const other = handover.during('bob', { device: 'b' }, async () => {
      order.push('bob');
      return metadataOf(handover.addTo(success('bob')));
    });
    expect(await Promise.all([withToken, without, other])).toEqual([{ device: 'one' }, undefined, { device: 'b' }]);
    expect(order).toEqual(['bob', 'alice with', 'alice without']);
  });

  it('lets the next sign-in run after one that failed, and hands its metadata to no later event', async () => {
    const handover = new ChallengeMetadata();
    const failed = handover.during('alice', { device: 'one' }, async () => {
      await tick();
      throw new Error('NotAuthorizedException');
    });
    const next = handover.during('alice', { device: 'two' }, async () => metadataOf(handover.addTo(success('alice'))));
    await expect(failed).rejects.toThrow('NotAuthorizedException');
    await expect(next).resolves.toEqual({ device: 'two' });
    expect(metadataOf(handover.addTo(success('alice')))).toBeUndefined();
  });

  it('leaves events other than a success alone, and metadata an event already carries', async () => {
    const handover = new ChallengeMetadata();
    await handover.during('alice', { device: 'one' }, async () => {
      const preAuth = { triggerSource: 'PreAuthentication_Authentication', userName: 'alice', request: {} };
      expect(handover.addTo(preAuth)).toBe(preAuth);
      const carrying = { ...success('alice'), request: { clientMetadata: { own: 'yes' } } };
      expect(handover.addTo(carrying)).toBe(carrying);
      expect(handover.addTo(null)).toBeNull();
    });
  });
});
