/**
 * Confirmation of `reset-all`. `--yes` alone proves only that someone once typed it, into a script that may now
 * run against the wrong table or at the worst moment (during an attack, reset-all clears the attackers' locks
 * too). So the operator confirms the number the CLI found: typed back on a terminal, or passed as `--count N`
 * where nobody can answer. A count that no longer matches means the table is not what the operator thought.
 */
import { AdminError } from './errors';

/** Asks a question and returns the answer; undefined when nobody can answer (no terminal). */
export type Prompt = (question: string) => Promise<string>;

export interface ResetSummary {
  /** Identities holding lockout state, sign-in and sign-up. */
  readonly total: number;
  /** Of those, locked at the server's time when counted. */
  readonly locked: number;
}

export function describeReset(found: ResetSummary): string {
  return `reset-all will clear ${found.total} identit${found.total === 1 ? 'y' : 'ies'} (${found.locked} locked now)`;
}

/**
 * Resolves when the operator confirmed `found.total`; throws an AdminError saying the count otherwise.
 * `count` is `--count`, which confirms on its own; `prompt` is undefined when there is no terminal.
 */
export async function confirmReset(found: ResetSummary, count: number | undefined, prompt: Prompt | undefined): Promise<void> {
  if (count !== undefined) {
    if (count === found.total) return;
    throw new AdminError(`--count ${count} does not match: ${describeReset(found)}; nothing cleared`, 2);
  }
  if (prompt === undefined)
    throw new AdminError(`${describeReset(found)}; not on a terminal, so confirm with --yes --count ${found.total}. Nothing cleared`, 2);
  const answer = await prompt(`Type ${found.total} to clear them, anything else to stop: `);
  if (answer.trim() !== String(found.total)) throw new AdminError('not confirmed; nothing cleared');
}
