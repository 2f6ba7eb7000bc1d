// Keystone tokens kept between runs, on the operator's machine. A token costs Keystone a password hash
// (bcrypt: ~0.4 s on a small controller, most of a converged re-apply); a token it issued for the same
// credentials less than an hour ago proves the same thing as long as Keystone still accepts it, and
// Keystone stops accepting it when that user's password changes or the user is disabled (keystone
// 2014.2 identity/core.py update_user: emit_invalidate_user_token_persistence; today's Keystone revokes
// by user, checked on the lab). A token is found by an HMAC of the credentials, password included,
// under a random key of this cache: other credentials (a changed or wrong password) never find it, and
// nothing on disk gives the password away. Files are the user's alone (0700 dir, 0600 files), like the
// local secrets file: a token is a bearer secret until it expires.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Secret } from '../secret.ts';

export interface TokenKey {
  /** The controller the token was issued on (as the run names it), with the URL Keystone answers at there. */
  target: string;
  authUrl: string;
  user: string;
  userDomain: string;
  project?: string;
  projectDomain?: string;
  password: Secret;
}

export interface CachedToken {
  token: string;
  /** ISO time, as Keystone gave it. */
  expiresAt: string;
}

export interface TokenCache {
  /** A token for these credentials that stays valid for at least `marginMs` more (default 10 min). */
  get(key: TokenKey, marginMs?: number): string | undefined;
  put(key: TokenKey, token: CachedToken): void;
  drop(key: TokenKey): void;
  /** The cache's name for a token this process got from it or put in it (what a read-ahead record keeps instead of the token). */
  refOf?(token: string): string | undefined;
  /** The token behind such a name, while it stays valid for `marginMs` more (default 10 min). */
  byRef?(ref: string, marginMs?: number): string | undefined;
}

/** Token → its file's name, for the tokens this process got or kept: a name is no secret, the token is. */
const refs = new Map<string, string>();

const DEFAULT_MARGIN_MS = 10 * 60_000;

/** Where tokens are kept: INSTALL_GLANCE_TOKEN_CACHE, else $XDG_CACHE_HOME/install-glance/tokens; 'off' keeps none. */
export function tokenCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const set = env.INSTALL_GLANCE_TOKEN_CACHE;
  if (set === 'off' || set === '0') return undefined;
  if (set) return set;
  return path.join(env.XDG_CACHE_HOME || path.join(env.HOME ?? '/root', '.cache'), 'install-glance', 'tokens');
}

export function fileTokenCache(dir: string, now: () => number = Date.now): TokenCache {
  let hmacKey: Buffer | undefined;
  /** The cache's own random key, made on first use. */
  const secretKey = (): Buffer => {
    if (hmacKey) return hmacKey;
    const file = path.join(dir, '.key');
    try {
      hmacKey = fs.readFileSync(file);
      if (hmacKey.length >= 32) return hmacKey;
    } catch { /* made below */ }
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    const fresh = crypto.randomBytes(32);
    const tmp = `${file}.${process.pid}`;
    fs.writeFileSync(tmp, fresh, { mode: 0o600 });
    try {
      fs.linkSync(tmp, file); // whoever links first wins; the others read its key
    } catch { /* another run made it */ }
    fs.rmSync(tmp, { force: true });
    hmacKey = fs.readFileSync(file);
    return hmacKey;
  };
  const fileOf = (k: TokenKey) => {
    const material = JSON.stringify([k.target, k.authUrl, k.user, k.userDomain, k.project ?? '', k.projectDomain ?? '', k.password.reveal()]);
    return path.join(dir, crypto.createHmac('sha256', secretKey()).update(material).digest('hex'));
  };
  const read = (file: string): CachedToken | undefined => {
    try {
      const j = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<CachedToken>;
      return typeof j.token === 'string' && typeof j.expiresAt === 'string' ? { token: j.token, expiresAt: j.expiresAt } : undefined;
    } catch {
      return undefined;
    }
  };
  const expired = (t: CachedToken, margin: number) => !(Date.parse(t.expiresAt) - now() > margin);

  return {
    get(key, marginMs = DEFAULT_MARGIN_MS) {
      const file = fileOf(key);
      const t = read(file);
      if (!t || expired(t, marginMs)) return undefined;
      refs.set(t.token, path.basename(file));
      return t.token;
    },
    put(key, token) {
      if (expired(token, 0)) return;
      const file = fileOf(key);
      refs.set(token.token, path.basename(file));
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(token), { mode: 0o600 });
      fs.renameSync(tmp, file);
      sweep(dir, (f) => read(f), (t) => expired(t, 0));
    },
    drop(key) {
      fs.rmSync(fileOf(key), { force: true });
    },
    refOf: (token) => refs.get(token),
    byRef(ref, marginMs = DEFAULT_MARGIN_MS) {
      if (!/^[0-9a-f]{64}$/.test(ref)) return undefined;
      const t = read(path.join(dir, ref));
      return t && !expired(t, marginMs) ? t.token : undefined;
    },
  };
}

/** Removes the tokens that expired (and leftovers that are no token): the cache never grows past the live ones. */
function sweep(dir: string, read: (file: string) => CachedToken | undefined, expired: (t: CachedToken) => boolean): void {
  for (const name of fs.readdirSync(dir)) {
    if (!/^[0-9a-f]{64}$/.test(name)) continue;
    const file = path.join(dir, name);
    const t = read(file);
    if (!t || expired(t)) fs.rmSync(file, { force: true });
  }
}

/** The default cache, or none when switched off. */
export function defaultTokenCache(): TokenCache | undefined {
  const dir = tokenCacheDir();
  return dir ? fileTokenCache(dir) : undefined;
}
