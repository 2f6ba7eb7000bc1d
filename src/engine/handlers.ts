// The handlers a run owes (asked for by a change, or left in the journal by a dead run), once each, in
// the order the playbook declares them; each is crossed out of the journal only after it succeeded.
import { asEngineError } from './errors.ts';
import type { HostWork } from './apply.ts';

export async function runHandlers(w: HostWork, owed: ReadonlySet<string>, reasons: ReadonlyMap<string, string>): Promise<void> {
  const todo = w.handlers.filter((h) => owed.has(h.name));
  for (const [i, h] of todo.entries()) {
    const started = Date.now();
    try {
      await h.run(w.host);
      await w.journal.remove(h.name);
      w.report.handlers.push({ name: h.name, status: 'changed', reason: reasons.get(h.name) ?? '', ms: Date.now() - started });
    } catch (e) {
      w.report.handlers.push({ name: h.name, status: 'failed', reason: `${reasons.get(h.name)}; stays in the journal for the next run` });
      for (const later of todo.slice(i + 1)) w.report.handlers.push({ name: later.name, status: 'pending', reason: `${reasons.get(later.name)}; stays in the journal for the next run` });
      throw asEngineError(`handler ${h.name}`, e);
    }
  }
}
