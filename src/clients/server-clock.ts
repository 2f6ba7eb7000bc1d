// What a server's Date header said, and when it came by this machine's clock: kept per connection and
// origin for every answer the HTTP client gets, so a check of the server's clock against another costs
// no request of its own (the Keystone login every run makes carries one).

export interface ServerClock {
  /** The server's clock, as its Date header said (whole seconds). */
  readonly serverMs: number;
  /** This machine's clock when the answer came. */
  readonly localMs: number;
}

const seen = new WeakMap<object, Map<string, ServerClock>>();

const originOf = (url: string | URL): string => {
  const u = typeof url === 'string' ? new URL(url) : url;
  return `${u.protocol}//${u.host}`.toLowerCase();
};

/** Notes an answer's Date header (ignored when it is missing or not a date). */
export function noteServerDate(connection: object, url: string | URL, date: string | undefined, localMs = Date.now()): void {
  const serverMs = date ? Date.parse(date) : NaN;
  if (!Number.isFinite(serverMs)) return;
  let byOrigin = seen.get(connection);
  if (!byOrigin) seen.set(connection, (byOrigin = new Map()));
  byOrigin.set(originOf(url), { serverMs, localMs });
}

/** The last Date a server at `url`'s origin gave on this connection, if any. */
export function serverClock(connection: object, url: string | URL): ServerClock | undefined {
  return seen.get(connection)?.get(originOf(url));
}
