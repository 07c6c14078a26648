import { confirmReset } from '../lib/admin/confirm';
import { AdminError } from '../lib/admin/errors';

const FOUND = { total: 1234, locked: 12 };

describe('confirming reset-all', () => {
  it('asks on a terminal to type the count back, and goes on when it is', async () => {
    const questions: string[] = [];
    await confirmReset(FOUND, undefined, async (question) => {
      questions.push(question);
      return ' 1234\n';
    });
    expect(questions).toEqual(['Type 1234 to clear them, anything else to stop: ']);
  });

  it.each(['', 'y', 'yes', '1233', '12345'])('stops when the answer is %p', async (answer) => {
    await expect(confirmReset(FOUND, undefined, async () => answer)).rejects.toThrow(new AdminError('not confirmed; nothing cleared'));
  });

  it('refuses without a terminal unless --count is given, saying the count to pass', async () => {
    const refusal = confirmReset(FOUND, undefined, undefined);
    await expect(refusal).rejects.toMatchObject({
      exitCode: 2,
      message: 'reset-all will clear 1234 identities (12 locked now); not on a terminal, so confirm with --yes --count 1234. Nothing cleared',
    });
  });

  it('accepts a matching --count without asking, and refuses another one with the count found', async () => {
    const prompt = jest.fn(async () => '');
    await expect(confirmReset(FOUND, 1234, prompt)).resolves.toBeUndefined();
    expect(prompt).not.toHaveBeenCalled();
    await expect(confirmReset(FOUND, 1200, undefined)).rejects.toMatchObject({
      exitCode: 2,
      message: '--count 1200 does not match: reset-all will clear 1234 identities (12 locked now); nothing cleared',
    });
  });
});
