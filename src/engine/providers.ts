// Sessions a resource asks for (a database admin login, an API client with its token), opened lazily,
// once per host, by whoever asks first, and closed by the engine when the host's run ends. A provider
// is identified by its key, so two instances built from the same settings are the same session.
import type { Host } from './host.ts';

export interface Provider<T> {
  /** Identity on a host, and the name an error or a stat uses. */
  readonly key: string;
  open(host: Host): Promise<T>;
  close?(value: T): Promise<void> | void;
  /** Counters for the report (`{ keystoneRequests: 7 }`), read when the host's run ends. */
  stats?(value: T): Record<string, number>;
}

export class Providers {
  readonly #opened = new Map<string, { provider: Provider<unknown>; value: Promise<unknown> }>();

  use<T>(p: Provider<T>, host: Host): Promise<T> {
    let entry = this.#opened.get(p.key);
    if (!entry) {
      const value = p.open(host);
      // A provider nobody awaits (opened early, then not needed) must not become an unhandled rejection.
      value.catch(() => {});
      entry = { provider: p as Provider<unknown>, value };
      this.#opened.set(p.key, entry);
    }
    return entry.value as Promise<T>;
  }

  /** Closes every session that opened (in reverse order of opening); returns their counters, summed by name. */
  async closeAll(): Promise<Record<string, number>> {
    const stats: Record<string, number> = {};
    for (const { provider, value } of [...this.#opened.values()].reverse()) {
      const v = await value.catch(() => undefined);
      if (v === undefined) continue;
      try {
        for (const [k, n] of Object.entries(provider.stats?.(v) ?? {})) stats[k] = (stats[k] ?? 0) + n;
      } catch {
        // a counter is not worth losing the other sessions' close for
      }
      // Inside the chain, so a close that throws at once is caught like one that rejects.
      await Promise.resolve().then(() => provider.close?.(v)).catch(() => {});
    }
    this.#opened.clear();
    return stats;
  }
}
