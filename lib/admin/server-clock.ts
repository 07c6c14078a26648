/**
 * DynamoDB's time, read from the `Date` header of its responses. The admin CLI decides "locked", "expired" and
 * where a lock ends on it, not on the operator's machine: the triggers decide on Lambda's clocks, which AWS keeps
 * in sync, while a laptop's clock can be minutes off, and then `status` would call a lock over that the triggers
 * still enforce, and `lock --for 30m` would lock for 20 minutes or 40. Every DynamoDB response carries the server's
 * time, so reading it costs no request. HTTP dates have a resolution of one second, finer than any decision the
 * CLI reports.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** A difference above this is worth telling the operator: it is more than the Date header's resolution and latency. */
export const SKEW_WARNING_THRESHOLD_MS = 5_000;

export interface ServerClockOptions {
  /** This machine's clock; injected in tests. */
  readonly localNow?: () => number;
  /** Told once, the first time this machine's clock is found off by more than the threshold. */
  readonly warn?: (text: string) => void;
}

export class ServerClock {
  /** Server time minus local time at the latest response; undefined until a response with a Date arrives. */
  private offsetMs: number | undefined;
  private warnedSkew = false;
  private warnedMissing = false;
  private readonly localNow: () => number;
  private readonly warn: (text: string) => void;

  constructor(options: ServerClockOptions = {}) {
    this.localNow = options.localNow ?? Date.now;
    this.warn = options.warn ?? (() => undefined);
  }

  /** Records the `Date` header of a response received just now. A missing or unreadable header changes nothing. */
  observe(dateHeader: string | undefined): void {
    const serverMs = dateHeader === undefined ? NaN : Date.parse(dateHeader);
    if (!Number.isFinite(serverMs)) return;
    // A Date header is the server's time truncated to the second, so each reading underestimates the offset by up
    // to a second. The largest reading is the closest, and keeping it makes `now()` never run backwards between
    // two actions of one run (audit records stay in the order they were made).
    const offset = serverMs - this.localNow();
    this.offsetMs = this.offsetMs === undefined ? offset : Math.max(this.offsetMs, offset);
    const warning = skewWarning(-this.offsetMs);
    if (warning !== undefined && !this.warnedSkew) {
      this.warnedSkew = true;
      this.warn(warning);
    }
  }

  /**
   * The time decisions are made on (epoch ms). While this machine's clock agrees with DynamoDB's to within the
   * warning threshold, its own: it has millisecond resolution, so the audit records of actions made one after the
   * other, from one machine, keep their order. Beyond the threshold, DynamoDB's (with the warning). Before any
   * response said it, or when a proxy strips the header, this machine's time, with a warning.
   */
  now(): number {
    if (this.offsetMs === undefined) {
      if (!this.warnedMissing) {
        this.warnedMissing = true;
        this.warn("DynamoDB's answer carried no Date header: times are decided on this machine's clock");
      }
      return this.localNow();
    }
    if (skewWarning(-this.offsetMs) === undefined) return this.localNow();
    return this.localNow() + this.offsetMs;
  }

  /** How far this machine's clock is ahead of DynamoDB's (negative: behind), or undefined before any response. */
  skewMs(): number | undefined {
    return this.offsetMs === undefined ? undefined : -this.offsetMs;
  }
}

/** The warning for a local clock `skewMs` ahead of the server's (negative: behind), or undefined when it is close enough. */
export function skewWarning(skewMs: number, thresholdMs = SKEW_WARNING_THRESHOLD_MS): string | undefined {
  if (Math.abs(skewMs) <= thresholdMs) return undefined;
  const seconds = Math.round(Math.abs(skewMs) / 1000);
  return (
    `this machine's clock is ${seconds} s ${skewMs > 0 ? 'ahead of' : 'behind'} DynamoDB's: ` +
    "locks are shown and set on DynamoDB's time, which the triggers use too"
  );
}

/**
 * Makes `client` report the `Date` header of every DynamoDB response to `clock`. The middleware sits inside the
 * deserializer, so it sees error answers (a refused condition, a missing table) as well, and every retry.
 */
export function watchServerDate(client: DynamoDBClient, clock: ServerClock): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      clock.observe(headerOf(result.response, 'date'));
      return result;
    },
    { step: 'deserialize', priority: 'low', name: 'cognitoLockoutServerDate' },
  );
}

function headerOf(response: unknown, name: string): string | undefined {
  const headers = (response as { headers?: Record<string, string | undefined> } | undefined)?.headers;
  if (headers === undefined) return undefined;
  // Node's HTTP handler lower-cases header names; other handlers may not.
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}
