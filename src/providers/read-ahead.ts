// The API reads a playbook's last converged run on a host made, asked again as soon as
// this run holds the host's run lock, beside its facts (clients/read-ahead.ts says when an answer may be
// used). Kept between runs as a record beside the kept tokens: each read's URL and, for its tokens, the
// name of the token cache's file (never a token). A token that has expired, or a URL that is not plain
// http (TLS wants the trust the facts give), is not asked ahead. The record is written again from what
// this run read, when its plan was empty (a run that changes something reads what a converged one does not).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Host } from '../engine/host.ts';
import type { Provider } from '../engine/providers.ts';
import { httpRequest } from '../clients/http.ts';
import { convergedReads, drop, readAhead, trackReads, untaken, type ReadRequest } from '../clients/read-ahead.ts';
import { fileTokenCache, tokenCacheDir, type TokenCache } from '../clients/token-cache.ts';
import { traceOf, traceUrl } from '../trace.ts';

/** A read as the record keeps it: its tokens by their cache file's name. */
interface KeptRead {
  method: 'GET' | 'HEAD';
  url: string;
  token?: string;
  subjectToken?: string;
}

export interface ReadsAhead {
  /** How many reads this run asked ahead. */
  readonly asked: number;
}

interface Session extends ReadsAhead {
  asked: number;
  host: Host;
  /** Where the record is kept; none without a token cache. */
  kept?: { cache: TokenCache; file: string };
  closed: boolean;
}

const TIMEOUT_MS = 15_000;
const plainHttp = (url: string) => url.startsWith('http://');

function recordFile(dir: string, playbook: string, target: string): string {
  return path.join(dir, `ahead-${crypto.createHash('sha256').update(`${playbook}\n${target}`).digest('hex')}`);
}

function load(file: string): KeptRead[] {
  try {
    const j = JSON.parse(fs.readFileSync(file, 'utf8')) as { reads?: unknown };
    if (!Array.isArray(j.reads)) return [];
    return j.reads.filter((r): r is KeptRead => !!r && (r.method === 'GET' || r.method === 'HEAD') && typeof r.url === 'string' && plainHttp(r.url));
  } catch {
    return [];
  }
}

function save(file: string, reads: KeptRead[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ reads }), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** The reads with their tokens in place; none whose token is gone or about to expire. */
function withTokens(kept: KeptRead[], cache: TokenCache): ReadRequest[] {
  return kept.flatMap((k) => {
    const token = k.token ? cache.byRef?.(k.token) : undefined;
    const subjectToken = k.subjectToken ? cache.byRef?.(k.subjectToken) : undefined;
    if ((k.token && !token) || (k.subjectToken && !subjectToken)) return [];
    return [{ method: k.method, url: k.url, ...(token ? { token } : {}), ...(subjectToken ? { subjectToken } : {}) }];
  });
}

/** This run's reads as a record: only those whose tokens the cache names. */
function asKept(reads: ReadRequest[], cache: TokenCache): KeptRead[] {
  return reads.flatMap((r) => {
    if (!plainHttp(r.url)) return [];
    const token = r.token ? cache.refOf?.(r.token) : undefined;
    const subjectToken = r.subjectToken ? cache.refOf?.(r.subjectToken) : undefined;
    if ((r.token && !token) || (r.subjectToken && !subjectToken)) return [];
    return [{ method: r.method, url: r.url, ...(token ? { token } : {}), ...(subjectToken ? { subjectToken } : {}) }];
  });
}

/**
 * The read-ahead of `playbook` on a host, opened with the playbook's warm-up (before the facts). `dir`:
 * where tokens are kept (default: the token cache's; null: none, and nothing is asked ahead).
 */
export function readsAhead(opts: { playbook: string; dir?: string | null }): Provider<Session> {
  return {
    key: `read-ahead ${opts.playbook}`,
    async open(host: Host) {
      const dir = opts.dir === null ? undefined : (opts.dir ?? tokenCacheDir());
      if (!dir) return { asked: 0, host, closed: true };
      const cache = fileTokenCache(dir);
      const file = recordFile(dir, opts.playbook, host.name);
      const session: Session = { asked: 0, host, kept: { cache, file }, closed: false };
      trackReads(host.t);
      host.onChange(() => drop(host.t));
      const kept = load(file);
      if (kept.length) {
        void host.readable().then(() => {
          if (session.closed) return;
          const reads = withTokens(kept, cache);
          session.asked = reads.length;
          readAhead(host.t, reads, (r) => httpRequest(host.t, r.url, {
            method: r.method,
            headers: { accept: 'application/json', ...(r.token ? { 'x-auth-token': r.token } : {}), ...(r.subjectToken ? { 'x-subject-token': r.subjectToken } : {}) },
            timeoutMs: TIMEOUT_MS,
          }));
        });
      }
      return session;
    },
    close(s) {
      if (s.closed || !s.kept) return;
      s.closed = true;
      const trace = traceOf(s.host.t);
      for (const u of untaken(s.host.t)) {
        trace?.({ kind: 'api', what: `${u.request.method} ${traceUrl(u.request.url)}`, outcome: `${u.status ?? 'no answer yet'} (asked ahead, not used)`, ms: u.ms });
      }
      // Only a converged run's reads are what the next run is likely to make again.
      const reads = asKept(convergedReads(s.host.t), s.kept.cache);
      if (reads.length) {
        try {
          save(s.kept.file, reads);
        } catch {
          // not kept: the next run only asks after its facts, as it did before
        }
      }
    },
    stats: (v) => ({ readsAskedAhead: v.asked }),
  };
}
