import type { AttemptOutcome } from '../store/limiter';
import type { LockoutMode, StoreErrorPolicy } from '../policy/settings';

/** What the trigger does with a decision, after the mode and the store-error policy are applied. */
export interface Verdict {
  /** Return the event (true) or throw the refusal message (false). */
  readonly allow: boolean;
  /** The policy would refuse; in monitor mode this is reported but not enforced. */
  readonly wouldRefuse: boolean;
}

/** 'store-error': the store failed and nobody decided (store-error policy `allow` or `deny`). */
export type DecisionInput = AttemptOutcome | 'store-error';

export function verdictFor(input: DecisionInput, mode: LockoutMode, storeErrorPolicy: StoreErrorPolicy): Verdict {
  const wouldRefuse = input === 'store-error' ? storeErrorPolicy === 'deny' : input !== 'admitted';
  // Monitor mode is for safe roll-out: it must never refuse, whatever the store or the counters say.
  return { allow: !wouldRefuse || mode === 'monitor', wouldRefuse };
}

/**
 * Combines the outcomes of several keys checked for one event (sign-up counts email, phone and username):
 * any refusal wins over a store error, which wins over admission.
 */
export function combineInputs(inputs: readonly DecisionInput[]): DecisionInput {
  const refusal = inputs.find((i) => i !== 'admitted' && i !== 'store-error');
  if (refusal !== undefined) return refusal;
  return inputs.includes('store-error') ? 'store-error' : 'admitted';
}
