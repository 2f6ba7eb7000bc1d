// Plan and apply for one host: read and diff everything, then (apply) change what differs in order,
// lane beside lane, each change's handlers written to the journal before the change; then the handlers;
// then the proof: everything that changed is read again and must now match.
import { EngineError, asEngineError } from './errors.ts';
import type { Host } from './host.ts';
import type { Journal } from './journal.ts';
import type { HandlerDef } from './playbook.ts';
import type { HostReport, ResourceResult } from './report-model.ts';
import type { Resource } from './resource.ts';
import { readAll, reread } from './plan.ts';
import { runInLanes } from './lanes.ts';
import { runHandlers } from './handlers.ts';
import { proveApplied } from './prove.ts';
import { inOrder, tell, type RunEvents } from './events.ts';

export interface HostWork {
  host: Host;
  resources: readonly Resource[];
  handlers: readonly HandlerDef[];
  journal: Journal;
  /** Handler names a run wrote down and did not finish. */
  pending: readonly string[];
  report: HostReport;
  /** When a handler fails after changes that notified it, put back those that can be (default: off here, on from runHost). */
  rollback?: boolean;
  /** Told of each resource as it finishes (and, in an apply, of the plan first). */
  events?: RunEvents;
  /** Awaited by an apply once everything is read, before its first change: throws to stop it (the preflight). */
  gate?: () => Promise<void>;
  /** Called once the plan holds a change or an owed handler (in an apply, before anything is touched). */
  changing?: () => void;
}

/** A resource that notifies a handler its playbook does not declare is the playbook's bug: say so first. */
function checkNotifies(resources: readonly Resource[], handlers: readonly HandlerDef[]): void {
  const declared = new Set(handlers.map((h) => h.name));
  for (const r of resources) {
    for (const n of [...(r.notifies ?? []), ...(r.doneBy ? [r.doneBy] : [])]) {
      if (!declared.has(n)) throw new EngineError('playbook', `${r.kind} ${r.id} names the handler "${n}", which the playbook does not declare`, 'declare it in the playbook\'s handlers');
    }
  }
}

/** Pending names the playbook declares; the others are reported and left in the journal. */
function pendingHandlers(w: HostWork): Map<string, string> {
  const declared = new Set(w.handlers.map((h) => h.name));
  const reasons = new Map<string, string>();
  for (const name of w.pending) {
    if (declared.has(name)) reasons.set(name, 'left pending by an earlier run');
    else w.report.notes.push(`the journal ${w.journal.path} holds "${name}", which this playbook does not run: left there`);
  }
  return reasons;
}

export async function plan(w: HostWork): Promise<void> {
  checkNotifies(w.resources, w.handlers);
  const reasons = pendingHandlers(w);
  // Each resource is told as soon as it and every one before it are read. After a read fails, the reads
  // still under way are neither told nor reported (the host's run has ended).
  const results: (ResourceResult | undefined)[] = new Array(w.resources.length);
  let told = 0;
  const order = inOrder(results, (r) => { told++; tell(w.events?.resource, w.report, r!); });
  let over = false;
  try {
    await readAll(w.host, w.resources, ({ resource: r, diff, ms }, i) => {
      if (over) return;
      const changing = diff.action !== 'none';
      const result: ResourceResult = { kind: r.kind, id: r.id, action: diff.action, status: changing ? 'pending' : 'ok', why: diff.why, changes: diff.changes, detail: diff.detail, ms };
      results[i] = result;
      if (changing) {
        w.report.changed++;
        for (const h of r.notifies ?? []) if (!reasons.has(h)) reasons.set(h, `${r.kind} ${r.id} changes`);
      } else w.report.ok++;
      order.done(i);
    });
  } finally {
    over = true;
    w.report.resources.push(...(results.slice(0, told) as ResourceResult[]));
  }
  for (const h of w.handlers) if (reasons.has(h.name)) w.report.handlers.push({ name: h.name, status: 'pending', reason: reasons.get(h.name)! });
  // Said as an apply says it: what this run read is not what a converged run reads.
  if (w.report.changed > 0 || reasons.size) w.changing?.();
}

export async function apply(w: HostWork): Promise<void> {
  checkNotifies(w.resources, w.handlers);
  const { host, resources, report } = w;
  const reasons = pendingHandlers(w);
  const notified = new Set(reasons.keys());
  const planned = await readAll(host, resources);
  await w.gate?.();

  const results: ResourceResult[] = planned.map(({ resource: r, diff, ms }) => ({
    kind: r.kind, id: r.id, action: diff.action, status: 'skipped', why: 'not reached', changes: diff.changes, detail: diff.detail, ms,
    ...(diff.action !== 'none' ? { planned: { action: diff.action, changes: diff.changes } } : {}),
  }));
  report.resources.push(...results);
  // The plan first, before anything is touched.
  const toChange = results.flatMap((r, i): ResourceResult[] => (r.action === 'none' ? [] : [{ ...r, status: 'pending', why: planned[i]!.diff.why }]));
  if (toChange.length || notified.size) {
    tell(w.events?.planned, report, toChange, [...notified]);
    w.changing?.();
  }
  const order = inOrder(results, (r) => tell(w.events?.resource, report, r));
  let dirty = false;
  const journaled = new Map<string, Promise<void>>([...notified].map((h) => [h, Promise.resolve()]));

  /**
   * The handlers r notifies, written down before its change, and owed only once written: a lane beside this
   * one that notifies the same handler waits for the same write, and a write that fails leaves nothing
   * reported as kept.
   */
  async function writeDown(r: Resource): Promise<void> {
    const fresh = (r.notifies ?? []).filter((h) => !journaled.has(h));
    if (fresh.length) {
      const write = w.journal.add(fresh).then(() => fresh.forEach((h) => { notified.add(h); reasons.set(h, `${r.kind} ${r.id} changed`); }));
      fresh.forEach((h) => journaled.set(h, write));
    }
    await Promise.all((r.notifies ?? []).map((h) => journaled.get(h)));
  }

  async function applyOne(i: number): Promise<void> {
    const r = resources[i]!;
    let { state, diff } = planned[i]!;
    const result = results[i]!;
    Object.assign(result, { status: 'ok', why: diff.why });
    const started = Date.now() - result.ms;
    try {
      if (diff.action !== 'none' && dirty) {
        // Something earlier changed the host (a package made this file, a user now exists): read again.
        ({ state, diff } = await reread(host, r));
        Object.assign(result, { action: diff.action, why: diff.why, changes: diff.changes, detail: diff.detail });
      }
      if (diff.action === 'none') {
        // Planned to change and found done when reached (a package's postinst started the service): it
        // changed in this run, as the plan said, so it is reported changed, not ok.
        if (planned[i]!.diff.action !== 'none') {
          Object.assign(result, { status: 'changed', why: `${diff.why}: done by an earlier change of this run` });
          report.changed++;
          return done();
        }
        report.ok++;
        return done();
      }
      // A resource that notifies its own doneBy hands its change to that handler (a schema sync): written
      // down first like any notification, so a run that dies before the handler finished leaves it owed.
      if (r.doneBy && r.notifies?.includes(r.doneBy)) await writeDown(r);
      if (r.doneBy && notified.has(r.doneBy)) {
        Object.assign(result, { status: 'changed', why: `${diff.why}: done by ${r.doneBy} below` });
        report.changed++;
        return done();
      }
      await writeDown(r);
      await r.apply(host, diff.ops, state);
      result.status = 'changed';
      report.changed++;
      dirty = true;
      done();
    } catch (e) {
      // The failing resource is the step an operator needs, whatever layer the error came from.
      const cause = asEngineError('', e);
      result.status = 'failed';
      result.error = cause.message;
      report.failed++;
      done();
      throw new EngineError(`${r.kind} ${r.id}`, cause.message, cause.hint, e);
    }

    /** Its time is its read's and its change's; then it is told (in order). */
    function done(): void {
      result.ms = Date.now() - started;
      order.done(i);
    }
  }

  try {
    await runInLanes(resources, applyOne);
  } catch (e) {
    order.rest();
    for (const h of w.handlers) {
      if (notified.has(h.name)) report.handlers.push({ name: h.name, status: 'pending', reason: `${reasons.get(h.name)}; stays in the journal for the next run` });
    }
    throw e;
  }
  await runHandlers(w, notified, reasons, resources.map((resource, i) => ({ resource, result: results[i]! })));
  await proveApplied(host, resources, results, report);
}
