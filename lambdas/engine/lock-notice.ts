/**
 * The email that tells an account's owner it was locked. Pre-authentication only hands the notice to the
 * notifier function (an asynchronous invoke, bounded like the lockout event), so a refusal never waits for
 * email delivery and never depends on it.
 */
import { sideCall } from './announce';
import type { TriggerDeps } from './deps';
import { count } from './telemetry';
import { type CheckedEvent, attributeText } from './trigger-event';

/**
 * The address to notify, or undefined. Known users only, and only a verified address: unknown names get nothing
 * (no enumeration, no mail to whatever a stranger typed), and an unverified address may not be the owner's.
 */
export function noticeAddress(event: CheckedEvent): string | undefined {
  if (event.request.userNotFound === true) return undefined;
  if (event.userAttributes.email_verified !== 'true' && event.userAttributes.email_verified !== true) return undefined;
  return attributeText(event, 'email');
}

/** Requests the notice within `budgetMs`; a failure is logged (hashed identity only) and counted, never thrown. */
export async function requestNotice(
  deps: TriggerDeps,
  identity: string,
  budgetMs: number,
  notice: Parameters<NonNullable<TriggerDeps['notices']>['request']>[0],
): Promise<void> {
  const { notices, telemetry } = deps;
  if (notices === undefined) return;
  const sent = await sideCall(deps, { name: 'lock notice', identity, budgetMs, errorMetric: 'NoticeErrors' }, (abortSignal) =>
    notices.request(notice, abortSignal),
  );
  if (!sent) return;
  count(telemetry.metrics, 'NoticesRequested');
  telemetry.logger.info('lock notice requested for the account owner', { identity });
}
