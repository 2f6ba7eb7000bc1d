// Before any change, what would make the install fail half-way, each with the fix: free disk for the
// packages and the image store, the controller's clock against Keystone's, the names in the URLs
// resolving on the controller itself, Glance's ports free or held by Glance, the package mirror answering
// when packages are to be downloaded, MariaDB and Keystone answering (MariaDB where Glance will connect).
// Everything comes from the facts' one round trip and the sessions the resources open anyway: no request
// of its own.
import type { PlaybookContext, PreflightProblem } from '../../src/engine/playbook.ts';
import { serverClock } from '../../src/clients/server-clock.ts';
import { pidFact } from '../../src/resources/service.ts';
import type { GlanceProfile } from './profiles.ts';
import type { GlanceSettings } from './settings.ts';
import { sessions } from './sessions.ts';
import { glanceMysqlSnapshot } from './facts.ts';
import { snapshotOf } from '../../src/resources/mysql-snapshot.ts';
import {
  APT_ARCHIVES, INSTALL_ROOT, MYSQL_PORT, STORE_DIR, aptPlanFact, clockFact, diskFact, listenersFact, namesFact, type AptPlan, type Listener,
} from './preflight-facts.ts';
import { dpkgFact } from '../../src/resources/apt-packages.ts';

type Ctx = PlaybookContext<GlanceSettings, GlanceProfile>;

/** The image store wants at least this much room (an image or two; Glance itself needs none). */
export const MIN_STORE_FREE_MIB = 1024;
/** apt wants some room beyond its own figures (its lists, dpkg's database, byte-compiled files). */
const APT_MARGIN_MIB = 64;
/** Beyond this, tokens glance-api checks may look expired (or not yet valid) to one side. */
export const MAX_CLOCK_SKEW_S = 300;

const MiB = 1024 * 1024;
const mib = (bytes: number) => `${Math.round(bytes / MiB)} MiB`;
const isIp = (host: string) => /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':');
const hostOf = (url: string) => {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
};

/** The names the controller must resolve: the controller's (the database host in glance-api.conf) and the endpoints' hosts. */
export function namesToResolve(settings: Pick<GlanceSettings, 'controller' | 'endpoints'>): string[] {
  const hosts = [settings.controller, ...Object.values(settings.endpoints).map(hostOf)];
  return [...new Set(hosts.filter((h): h is string => !!h && !isIp(h)))];
}

/** The preflight's facts for these settings (the names to resolve depend on them). */
export const preflightFacts = (settings: Pick<GlanceSettings, 'controller' | 'endpoints'>) => [clockFact, diskFact, listenersFact, namesFact(namesToResolve(settings))];

/** apt's plan for the profile's packages that are not installed yet (asked once, shared by the checks); undefined when all are. */
async function aptPlan(ctx: Ctx): Promise<AptPlan | undefined> {
  const dpkg = await ctx.host.fact(dpkgFact);
  const missing = ctx.profile.packages.filter((p) => dpkg[p]?.status !== 'ii');
  return missing.length ? ctx.host.fact(aptPlanFact(missing)) : undefined;
}

export async function glancePreflight(ctx: Ctx): Promise<PreflightProblem[]> {
  const checks = [disk, clock, names, ports, mirror, mariadb, keystone];
  return (await Promise.all(checks.map((c) => c(ctx)))).flat();
}

/** Free room per file system: the image store's minimum, and apt's download and install sizes before an install. */
async function disk(ctx: Ctx): Promise<PreflightProblem[]> {
  const space = await ctx.host.fact(diskFact);
  const apt = await aptPlan(ctx);
  const needs = new Map<string, { bytes: number; what: string[]; paths: string[] }>();
  const need = (path: string, bytes: number, what: string) => {
    const fs = space[path];
    if (!fs || !bytes) return;
    const n = needs.get(fs.mount) ?? { bytes: 0, what: [], paths: [] };
    n.bytes += bytes;
    n.what.push(what);
    n.paths.push(path);
    needs.set(fs.mount, n);
  };
  need(STORE_DIR, MIN_STORE_FREE_MIB * MiB, `${MIN_STORE_FREE_MIB} MiB for the image store (${STORE_DIR})`);
  if (apt && !apt.error) {
    if (apt.downloadBytes) need(APT_ARCHIVES, apt.downloadBytes + APT_MARGIN_MIB * MiB, `${mib(apt.downloadBytes)} of packages to download (${APT_ARCHIVES})`);
    if (apt.installBytes) need(INSTALL_ROOT, apt.installBytes + APT_MARGIN_MIB * MiB, `${mib(apt.installBytes)} for the installed packages`);
  }
  const out: PreflightProblem[] = [];
  for (const [mount, n] of needs) {
    const free = Object.values(space).find((s) => s.mount === mount)!.availKiB * 1024;
    if (free >= n.bytes) continue;
    out.push({
      check: 'disk',
      message: `${mount} on the controller has ${mib(free)} free; it needs ${mib(n.bytes)}: ${n.what.join(', ')}`,
      hint: `free space on ${mount}${n.paths.includes(APT_ARCHIVES) ? ` (apt-get clean empties ${APT_ARCHIVES})` : ''}${n.paths.includes(STORE_DIR) ? `, or mount a larger disk at ${STORE_DIR}` : ''}, then run again`,
    });
  }
  return out;
}

const utc = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

function duration(s: number): string {
  // Whole minutes past a few: the two clocks are read a round trip apart, to the second.
  const a = Math.abs(s) > 120 ? Math.round(Math.abs(s) / 60) * 60 : Math.round(Math.abs(s));
  const h = Math.floor(a / 3600);
  const m = Math.floor((a % 3600) / 60);
  return [h ? `${h} h` : '', m ? `${m} min` : '', !h && a % 60 ? `${a % 60} s` : ''].filter(Boolean).join(' ') || '0 s';
}

/** The controller's clock (from the facts) against Keystone's (the Date of its answer to the run's own login). */
async function clock(ctx: Ctx): Promise<PreflightProblem[]> {
  const controllerS = await ctx.host.fact(clockFact);
  const gatheredAt = ctx.host.factsAt;
  if (controllerS === undefined || gatheredAt === undefined) return [];
  const ks = await keystoneSession(ctx);
  if (!ks) return [];
  const seen = serverClock(ctx.host.t, ks.authUrl);
  if (!seen) return [];
  // The controller's clock when Keystone answered, as this machine's clock moved meanwhile.
  const controllerMs = controllerS * 1000 + (seen.localMs - gatheredAt);
  const skew = (controllerMs - seen.serverMs) / 1000;
  // The Date header has whole seconds, the facts' clock too: 2 s is noise.
  if (Math.abs(skew) <= MAX_CLOCK_SKEW_S) return [];
  return [{
    check: 'clock',
    message: `the controller's clock is ${duration(skew)} ${skew > 0 ? 'ahead of' : 'behind'} Keystone's (controller ${utc(controllerMs)}, Keystone at ${new URL(ks.authUrl).host} ${utc(seen.serverMs)}): glance-api checks a token's expiry by its own clock, so tokens would ${skew > 0 ? 'look expired before their time' : 'stay valid past their expiry'}`,
    hint: 'set the controller\'s clock right (timedatectl set-ntp true, or chronyc makestep; or date -s), and keep it synchronised (chrony or ntp), then run again',
  }];
}

/** The controller's own name and the endpoints' hosts must resolve on the controller (glance-api connects to them there). */
async function names(ctx: Ctx): Promise<PreflightProblem[]> {
  const wanted = namesToResolve(ctx.settings);
  const found = await ctx.host.fact(namesFact(wanted));
  const address = isIp(ctx.host.t.host) ? ctx.host.t.host : '<its address>';
  return wanted.filter((n) => !found[n]?.length).map((n) => ({
    check: 'name',
    message: `"${n}" does not resolve on the controller itself (getent ahosts ${n} finds nothing), and ${n === ctx.settings.controller ? `glance-api.conf's [database] connection and the endpoints (${ctx.settings.endpoints.public}) use it` : 'the endpoints use it'}`,
    hint: `add "${address} ${n}" to the controller's /etc/hosts, or the name to its DNS${n === ctx.settings.controller ? ', or pass --controller with a name it resolves' : ', or pass --endpoint-url with one it resolves'}, then run again`,
  }));
}

/** Glance's ports (9292, and 9191 where the release has a registry): free, or held by that very service. */
async function ports(ctx: Ctx): Promise<PreflightProblem[]> {
  const listeners = await ctx.host.fact(listenersFact);
  const out: PreflightProblem[] = [];
  for (const svc of ctx.profile.services) {
    const held = listeners.filter((l) => l.port === svc.port);
    if (!held.length) continue;
    const ours = (l: Listener) => !!l.cmd && new RegExp(`(^|[/ ])${svc.name}(\\b|$)|${svc.name}[-_.]`).test(l.cmd);
    const strangers = held.filter((l) => l.pid !== undefined && !ours(l));
    const unseen = held.filter((l) => l.pid === undefined);
    if (strangers.length) {
      const s = strangers[0]!;
      out.push({
        check: `port ${svc.port}`,
        message: `port ${svc.port} on the controller is held by pid ${s.pid} (${s.cmd ?? 'unknown command'}), not by ${svc.name}: ${svc.name} could not listen there`,
        hint: `stop that process or move it to another port (kill ${s.pid}, or its service's own stop), then run again`,
      });
    } else if (unseen.length && !held.some(ours) && (await ctx.host.fact(pidFact(svc.name, svc.pidfiles))) === undefined) {
      out.push({
        check: `port ${svc.port}`,
        message: `port ${svc.port} on the controller is held by a process ${ctx.host.t.user} cannot see, and ${svc.name} is not running: ${svc.name} could not listen there`,
        hint: `find it as root (ss -ltnp 'sport = :${svc.port}') and stop it, or run with --become to let install-glance name it, then run again`,
      });
    }
  }
  return out;
}

/** Packages to download need the mirror (or apt's proxy) answering from the controller. */
async function mirror(ctx: Ctx): Promise<PreflightProblem[]> {
  const apt = await aptPlan(ctx);
  if (!apt || apt.error || !apt.downloadBytes) return [];
  const failed = Object.entries(apt.probes).filter(([, r]) => r !== 'ok');
  if (!failed.length) return [];
  const via = apt.proxies.length ? 'apt\'s proxy' : 'the package mirror';
  return failed.map(([target, why]) => ({
    check: 'mirror',
    message: `${via} ${target} does not answer from the controller (${why || 'no connection'}), and ${mib(apt.downloadBytes!)} of packages are to be downloaded from it`,
    hint: `check the controller's network, DNS and ${apt.proxies.length ? 'Acquire::http::Proxy in /etc/apt/apt.conf.d' : '/etc/apt/sources.list (or sources.list.d)'}${ctx.profile.packageSource ? `; ${ctx.profile.packageSource}` : ''}; or put the packages in ${APT_ARCHIVES}; then run again`,
  }));
}

/** MariaDB answers the admin session, and listens where Glance connects: the controller's name, port 3306. */
async function mariadb(ctx: Ctx): Promise<PreflightProblem[]> {
  const s = sessions(ctx.settings, ctx.secrets.GLANCE_PASS, ctx.profile);
  try {
    // The facts' own read of MariaDB as its admin (root over the socket) answers as well as a session would.
    if (!await snapshotOf(ctx.host, glanceMysqlSnapshot(ctx.settings, ctx.profile))) await ctx.host.use(s.dbAdmin);
  } catch (e) {
    const x = e as { message?: string; hint?: string };
    return [{ check: 'mariadb', message: x.message ?? String(e), hint: x.hint ?? 'start MariaDB on the controller, then run again' }];
  }
  const listeners = (await ctx.host.fact(listenersFact)).filter((l) => l.port === MYSQL_PORT);
  const dbHost = ctx.settings.controller;
  const addresses = isIp(dbHost) ? [dbHost] : (await ctx.host.fact(namesFact(namesToResolve(ctx.settings))))[dbHost] ?? [];
  // A name that does not resolve is the names check's to say.
  if (!addresses.length) return [];
  const wildcard = (a: string) => a === '0.0.0.0' || a === '::';
  if (listeners.some((l) => wildcard(l.address) || addresses.includes(l.address))) return [];
  const where = listeners.length ? `listens only on ${listeners.map((l) => `${l.address}:${MYSQL_PORT}`).join(', ')}` : `does not listen on TCP port ${MYSQL_PORT} (skip-networking?)`;
  return [{
    check: 'mariadb',
    message: `MariaDB ${where}, but Glance connects to ${dbHost}:${MYSQL_PORT}, which is ${addresses.join(', ')} on the controller: db_sync and glance-api would be refused`,
    hint: `set bind-address = 0.0.0.0 (or ${addresses[0]}) in the [mysqld] section of the server's config (/etc/mysql/mariadb.conf.d/50-server.cnf on Debian) and restart MariaDB, then run again`,
  }];
}

/** The Keystone session the resources use, once its admin login is done; undefined when it failed. */
async function keystoneSession(ctx: Ctx) {
  const ks = await ctx.host.use(sessions(ctx.settings, ctx.secrets.GLANCE_PASS, ctx.profile).keystone).catch(() => undefined);
  if (!ks) return undefined;
  // Answered, not only logged in: a token kept from an earlier run is taken without a request (no Date yet).
  return (await ks.reader().then(() => ks.answered()).then(() => true, () => false)) ? ks : undefined;
}

/** Keystone answers (the run's own admin login): no answer at all is a preflight problem; a refused login is the credentials' error, said by the run. */
async function keystone(ctx: Ctx): Promise<PreflightProblem[]> {
  try {
    const ks = await ctx.host.use(sessions(ctx.settings, ctx.secrets.GLANCE_PASS, ctx.profile).keystone);
    await ks.reader();
    // With the admin's token kept from an earlier run, the login asked Keystone nothing: wait for its first answer.
    await ks.answered();
    return [];
  } catch (e) {
    const x = e as { message?: string; hint?: string; request?: { status?: number } };
    // It answered (401, 404, …), or the credentials could not be read: not a question of Keystone being up.
    if (typeof x.request?.status === 'number' || !/does not answer|gave no answer|cannot reach|timed out|tunnel/i.test(x.message ?? '')) return [];
    return [{ check: 'keystone', message: x.message ?? String(e), hint: x.hint ?? 'start Keystone on the controller, then run again' }];
  }
}
