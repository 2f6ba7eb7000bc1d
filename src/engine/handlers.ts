// The handlers a run owes (asked for by a change, or left in the journal by a dead run), once each, in
// the order the playbook declares them; each is crossed out of the journal only after it succeeded.
// A handler that fails after this run's changes asked for it (a service that does not start on the new
// file) puts those changes back when their resources can (a backup restored) and runs again on them, so
// the host keeps doing what it did before the run; the handler stays owed in the journal either way.
import { EngineError, asEngineError } from './errors.ts';
import type { HostWork } from './apply.ts';
import type { HandlerDef } from './playbook.ts';
import type { HandlerResult, ResourceResult } from './report-model.ts';
import type { Resource } from './resource.ts';

export interface Applied {
  resource: Resource;
  result: ResourceResult;
}

const owedNote = 'stays in the journal for the next run';

export async function runHandlers(w: HostWork, owed: ReadonlySet<string>, reasons: ReadonlyMap<string, string>, applied: readonly Applied[] = []): Promise<void> {
  const todo = w.handlers.filter((h) => owed.has(h.name));
  for (const [i, h] of todo.entries()) {
    const started = Date.now();
    try {
      await h.run(w.host);
      await w.journal.remove(h.name);
      w.report.handlers.push({ name: h.name, status: 'changed', reason: reasons.get(h.name) ?? '', ms: Date.now() - started });
    } catch (e) {
      const cause = asEngineError(`handler ${h.name}`, e);
      // A connection that died took the handler with it: nothing can be put back over it, and nothing proves the change bad.
      const back = w.host.t.lost ? {} : await rollBack(w, h, applied, cause);
      w.report.handlers.push({ name: h.name, status: 'failed', reason: `${reasons.get(h.name)}; ${back.said ? `${back.said}; ` : ''}${owedNote}`, ...(back.rollback ? { rollback: back.rollback } : {}) });
      for (const later of todo.slice(i + 1)) w.report.handlers.push({ name: later.name, status: 'pending', reason: `${reasons.get(later.name)}; ${owedNote}` });
      throw new EngineError(w.host.t.lost ? `handler ${h.name}` : cause.step, back.said ? `${cause.message}\n${back.said}` : cause.message, back.hint ?? cause.hint, e);
    }
  }
}

interface RolledBack {
  said?: string;
  hint?: string;
  rollback?: HandlerResult['rollback'];
}

/** The resources of this run that notified `h`, changed something that was there before, and can put it back. */
function undoable(h: HandlerDef, applied: readonly Applied[]): Applied[] {
  return applied.filter(({ resource: r, result }) =>
    result.status === 'changed' && !!r.rollback && (r.notifies ?? []).includes(h.name) && !!result.planned && result.planned.action !== 'create');
}

async function rollBack(w: HostWork, h: HandlerDef, applied: readonly Applied[], cause: EngineError): Promise<RolledBack> {
  const todo = undoable(h, applied);
  if (!todo.length) return {};
  const names = todo.map(({ resource: r }) => `${r.kind} ${r.id}`);
  if (!w.rollback) {
    for (const { result } of todo) result.why = `${result.why}; kept after ${h.name} failed (no rollback)`;
    return { said: `not rolled back (--no-rollback): ${names.join(', ')} stays as this run left it`, rollback: { status: 'off', resources: names } };
  }
  w.host.progress(`${h.name} failed: rolling back ${names.join(', ')}`);
  const restored: string[] = [];
  for (const { resource: r, result } of [...todo].reverse()) {
    let line: string | undefined;
    try {
      line = await r.rollback!(w.host);
    } catch (e) {
      const why = asEngineError(`${r.kind} ${r.id}`, e);
      return {
        said: `rollback failed: ${r.kind} ${r.id}: ${why.message}${restored.length ? ` (restored before it: ${restored.join('; ')})` : ''}`,
        hint: `${cause.hint}; then put back ${r.id} by hand if it still differs`,
        rollback: { status: 'failed', resources: names },
      };
    }
    if (!line) continue;
    restored.push(line);
    result.status = 'rolled-back';
    result.why = `rolled back after ${h.name} failed: ${line}`;
    w.report.changed--;
  }
  if (!restored.length) return {};
  try {
    await h.run(w.host);
  } catch (e) {
    const again = asEngineError(`handler ${h.name}`, e);
    return {
      said: `rolled back (${restored.join('; ')}), but ${h.name} failed on that too: ${again.message}`,
      hint: `${cause.hint}; the rolled-back state fails as well, so fix the host by hand first`,
      rollback: { status: 'failed', resources: names },
    };
  }
  w.host.progress(`${h.name} succeeded on the rolled-back state`);
  return {
    said: `rolled back: ${restored.join('; ')}; ${h.name} ran again on that and succeeded`,
    hint: `${cause.hint} (run with --no-rollback to keep the new state for debugging)`,
    rollback: { status: 'done', resources: names },
  };
}
