// The controller is the source of truth for passwords it already uses. With no value on the operator's
// side, glance-api.conf is read (with the facts: `[database] connection`'s password, percent-decoded,
// and `[keystone_authtoken] password`), each value is proven where it is checked (a MariaDB login as
// glance, a Keystone token for glance) and adopted. A file still in the Juno guide's shape gives its
// `admin_password` instead. A value nothing checks yet (no such account) is
// adopted too: the account is then made with it and the file stays as it is. A value that is refused
// is reported and not replaced: the engine stops the run unless --rotate-secrets.
import type { Adoption, AdoptContext, SecretSpec } from '../../src/engine/playbook.ts';
import { fileFact } from '../../src/resources/ini-file.ts';
import { getIniValue } from '../../src/resources/ini/lines.ts';
import { osloUnescape } from '../../src/resources/ini/oslo-value.ts';
import { canLogin } from '../../src/clients/mysql.ts';
import { Secret } from '../../src/secret.ts';
import type { GlanceProfile } from './profiles.ts';
import type { GlanceSettings } from './settings.ts';
import { sessions } from './sessions.ts';
import { GLANCE_DB_PASSWORD_ENCODING } from './secret-rules.ts';

type Ctx = AdoptContext<GlanceSettings, GlanceProfile>;

/**
 * The user and password of an SQLAlchemy URL (`mysql+pymysql://glance:p%40ss@controller/glance`), both
 * percent-decoded as SQLAlchemy does; undefined without a password. The password runs to the last `@`
 * before the host (SQLAlchemy 1.3's reading; 1.4+ wants an `@` in it encoded, and then both agree).
 */
export function urlCredentials(url: string): { user: string; password: string } | undefined {
  const m = /^[\w+]+:\/\/([^:/@]*):(.*)@[^@/?]*(?:[/?].*)?$/s.exec(url.trim());
  if (!m || m[2] === '') return undefined;
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s; // a stray % stays as written, as unquote leaves it
    }
  };
  return { user: decode(m[1]!), password: decode(m[2]!) };
}

export interface ConfiguredSecret {
  value: string;
  /** Where it was read, for the report: "/etc/glance/glance-api.conf [database] connection". */
  where: string;
}

/** The glance passwords glance-api.conf holds, for the accounts the playbook manages (another user's password is not ours). */
export function configuredSecrets(text: string, path: string, settings: Pick<GlanceSettings, 'dbUser' | 'keystoneUser'>): Record<string, ConfiguredSecret> {
  const out: Record<string, ConfiguredSecret> = {};
  // As oslo.config hands them to Glance: `$$` (and `\$`) are a `$`; a value naming another option is not adopted.
  const value = (section: string, key: string) => {
    const written = getIniValue(text, section, key);
    return written === undefined ? undefined : osloUnescape(written);
  };
  const db = urlCredentials(value('database', 'connection') ?? '');
  if (db && db.user === settings.dbUser) out.GLANCE_DBPASS = { value: db.password, where: `${path} [database] connection` };
  // Today's keys, else the Juno guide's (admin_user/admin_password, left by a controller moved by hand).
  for (const [userKey, passKey] of [['username', 'password'], ['admin_user', 'admin_password']] as const) {
    const ksUser = value('keystone_authtoken', userKey);
    const ksPass = value('keystone_authtoken', passKey);
    if (ksPass && (ksUser === undefined || ksUser === settings.keystoneUser)) {
      out.GLANCE_PASS = { value: ksPass, where: `${path} [keystone_authtoken] ${passKey}` };
      break;
    }
  }
  return out;
}

type Verdict = { ok: true; why: string } | { ok: false; why: string };

async function proveDbPassword(ctx: Ctx, password: Secret): Promise<Verdict> {
  const { settings: st, host } = ctx;
  const admin = await host.use(sessions(st).dbAdmin);
  const hosts = (await admin.query<{ Host: string }>('SELECT Host FROM mysql.user WHERE User = ?', [st.dbUser])).map((r) => r.Host);
  if (!hosts.length) return { ok: true, why: `no ${st.dbUser} account in MariaDB yet: it is made with this password` };
  // The socket for user@localhost (any user may connect to it); else TCP to the controller, which any other account answers.
  const via = hosts.includes('localhost') ? ({ socket: true } as const) : { host: host.t.host, port: 3306 };
  const account = `${st.dbUser}@${'socket' in via ? 'localhost' : hosts.join('/')}`;
  return (await canLogin(host.t, st.dbUser, password, via, GLANCE_DB_PASSWORD_ENCODING))
    ? { ok: true, why: `MariaDB accepts it for ${account}` }
    : { ok: false, why: `MariaDB refuses it for ${account}` };
}

async function proveKeystonePassword(ctx: Ctx, password: Secret): Promise<Verdict> {
  const { settings: st, host } = ctx;
  const ks = await host.use(sessions(st).keystone);
  if (await ks.passwordWorks(st.keystoneUser, st.domainId, password)) return { ok: true, why: `Keystone gives ${st.keystoneUser} a token with it` };
  const users = await (await ks.admin()).findUser(st.keystoneUser, st.domainId);
  if (!users.length) return { ok: true, why: `no ${st.keystoneUser} user in Keystone yet: it is made with this password` };
  return { ok: false, why: `Keystone gives ${st.keystoneUser} no token with it (a wrong password, or the user is disabled)` };
}

const provers: Record<string, (ctx: Ctx, password: Secret) => Promise<Verdict>> = {
  GLANCE_DBPASS: proveDbPassword,
  GLANCE_PASS: proveKeystonePassword,
};

export async function adoptGlanceSecrets(ctx: Ctx, missing: readonly SecretSpec[]): Promise<Adoption> {
  const adopted: Record<string, { value: Secret; from: string }> = {};
  const refused: Record<string, string> = {};
  // A release this version cannot run (Keystone v2.0) is refused when the resources are built.
  const conf = ctx.profile.keystoneApi === 'v3' ? ctx.profile.configs.find((c) => c.restarts === 'glance-api') : undefined;
  if (!conf) return { adopted, refused };
  const file = await ctx.host.fact(fileFact(conf.path));
  if (!file?.content) return { adopted, refused };
  const found = configuredSecrets(file.content, conf.path, ctx.settings);
  await Promise.all(missing.map(async (s) => {
    const c = found[s.name];
    const prove = provers[s.name];
    if (!c || !prove) return;
    const value = new Secret(c.value);
    const v = await prove(ctx, value);
    if (v.ok) adopted[s.name] = { value, from: `adopted from the controller (${c.where}; ${v.why})` };
    else refused[s.name] = `${c.where}: ${v.why}`;
  }));
  return { adopted, refused };
}
