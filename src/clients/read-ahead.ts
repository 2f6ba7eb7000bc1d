// Answers asked ahead: the reads a run is about to make (the ones the previous run on this target made)
// are sent as soon as the run may read, beside its facts, and a request the run then makes that is the
// same one (method, URL, token, subject token) takes that answer instead of asking again. On a converged
// re-run the API reads then cost the facts' time instead of coming after it.
//
// Sound only while nothing changed in between: the owner starts them once the run lock is held (no other
// run writes meanwhile), and drops what is left when this run is about to change anything (`drop`) or
// sends a request that changes something itself. An answer that did not come (no tunnel, a timeout) is
// never used: the run asks for real.
import type { Transport } from '../transport/ssh.ts';
import type { HttpResponse } from './http.ts';

export interface ReadRequest {
  method: 'GET' | 'HEAD';
  url: string;
  token?: string;
  subjectToken?: string;
}

interface Ahead {
  request: ReadRequest;
  started: number;
  answer: Promise<HttpResponse>;
  taken: boolean;
  status?: number;
}

interface State {
  ahead: Map<string, Ahead>;
  /** The reads this run made, in order, once each (until its first change). */
  seen: Map<string, ReadRequest>;
  changed: boolean;
}

const states = new WeakMap<Transport, State>();

const keyOf = (r: ReadRequest) => JSON.stringify([r.method, r.url, r.token ?? '', r.subjectToken ?? '']);

/** From now on, this transport's reads are noted (what `seen` returns) and may be answered ahead. */
export function trackReads(t: Transport): void {
  if (!states.has(t)) states.set(t, { ahead: new Map(), seen: new Map(), changed: false });
}

/** Sends these reads now; a run's own identical request takes the answer (once). */
export function readAhead(t: Transport, requests: readonly ReadRequest[], send: (r: ReadRequest) => Promise<HttpResponse>): void {
  const s = states.get(t);
  if (!s || s.changed) return;
  for (const r of requests) {
    const key = keyOf(r);
    if (s.ahead.has(key)) continue;
    const a: Ahead = { request: r, started: performance.now(), answer: send(r), taken: false };
    a.answer.then((res) => (a.status = res.status), () => {});
    s.ahead.set(key, a);
  }
}

/**
 * A request about to be sent: noted (a read, before any change), and for a read the answer asked
 * ahead for it, if there is one. A request that changes something ends both.
 */
export function beforeRequest(t: Transport, r: { method: string; url: string; token?: string; subjectToken?: string }, changes: boolean): { answer: Promise<HttpResponse>; started: number } | undefined {
  const s = states.get(t);
  if (!s) return undefined;
  if (changes) {
    drop(t);
    return undefined;
  }
  if (s.changed || (r.method !== 'GET' && r.method !== 'HEAD')) return undefined;
  const read: ReadRequest = { method: r.method, url: r.url, ...(r.token ? { token: r.token } : {}), ...(r.subjectToken ? { subjectToken: r.subjectToken } : {}) };
  const key = keyOf(read);
  if (!s.seen.has(key)) s.seen.set(key, read);
  const a = s.ahead.get(key);
  if (!a || a.taken) return undefined;
  a.taken = true;
  return a;
}

/** The run is about to change the host: nothing asked ahead is used from now on, and reads are no longer noted. */
export function drop(t: Transport): void {
  const s = states.get(t);
  if (!s) return;
  s.changed = true;
}

/**
 * The reads of a run that changed nothing (what the next run on the target may ask ahead); none once it
 * changed something: it read what a converged run never does (lookups of what was missing).
 */
export function convergedReads(t: Transport): ReadRequest[] {
  const s = states.get(t);
  return s && !s.changed ? [...s.seen.values()] : [];
}

/** The reads asked ahead that no request took, with their status once answered (for -v). */
export function untaken(t: Transport): { request: ReadRequest; status?: number; ms: number }[] {
  return [...(states.get(t)?.ahead.values() ?? [])].filter((a) => !a.taken)
    .map((a) => ({ request: a.request, ...(a.status !== undefined ? { status: a.status } : {}), ms: Math.round(performance.now() - a.started) }));
}
