import { type DeviceKeySet, parseDeviceKeySet } from './device-token';
import { withDeadline } from './deadline';

/**
 * The device token keys an instance holds. Where they live: a Secrets Manager secret the construct creates with a
 * generated value, so the key is in no template, output, log or environment variable; only the functions that sign
 * or check tokens may read it, and a rotation is a new secret version (the admin CLI's `rotate-device-key`).
 *
 * Loaded once at cold start, started when the instance is built so the read overlaps Lambda's init; the first
 * decision waits for it at most `firstLoadBudgetMs`. After that no decision waits: the set is re-read in the
 * background every `refreshMs`, which is how an instance learns a rotated key before the rotation's `signFrom`
 * (the CLI sets it later than one refresh period). A read that fails leaves the last good set in place, or none:
 * then every token counts as absent, which is logged and counted, never shown to a user.
 */
export interface DeviceKeysOptions {
  readonly clock: () => number;
  readonly refreshMs: number;
  readonly firstLoadBudgetMs: number;
  /** Told of every failed read (the reason, never the secret's text). */
  readonly onError: (error: unknown) => void;
}

/** How often an instance re-reads the key (the CLI's rotation waits longer than this before signing with a new key). */
export const DEVICE_KEY_REFRESH_MS = 5 * 60_000;

export class DeviceKeys {
  private current: DeviceKeySet | undefined;
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;
  private readonly first: Promise<void>;

  constructor(
    private readonly read: () => Promise<string>,
    private readonly options: DeviceKeysOptions,
  ) {
    this.first = this.refresh();
  }

  /** The keys to use now: waits for the cold start's read (bounded) the first time, never afterwards. */
  async keys(): Promise<DeviceKeySet | undefined> {
    if (this.loadedAt === Number.NEGATIVE_INFINITY && this.loading !== undefined) {
      await withDeadline(this.options.firstLoadBudgetMs, () => this.first).catch(() => undefined);
    }
    if (this.loading === undefined && this.options.clock() - this.loadedAt >= this.options.refreshMs) void this.refresh();
    return this.current;
  }

  private refresh(): Promise<void> {
    const started = this.options.clock();
    this.loading = this.read()
      .then((text) => {
        this.current = parseDeviceKeySet(text);
      })
      .catch((error: unknown) => this.options.onError(error))
      .finally(() => {
        // A failed read is retried after the same period: a missing permission does not become a storm of calls.
        this.loadedAt = started;
        this.loading = undefined;
      });
    return this.loading;
  }
}
