/**
 * A per-instance circuit breaker in front of the lockout store, as a pure state machine over an injected clock.
 *
 * Closed: every decision asks the store. After `failureThreshold` consecutive store failures it opens: decisions
 * stop waiting for the store (they are made from the instance's own record, see `instance-record.ts`), so a full
 * outage costs microseconds per sign-in instead of the whole store budget. When the open period ends, the next
 * decision is a half-open probe that asks the store; the others keep deciding locally until the probe answers.
 * A probe that succeeds closes the circuit; one that fails reopens it for twice as long, up to `maxOpenMs`, so
 * recovery is noticed within `maxOpenMs` plus one store round trip of the store coming back.
 */

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitSettings {
  /** Consecutive store failures that open the circuit. */
  readonly failureThreshold: number;
  /** First open period. */
  readonly openMs: number;
  /** Longest open period, however many probes fail. */
  readonly maxOpenMs: number;
}

/**
 * Three failures in a row is no accident on a healthy table (the SDK already retried each once); one second
 * open and at most five keeps a recovered store unused for five seconds at worst.
 */
export const DEFAULT_CIRCUIT: CircuitSettings = { failureThreshold: 3, openMs: 1000, maxOpenMs: 5000 };

/** What a decision may do: ask the store, ask it as the half-open probe, or decide without it. */
export type CircuitPermit = 'request' | 'probe' | 'bypass';

/** A change of state, for the log and the `StoreCircuitOpened` / `StoreCircuitClosed` metrics. */
export interface CircuitChange {
  readonly from: CircuitState;
  readonly to: CircuitState;
  readonly consecutiveFailures: number;
  /** Epoch ms when the next probe may go, for a change to 'open'. */
  readonly openUntil?: number;
}

export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private failures = 0;
  private openUntil = 0;
  private openMs: number;
  private probing = false;

  constructor(private readonly settings: CircuitSettings = DEFAULT_CIRCUIT) {
    this.openMs = settings.openMs;
  }

  get state(): CircuitState {
    return this.current;
  }

  /** Closed, and the last request was answered: nothing suggests the store is failing. */
  get healthy(): boolean {
    return this.current === 'closed' && this.failures === 0;
  }

  /** Whether a decision at `now` asks the store. A 'probe' permit must be settled with `succeeded` or `failed`. */
  permit(now: number): CircuitPermit {
    if (this.current === 'closed') return 'request';
    if (this.probing || now < this.openUntil) return 'bypass';
    this.probing = true;
    this.current = 'half-open';
    return 'probe';
  }

  /** The store answered (a refused condition is an answer). */
  succeeded(permit: CircuitPermit): CircuitChange | undefined {
    if (permit === 'probe') this.probing = false;
    this.failures = 0;
    if (this.current === 'closed') return undefined;
    // A late answer to a request sent while closed also proves the store is back.
    const from = this.current;
    this.current = 'closed';
    this.openMs = this.settings.openMs;
    return { from, to: 'closed', consecutiveFailures: 0 };
  }

  /** The store failed or ran out of time. */
  failed(permit: CircuitPermit, now: number): CircuitChange | undefined {
    if (permit === 'probe') {
      this.probing = false;
      this.openMs = Math.min(this.openMs * 2, this.settings.maxOpenMs);
      return this.open(now);
    }
    this.failures += 1;
    if (this.current === 'closed' && this.failures >= this.settings.failureThreshold) return this.open(now);
    return undefined;
  }

  private open(now: number): CircuitChange {
    const from = this.current;
    this.current = 'open';
    this.openUntil = now + this.openMs;
    return { from, to: 'open', consecutiveFailures: this.failures, openUntil: this.openUntil };
  }
}
