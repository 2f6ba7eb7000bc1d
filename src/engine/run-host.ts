// One host's run: connect once, gather facts once (sessions opening meanwhile), pick the release
// profile, then plan, or apply with handlers and proof, then the playbook's closing check. Knows no
// playbook: it is handed one.
import { connect, type ConnectOptions, type Transport } from '../transport/ssh.ts';
import { EngineError, asEngineError } from './errors.ts';
import { HostSession } from './host.ts';
import { Journal } from './journal.ts';
import type { Playbook, PlaybookContext, ProfileBase, SecretsSource } from './playbook.ts';
import type { HostReport, Mode } from './report-model.ts';
import { apply, plan } from './apply.ts';
import { commandsFile, holderLabel, takeRunLock, type RunLockOptions } from './run-lock.ts';
import { guardedTransport } from './command-guard.ts';
import type { FactsRunner } from './facts.ts';
import { resolveSecrets } from './secrets.ts';
import { tell, type RunEvents } from './events.ts';
import { scriptSummary, tracedTransport } from './traced-transport.ts';
import { Preflight, PreflightError } from './preflight.ts';
import type { TraceEvent } from '../trace.ts';

export interface Target extends ConnectOptions {
  /** The name reports and the secrets file use (the inventory name, or the host). */
  name: string;
}

export interface RunOptions<S, P extends ProfileBase> {
  mode: Mode;
  playbook: Playbook<S, P>;
  settings: S;
  /** A profile id of the playbook's; default: the one for the host's OS. */
  release?: string;
  secrets: SecretsSource;
  /** New values for the secrets the tool keeps itself (--rotate-secrets). */
  rotateSecrets?: boolean;
  /** Where the pending-handler journal lives on the target. */
  journalPath: string;
  progress: (host: string, line: string) => void;
  /** How to reach a target; the SSH transport unless a test hands in another. */
  connect?: (target: Target) => Promise<Transport>;
  /** Told as the run goes: each resource as it finishes, each host as it ends, and (with `trace`) every remote call. */
  events?: RunEvents;
  /** One run at a time per target: taken after connecting, with the facts (read once it is held), held to the end. */
  runLock?: RunLockOptions;
  /** When a handler fails after changes that notified it, put those changes back (default true). */
  rollback?: boolean;
}

function pickProfile<S, P extends ProfileBase>(host: HostSession, opts: RunOptions<S, P>, report: HostReport): P {
  const pb = opts.playbook;
  const ids = Object.keys(pb.profiles).join(', ');
  if (opts.release) {
    const p = pb.profiles[opts.release];
    if (!p) throw new EngineError('release', `the ${pb.id} playbook has no profile "${opts.release}"`, `pass --release with one of: ${ids}`);
    if (pb.profileFor(host.os)?.id !== p.id) report.notes.push(`--release ${opts.release} on a ${host.os.osName} host`);
    return p;
  }
  const p = pb.profileFor(host.os);
  if (!p) throw new EngineError('release', `no release profile for ${host.os.osName} (codename "${host.os.codename}")`, `pass --release with one of: ${ids}`);
  return p;
}

export async function runHost<S, P extends ProfileBase>(target: Target, opts: RunOptions<S, P>): Promise<HostReport> {
  const t0 = Date.now();
  const pb = opts.playbook;
  const report: HostReport = {
    host: target.name, address: target.host, playbook: pb.id, mode: opts.mode, ok: 0, changed: 0, failed: 0, durationMs: 0,
    resources: [], handlers: [], notes: [], stats: { sshRoundTrips: 0, remoteCommands: 0 },
  };
  let t: Transport | undefined;
  let host: HostSession | undefined;
  let unlock: (() => void) | undefined;
  let step = 'connect';
  try {
    const trace = opts.events?.trace;
    const sink = (e: TraceEvent) => tell(trace, target.name, e);
    const t0connect = performance.now();
    const connected = (outcome: string) => sink({ kind: 'connect', what: `${target.user ?? 'root'}@${target.host}:${target.port ?? 22}`, outcome, ms: Math.round(performance.now() - t0connect) });
    t = await (opts.connect ?? connect)(target).catch((e: unknown) => {
      connected(`failed: ${e instanceof Error ? e.message : String(e)}`);
      throw e;
    });
    connected('connected');
    // Below the trace, so -v shows each command as its resource gave it.
    const guarded = guardedTransport(t);
    t = guarded;
    if (trace) t = tracedTransport(t, sink);
    host = new HostSession(target.name, t, (line) => opts.progress(target.name, line), report.notes);
    // Opened beside the facts, once the host is readable (the run lock held): not before, where loading a
    // session's driver (mysql2: ~0.1 s of CPU) would hold up the lock's own channel.
    if (opts.mode !== 'verify') {
      const warm = pb.warm?.(opts.settings) ?? [];
      const h = host;
      void h.readable().then(() => warm.forEach((p) => void h.use(p)));
    }
    const journal = new Journal(t, opts.journalPath);
    const facts = [...(typeof pb.facts === 'function' ? pb.facts(opts.settings) : pb.facts), journal.fact()];
    if (opts.runLock) {
      // The facts ride on the lock's channel, read once it is held: no round trip for the lock, and no
      // fact read while another run is changing the host.
      step = 'run lock';
      const lock = opts.runLock;
      const run: FactsRunner = async (script, limit) => {
        const t0facts = performance.now();
        const held = await takeRunLock(t!, lock, holderLabel(lock.tool, opts.mode), host!.progress, { script, ...limit }, () => {
          // From here on, what this run starts is waited for by the next run, should this one die first.
          guarded.guard(commandsFile(lock.path));
          host!.markReadable();
        });
        // -v: the facts as any script is shown, though they ran on the lock's channel (their time includes any wait for it).
        sink({ kind: 'script', what: `${scriptSummary(script)} (by the run lock's holder)`, outcome: `exit ${held.thenStatus ?? 0}`, ms: Math.round(performance.now() - t0facts) });
        unlock = held.release;
        // Kept in the report: a run that sat waiting says for whom and how long.
        if (held.waitedFor !== undefined) host!.note(`waited ${(held.waitedMs / 1000).toFixed(1)} s for the run lock ${lock.path}: another run held it (${held.waitedFor || 'holder unknown'})`);
        if (held.leftWaitedMs !== undefined) host!.note(`waited ${(held.leftWaitedMs / 1000).toFixed(1)} s for what an earlier run started and left running: ${held.leftover}`);
        step = 'gather facts';
        return { code: held.thenStatus ?? 0, stdout: held.thenOutput ?? '' };
      };
      await host.gather(facts, run);
    } else {
      host.markReadable();
      step = 'gather facts';
      await host.gather(facts);
    }
    report.os = host.os.osName;
    step = 'release';
    const profile = pickProfile(host, opts, report);
    report.release = profile.id;
    report.notes.push(...(profile.notes ?? []));
    step = 'secrets';
    const base = { host, profile, settings: opts.settings };
    const resolved = await resolveSecrets({
      host: target.name, specs: pb.secrets, source: opts.secrets, mode: opts.mode, rotate: !!opts.rotateSecrets,
      adopt: pb.adoptSecrets && ((missing) => pb.adoptSecrets!(base, missing)),
    });
    report.secrets = resolved.origins;
    report.notes.push(...resolved.notes);
    const ctx: PlaybookContext<S, P> = { ...base, secrets: resolved.values };
    // Beside the reads, from what they gather anyway; it explains a failure that has the same cause.
    const preflight = new Preflight(opts.mode !== 'verify' && pb.preflight ? () => pb.preflight!(ctx) : undefined);
    const checked = async <T>(work: Promise<T>): Promise<T> => {
      try {
        return await work;
      } catch (e) {
        if (!(e instanceof PreflightError)) await preflight.check(e);
        throw e;
      }
    };
    step = 'playbook';
    const resources = await checked(Promise.resolve(pb.resources(ctx)));
    const work = { host, resources, handlers: pb.handlers(ctx), journal, pending: await host.fact(journal.fact()), report, events: opts.events, rollback: opts.rollback ?? true, gate: () => preflight.check(), changing: () => host!.changing() };
    if (opts.mode === 'plan') {
      await checked(plan(work));
      await preflight.check();
    } else if (opts.mode === 'apply') {
      // On a converged host the closing check is a read: run it beside the plan's reads, keep it if nothing changes.
      const quick = pb.check?.quick(ctx);
      quick?.catch(() => {});
      await apply(work).catch(async (e: unknown) => {
        // A read that failed (before any change): the preflight's problems say why better.
        if (!(e instanceof PreflightError) && !report.resources.length) await preflight.check(e);
        throw e;
      });
      step = 'verify';
      if (pb.check) report.verify = report.changed > 0 || report.handlers.length > 0 ? await pb.check.full(ctx) : await quick!;
      if (pb.forgetsSecrets) await opts.secrets.forget(target.name);
    } else {
      step = 'verify';
      if (!pb.check) throw new EngineError('verify', `the ${pb.id} playbook has no check to run`, 'use plan or apply');
      report.verify = await pb.check.full(ctx);
    }
  } catch (e) {
    // A connection that died is the cause, whatever layer noticed it first (a tunnel reset, a command cut
    // off, an API's timeout that came before the keepalives'): asked before the error is believed.
    if (t && !t.lost) await t.probe?.(5_000);
    const inner = asEngineError(step, e);
    // (Where it was noticed: the resource or handler the engine names, else the engine's own step.)
    const err = t?.lost ? { step: e instanceof EngineError ? e.step : step, message: t.lost.message, hint: t.lost.hint } : inner;
    report.error = { step: err.step, message: err.message, hint: err.hint };
    if (e instanceof PreflightError) report.preflight = e.problems.map((p) => ({ check: p.check, message: p.message, hint: p.hint }));
    // Ansible's word for a host the run never got onto.
    if (!t) report.unreachable = true;
  } finally {
    if (host) Object.assign(report.stats, await host.providers.closeAll());
    unlock?.();
    if (t) {
      report.stats.sshRoundTrips = t.stats.roundTrips;
      report.stats.remoteCommands = t.stats.commands;
      t.close();
    }
  }
  if (report.error) report.failed = Math.max(1, report.failed);
  report.durationMs = Date.now() - t0;
  tell(opts.events?.done, report);
  return report;
}
