import { type DeviceKeySet, parseDeviceKeySet } from './device-token';
import { DEVICE_KEY_FIRST_WAIT_MS } from '../shared/contract';
import { withDeadline } from '../shared/deadline';

/**
 * The device token keys an instance holds. Where they live: a Secrets Manager secret the construct creates with a
 * generated value, so the key is in no template, output, log or environment variable; only the functions that sign
 * or check tokens may read it, and a rotation is a new secret version (the admin CLI's `rotate-device-key`).
 *
 * Loaded once per instance: when it is built (`readAtInit`, pre token generation, which signs at every sign-in), or
 * else at the first decision that carries a token, so a cold start without one never loads the Secrets Manager client
 * (secret-reader.ts). The first decision that needs the keys waits for them at most DEVICE_KEY_FIRST_WAIT_MS. After
 * that no decision waits: the set is re-read in the background every DEVICE_KEY_REFRESH_MS, which is how an
 * instance learns a rotated key before the rotation's `signFrom` (the CLI sets it later than one refresh period).
 * A read that fails leaves the last good set in place, or none: then every token counts as absent, which is logged
 * and counted, never shown to a user. A failed read is tried again sooner than a refresh, after a backoff
 * (`keyRetryDelayMs`), so one lost read does not leave an instance without keys for a whole refresh period.
 */
export interface DeviceKeysOptions {
  readonly clock: () => number;
  /** Told of every failed read (the reason, never the secret's text). */
  readonly onError: (error: unknown) => void;
  /**
   * Start the first read when the instance is built (a function that signs a token at every sign-in: pre token
   * generation), rather than at the first call of `keys()`: a function that only checks tokens reads the secret,
   * and loads its client, only once an event carries one.
   */
  readonly readAtInit?: boolean;
}

// The timings every instance uses. They are not options, so that what the tests prove is what the functions do.

/** How often an instance re-reads the key (the CLI's rotation waits longer than this before signing with a new key). */
export const DEVICE_KEY_REFRESH_MS = 5 * 60_000;
/**
 * The most the first decision of an instance waits for the key: once, whatever the read does. Counted, with the
 * store's budget after it, against each function's timeout at synth (contract.ts `serialWaitMs`).
 */
export { DEVICE_KEY_FIRST_WAIT_MS } from '../shared/contract';
/** A key read abandoned after this long (the SDK client's own timeouts are shorter). */
export const DEVICE_KEY_READ_TIMEOUT_MS = 5_000;
/** The wait before the first retry of a failed read; each further failure doubles it, up to DEVICE_KEY_REFRESH_MS. */
export const DEVICE_KEY_RETRY_MS = 2_000;

/**
 * How long after the `failures`-th failed read in a row the next read may start. Doubling up to the refresh period
 * bounds what a lasting failure (a missing permission, a deleted secret) costs: 8 reads in its first 5 minutes, then
 * one per refresh period as without failures, per instance.
 */
export function keyRetryDelayMs(failures: number): number {
  return Math.min(DEVICE_KEY_RETRY_MS * 2 ** Math.max(0, failures - 1), DEVICE_KEY_REFRESH_MS);
}

export class DeviceKeys {
  private current: DeviceKeySet | undefined;
  /** When the next background read may start (epoch ms of the injected clock). */
  private nextReadAt = Number.NEGATIVE_INFINITY;
  /** Failed reads in a row, for the backoff. */
  private failures = 0;
  private loading: Promise<void> | undefined;
  private first: Promise<void> | undefined;
  private firstWait: Promise<unknown> | undefined;

  constructor(
    private readonly read: () => Promise<string>,
    private readonly options: DeviceKeysOptions,
  ) {
    if (options.readAtInit === true) this.first = this.refresh();
  }

  /**
   * The keys to use now: the first calls wait for the cold start's read, at most DEVICE_KEY_FIRST_WAIT_MS after the
   * first one; no call after that waits, even while that read is still under way (its keys are used once it lands).
   * A call that finds a read due (the refresh period, or a failed read's backoff, has passed) starts it in the
   * background and answers with what the instance holds. Reads start only from calls, never from timers: a frozen
   * Lambda instance makes none, and a busy one at most one at a time.
   */
  async keys(): Promise<DeviceKeySet | undefined> {
    // One wait, shared by every call that comes before it ends (a process serving concurrent sign-ins, as the
    // sandbox does): it ends at most DEVICE_KEY_FIRST_WAIT_MS after the first call, and resolves at once afterwards.
    this.first ??= this.refresh();
    const first = this.first;
    this.firstWait ??= withDeadline(DEVICE_KEY_FIRST_WAIT_MS, () => first).catch(() => undefined);
    await this.firstWait;
    if (this.loading === undefined && this.options.clock() >= this.nextReadAt) void this.refresh();
    return this.current;
  }

  private refresh(): Promise<void> {
    const started = this.options.clock();
    this.loading = withDeadline(DEVICE_KEY_READ_TIMEOUT_MS, () => this.read())
      .then((text) => {
        this.current = parseDeviceKeySet(text);
        this.failures = 0;
        this.nextReadAt = started + DEVICE_KEY_REFRESH_MS;
      })
      .catch((error: unknown) => {
        // Counted from the failure, not from the start: a read that hung until its timeout waits its full backoff too.
        this.failures += 1;
        this.nextReadAt = this.options.clock() + keyRetryDelayMs(this.failures);
        this.options.onError(error);
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }
}
