// The engine: for one host, connect once, gather facts once, read every resource (in parallel), diff,
// and in apply mode change what differs in order, run the handlers it asked for (and any a dead run
// left pending), then check the service answers. It knows nothing of Glance: the playbook is handed in.
import { connect, type Transport, type ConnectOptions } from '../transport/ssh.ts';
import { TransportError } from '../transport/errors.ts';
import { gatherFacts, type Facts } from './facts.ts';
import { profiles, profileFor, type Profile, type ProfileId } from '../profiles/profiles.ts';
import type { Resource, Diff, Handler } from './resource.ts';
import type { HostContext } from './context.ts';
import type { Settings } from './settings.ts';
import { loadOrCreateSecrets } from './secrets-store.ts';
import { openAdminSession, MysqlError, type MysqlSession } from '../clients/mysql.ts';
import { keystoneLogin, checkKeystonePassword, adminCredentialsFromOpenrc, adminCredentialsFromEnv, KeystoneError } from '../clients/keystone.ts';
import type { KeystoneClient, AdminCredentials } from '../clients/keystone-api.ts';
import { EngineError } from './errors.ts';
import { journalAdd, journalRemove, isHandler } from './journal.ts';
import { controlService } from './service-control.ts';
import { verifyGlance, type VerifyResult } from './verify.ts';
import type { Secret } from '../secret.ts';

export type Mode = 'plan' | 'apply' | 'verify';

export interface Target extends ConnectOptions {
  /** The name reports and the secrets file use (the inventory name, or the host). */
  name: string;
}

export interface RunOptions {
  mode: Mode;
  release?: ProfileId;
  settings: Settings;
  playbook: (profile: Profile) => Resource[];
  progress: (host: string, line: string) => void;
  /** OS_* from the operator's environment, used instead of the controller's admin-openrc.sh when set. */
  env?: Record<string, string | undefined>;
}

export type Status = 'ok' | 'changed' | 'failed' | 'skipped' | 'pending';

export interface ResourceResult {
  kind: string;
  id: string;
  action: Diff['action'];
  status: Status;
  why: string;
  changes: Diff['changes'];
  detail?: string[];
  error?: string;
  /** Time spent changing it (0 when nothing changed). */
  ms: number;
}

export interface HostReport {
  host: string;
  address: string;
  release?: string;
  os?: string;
  mode: Mode;
  ok: number;
  changed: number;
  failed: number;
  durationMs: number;
  resources: ResourceResult[];
  handlers: { name: Handler; status: Status; reason: string; ms?: number }[];
  verify?: VerifyResult;
  /** One line each for what the release does not have (a config file, a service). */
  notes: string[];
  error?: { step: string; message: string; hint: string };
  stats: { sshRoundTrips: number; remoteCommands: number; keystoneRequests: number };
}

function adminCredentials(facts: Facts, env: Record<string, string | undefined>): AdminCredentials {
  if (env.OS_AUTH_URL && env.OS_PASSWORD) return adminCredentialsFromEnv(env);
  if (!facts.adminOpenrc) {
    throw new EngineError('admin credentials', 'no ~/openstack/admin-openrc.sh on the controller and no OS_AUTH_URL/OS_PASSWORD in the environment',
      'create ~/openstack/admin-openrc.sh on the controller (the install guide\'s identity part does), or export the OS_* variables here');
  }
  return adminCredentialsFromOpenrc(facts.adminOpenrc);
}

interface Opened { ctx: HostContext; close(): Promise<{ keystoneRequests: number }> }

function makeContext(name: string, t: Transport, facts: Facts, profile: Profile, opts: RunOptions, early: { mysql?: Promise<MysqlSession> } = {}): Opened {
  const { secrets } = loadOrCreateSecrets(name);
  let mysql: Promise<MysqlSession> | undefined = early.mysql;
  let keystone: Promise<KeystoneClient> | undefined;
  let admin: Promise<KeystoneClient> | undefined;
  let serviceLogin: Promise<KeystoneClient | undefined> | undefined;
  let creds: AdminCredentials | undefined;
  const credentials = () => {
    if (!creds) {
      creds = adminCredentials(ctx.facts, opts.env ?? process.env);
      ctx.allSecrets.push(creds.password as Secret);
    }
    return creds;
  };
  const ctx: HostContext = {
    host: name,
    t,
    facts,
    profile,
    settings: opts.settings,
    secrets,
    allSecrets: [secrets.glanceDbPass, secrets.glancePass],
    mysql: () => (mysql ??= openAdminSession(t)),
    keystone: () => (keystone ??= (async () => (await loginAsService()) ?? ctx.keystoneAdmin())()),
    keystoneAdmin: () => (admin ??= (async () => {
      if (profile.keystoneApi !== 'v3') {
        throw new EngineError('keystone', `the ${profile.id} profile speaks Keystone ${profile.keystoneApi}, which this version does not implement yet`, 'use a controller running a Debian release (bullseye, bookworm, trixie)');
      }
      return keystoneLogin(t, credentials());
    })()),
    async keystonePasswordWorks(user, domainId, password) {
      if (user === opts.settings.keystoneUser && domainId === opts.settings.domainId && password.equals(secrets.glancePass)) {
        if (await loginAsService()) return true;
      }
      return checkKeystonePassword(t, credentials().authUrl, user, domainId, password);
    },
    progress: (line) => opts.progress(name, line),
    async refreshFacts() {
      ctx.facts = await gatherFacts(t, profile);
    },
  };
  /** The service user's token, scoped to its project; undefined when Keystone refuses it (then the admin reads). */
  function loginAsService(): Promise<KeystoneClient | undefined> {
    return (serviceLogin ??= (async () => {
      if (profile.keystoneApi !== 'v3') return undefined;
      const admin = credentials();
      const service: AdminCredentials = {
        authUrl: admin.authUrl,
        username: opts.settings.keystoneUser,
        password: secrets.glancePass,
        projectName: opts.settings.serviceProject,
        userDomainName: 'Default',
        projectDomainName: 'Default',
      };
      try {
        return await keystoneLogin(t, service);
      } catch (e) {
        if (e instanceof KeystoneError && e.request.status === 401) return undefined;
        throw e;
      }
    })());
  }

  return {
    ctx,
    async close() {
      await (await mysql?.catch(() => undefined))?.close().catch(() => {});
      const reader = await keystone?.catch(() => undefined);
      const writer = await admin?.catch(() => undefined);
      return { keystoneRequests: (reader?.requests ?? 0) + (writer && writer !== reader ? writer.requests : 0) };
    },
  };
}

function asEngineError(step: string, e: unknown): EngineError {
  if (e instanceof EngineError) return e;
  if (e instanceof TransportError) return new EngineError(e.step, e.message, e.hint, e);
  if (e instanceof MysqlError || e instanceof KeystoneError) return new EngineError(step, e.message, (e as { hint?: string }).hint ?? 'see the message', e);
  const hint = (e as { hint?: string }).hint;
  return new EngineError(step, e instanceof Error ? e.message : String(e), hint ?? 'see the message; run again with the same command once it is fixed', e);
}

export async function runHost(target: Target, opts: RunOptions): Promise<HostReport> {
  const t0 = Date.now();
  const report: HostReport = {
    host: target.name, address: target.host, mode: opts.mode, ok: 0, changed: 0, failed: 0, durationMs: 0,
    resources: [], handlers: [], notes: [], stats: { sshRoundTrips: 0, remoteCommands: 0, keystoneRequests: 0 },
  };
  let t: Transport | undefined;
  let opened: Opened | undefined;
  let step = 'connect';
  try {
    t = await connect(target);
    step = 'gather facts';
    // The MySQL session needs nothing from the facts: open it while they are gathered.
    const earlyMysql = opts.mode === 'verify' ? undefined : openAdminSession(t);
    earlyMysql?.catch(() => {});
    const facts = await gatherFacts(t);
    const profile = opts.release ? profiles[opts.release] : profileFor(facts.codename);
    report.os = facts.osName;
    if (!profile) {
      throw new EngineError('release', `no release profile for ${facts.osName} (codename "${facts.codename}")`, `pass --release with one of: ${Object.keys(profiles).join(', ')}`);
    }
    report.release = profile.id;
    report.notes.push(...profile.absentConfigs.map((c) => `not on this release: ${c}`));
    if (opts.release && !profile.codenames.includes(facts.codename)) {
      opts.progress(target.name, `note: --release ${opts.release} on a ${facts.osName} host`);
    }
    opened = makeContext(target.name, t, facts, profile, opts, { mysql: earlyMysql });
    const ctx = opened.ctx;
    if (profile.id !== facts.codename) ctx.facts = await gatherFacts(t, profile);
    const resources = opts.playbook(profile);
    // On a converged host the closing check is a read: run it beside the plan's reads, keep it if nothing changes.
    const quickCheck = opts.mode === 'apply' ? verifyGlance(ctx, { full: false }) : undefined;
    quickCheck?.catch(() => {});
    if (opts.mode !== 'verify') await planAndApply(ctx, resources, report, opts.mode);
    if (!report.error && opts.mode !== 'plan') {
      step = 'verify';
      const full = opts.mode === 'verify' || report.changed > 0 || report.handlers.length > 0;
      report.verify = full ? await verifyGlance(ctx, { full: true }) : await quickCheck!;
    }
  } catch (e) {
    const err = asEngineError(step, e);
    report.error = { step: err.step, message: err.message, hint: err.hint };
  } finally {
    if (opened) report.stats.keystoneRequests = (await opened.close()).keystoneRequests;
    if (t) {
      report.stats.sshRoundTrips = t.stats.roundTrips;
      report.stats.remoteCommands = t.stats.commands;
      t.close();
    }
  }
  if (report.error) report.failed = Math.max(1, report.failed);
  report.durationMs = Date.now() - t0;
  return report;
}

async function readAll(ctx: HostContext, resources: Resource[]): Promise<{ state: unknown; diff: Diff }[]> {
  return Promise.all(resources.map(async (r) => {
    try {
      const state = await r.read(ctx);
      return { state, diff: r.diff(state, ctx) };
    } catch (e) {
      throw asEngineError(`${r.kind} ${r.id}`, e);
    }
  }));
}

async function planAndApply(ctx: HostContext, resources: Resource[], report: HostReport, mode: Mode): Promise<void> {
  const planned = await readAll(ctx, resources);
  const pending = ctx.facts.pending.filter(isHandler);
  const notified = new Set<Handler>(pending);
  const reasons = new Map<Handler, string>(pending.map((h) => [h, 'left pending by an earlier run']));
  if (mode === 'plan') {
    resources.forEach((r, i) => {
      const { diff } = planned[i]!;
      const changing = diff.action !== 'none';
      report.resources.push({ kind: r.kind, id: r.id, action: diff.action, status: changing ? 'pending' : 'ok', why: diff.why, changes: diff.changes, detail: diff.detail, ms: 0 });
      if (changing) for (const h of r.notifies ?? []) if (!reasons.has(h)) reasons.set(h, `${r.kind} ${r.id} changes`);
      if (changing) report.changed++;
      else report.ok++;
    });
    for (const [name, reason] of reasons) report.handlers.push({ name, status: 'pending', reason });
    return;
  }
  // The plan first, as one line per change, before anything is touched.
  const toChange = resources.map((r, i) => [r, planned[i]!.diff] as const).filter(([, d]) => d.action !== 'none');
  if (toChange.length || pending.length) {
    ctx.progress(`plan: ${toChange.length} to change${pending.length ? `, pending from an earlier run: ${pending.join(', ')}` : ''}`);
    for (const [r, d] of toChange) ctx.progress(`plan:   ${d.action.padEnd(6)} ${r.kind} ${r.id} (${d.why})`);
  }
  let dirty = false;
  const results: ResourceResult[] = resources.map((r, i) => {
    const { diff } = planned[i]!;
    return { kind: r.kind, id: r.id, action: diff.action, status: 'skipped', why: 'not reached', changes: diff.changes, detail: diff.detail, ms: 0 };
  });
  report.resources.push(...results);

  async function applyOne(i: number): Promise<void> {
    const r = resources[i]!;
    let { state, diff } = planned[i]!;
    const result = results[i]!;
    Object.assign(result, { status: 'ok', why: diff.why });
    const started = Date.now();
    try {
      if (diff.action !== 'none' && dirty) {
        // Something earlier changed the host (a package made this file, a user now exists): read again.
        state = await r.read(ctx);
        diff = r.diff(state, ctx);
        Object.assign(result, { action: diff.action, why: diff.why, changes: diff.changes, detail: diff.detail });
      }
      if (diff.action === 'none') {
        report.ok++;
        return;
      }
      const restart = r.kind === 'service' ? (`restart-${r.id}` as Handler) : undefined;
      if (restart && notified.has(restart)) {
        result.why = `${r.id} is started by the restart below`;
        result.status = 'changed';
        report.changed++;
        return;
      }
      const fresh = (r.notifies ?? []).filter((h) => !notified.has(h));
      fresh.forEach((h) => { notified.add(h); reasons.set(h, `${r.kind} ${r.id} changed`); });
      if (fresh.length) await journalAdd(ctx.t, fresh);
      await r.apply(ctx, state, diff);
      result.ms = Date.now() - started;
      result.status = 'changed';
      report.changed++;
      dirty = true;
    } catch (e) {
      // The failing resource is the step an operator needs, whatever layer the error came from.
      const cause = asEngineError('', e);
      const err = new EngineError(`${r.kind} ${r.id}`, cause.message, cause.hint, e);
      result.status = 'failed';
      result.error = err.message;
      report.failed++;
      throw err;
    }
  }

  // Consecutive resources with a lane run lane beside lane (the database, Keystone and the packages do not
  // wait for each other); inside a lane, and for resources without one, strictly in order.
  try {
    for (let i = 0; i < resources.length;) {
      if (!resources[i]!.lane) {
        await applyOne(i++);
        continue;
      }
      const lanes = new Map<string, number[]>();
      for (; i < resources.length && resources[i]!.lane; i++) lanes.set(resources[i]!.lane!, [...(lanes.get(resources[i]!.lane!) ?? []), i]);
      const done = await Promise.allSettled([...lanes.values()].map(async (idx) => { for (const j of idx) await applyOne(j); }));
      const failed = done.find((d): d is PromiseRejectedResult => d.status === 'rejected');
      if (failed) throw failed.reason;
    }
  } catch (e) {
    for (const h of notified) report.handlers.push({ name: h, status: 'pending', reason: `${reasons.get(h)}; stays in the journal for the next run` });
    throw e;
  }
  for (const h of notified) {
    const service = h.replace(/^restart-/, '');
    const started = Date.now();
    try {
      await controlService(ctx, service, 'restart');
      await journalRemove(ctx.t, h);
      report.handlers.push({ name: h, status: 'changed', reason: reasons.get(h) ?? '', ms: Date.now() - started });
    } catch (e) {
      report.handlers.push({ name: h, status: 'failed', reason: `${reasons.get(h)}; stays in the journal for the next run` });
      throw asEngineError(`handler ${h}`, e);
    }
  }
}

/** Runs hosts side by side, at most `forks` at a time, in the order given. */
export async function runHosts(targets: Target[], opts: RunOptions, forks: number): Promise<HostReport[]> {
  const out: HostReport[] = new Array(targets.length);
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const i = next++;
      out[i] = await runHost(targets[i]!, opts);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(forks, targets.length)) }, worker));
  return out;
}
