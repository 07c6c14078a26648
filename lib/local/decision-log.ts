/** Turns the triggers' JSON log lines into one readable line per decision for the sandbox console. */
export function formatDecision(line: Record<string, unknown>, maxAttempts: number): string | undefined {
  const time = typeof line.timestamp === 'string' ? line.timestamp.slice(11, 19) : new Date().toISOString().slice(11, 19);
  const scope = String(line.scope ?? 'signin');
  const who = `${scope.padEnd(19)} ${String(line.identity ?? '').padEnd(16)}`;
  if (typeof line.localEvent === 'object' && line.localEvent !== null) {
    const { type, detail } = line.localEvent as { type: string; detail: { identity?: string; lockedUntil?: string } };
    return `${new Date().toISOString().slice(11, 19)}  ${'event'.padEnd(19)} ${String(detail.identity ?? '').padEnd(16)}  ${type} (until ${detail.lockedUntil ?? '-'}) sent to EventBridge`;
  }
  if (typeof line.localEmail === 'object' && line.localEmail !== null) {
    const { subject, text } = line.localEmail as { subject?: string; text?: string };
    return `${new Date().toISOString().slice(11, 19)}  ${'email'.padEnd(19)} ${'(to the owner)'.padEnd(16)}  lock notice "${subject}": ${text}`;
  }
  if (typeof line.localNotice === 'object' && line.localNotice !== null) {
    const { identity, code } = line.localNotice as { identity?: string; code?: string };
    return `${new Date().toISOString().slice(11, 19)}  ${'email'.padEnd(19)} ${String(identity ?? '').padEnd(16)}  password reset code ${code} (a real pool emails it)`;
  }
  if (line.trigger === 'PostConfirmation' && line.identity !== undefined) return `${time}  ${who}  ${String(line.message)}`;
  if (line.level === 'ERROR') return `${time}  ${String(line.trigger ?? '')} ERROR: ${String(line.message)}`;
  if (line.trigger === 'PostAuthentication' && line.identity !== undefined) {
    return `${time}  ${who}  signed in ${line.outcome === 'locked' ? '(while locked: the lock stays)' : line.outcome === 'cleared' ? '(failures cleared)' : ''}`;
  }
  const until =
    typeof line.lockedUntil === 'string' ? (line.lockedUntil === 'permanent' ? 'permanently' : `until ${line.lockedUntil.slice(11, 19)}`) : '';
  const unknown = line.userNotFound === true ? '  (unknown user)' : '';
  switch (line.outcome) {
    case 'admitted':
      return `${time}  ${who}  allowed   attempt ${line.failures}${scope === 'signin' ? ` of ${maxAttempts}` : ''}${unknown}`;
    case 'lockout-started':
      return `${time}  ${who}  REFUSED   lockout #${line.lockouts} starts: locked ${until}${unknown}`;
    case 'locked':
    case 'contended':
      return `${time}  ${who}  REFUSED   locked ${until}${unknown}`;
    default:
      return line.message === 'monitor mode: attempt would have been refused'
        ? `${time}  (monitor mode: the attempt above would have been refused)`
        : undefined;
  }
}
