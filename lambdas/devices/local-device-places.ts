/**
 * The instance's own count of the devices counting apart per user and fixed window, for decisions made without the
 * store (store-guard.ts): the store's `open` set (device-bucket.ts) cannot be asked then, and without this an
 * attacker holding many of a user's device tokens would get N per token from each instance during an outage.
 * With it, each instance admits at most maxOpen devices per user per window, as the store does.
 */
export class LocalDevicePlaces {
  private readonly places = new Map<string, { window: number; dids: Set<string> }>();

  /** `limit`: users remembered at once; past it, a user not remembered gets no place (counts anonymously). */
  constructor(private readonly limit = 10_000) {}

  /** Whether `did` may count apart for the user's item in `window`; takes a place for it if so. */
  take(itemKey: string, did: string, window: number, maxOpen: number): boolean {
    let entry = this.places.get(itemKey);
    if (entry === undefined || entry.window !== window) {
      if (entry === undefined && !this.roomFor(window)) return false;
      entry = { window, dids: new Set() };
      this.places.set(itemKey, entry);
    }
    if (entry.dids.has(did)) return true;
    if (entry.dids.size >= maxOpen) return false;
    entry.dids.add(did);
    return true;
  }

  /** A successful sign-in with the device: it holds no place any more, as in the store. */
  release(itemKey: string, did: string): void {
    this.places.get(itemKey)?.dids.delete(did);
  }

  /** Forgets users of earlier windows when full; never one of this window, whose bound would be lifted. */
  private roomFor(window: number): boolean {
    if (this.places.size < this.limit) return true;
    for (const [key, entry] of this.places) if (entry.window < window) this.places.delete(key);
    return this.places.size < this.limit;
  }
}
