// Every apply proves its plan: what changed is read again (facts first, they moved) and must now be
// what the playbook wants. A resource that still differs fails the run, named, with what was found.
import { EngineError, asEngineError } from './errors.ts';
import type { Host } from './host.ts';
import type { HostReport, ResourceResult } from './report-model.ts';
import type { Resource } from './resource.ts';
import { reread } from './plan.ts';

export async function proveApplied(host: Host, resources: readonly Resource[], results: ResourceResult[], report: HostReport): Promise<void> {
  const changed = resources.map((r, i) => [r, results[i]!] as const).filter(([, res]) => res.status === 'changed');
  if (!changed.length) return;
  await host.refreshFacts();
  const found = await Promise.all(changed.map(async ([r, res]) => {
    const { diff } = await reread(host, r).catch((e: unknown) => {
      const cause = asEngineError('', e);
      throw new EngineError(`${r.kind} ${r.id}`, `applied, but it cannot be read again: ${cause.message}`, cause.hint, e);
    });
    res.after = { action: diff.action, why: diff.why };
    return [r, res, diff] as const;
  }));
  const off = found.filter(([, , diff]) => diff.action !== 'none');
  for (const [, res, diff] of off) {
    res.status = 'failed';
    res.error = `applied, but reading it again finds: ${diff.why}`;
    report.changed--;
    report.failed++;
  }
  if (off.length) {
    const [r, , diff] = off[0]!;
    throw new EngineError(`${r.kind} ${r.id}`, `applied, but reading it again finds: ${diff.why}${off.length > 1 ? ` (and ${off.length - 1} more resource${off.length > 2 ? 's' : ''})` : ''}`,
      'something changed it back while this ran, or the change does not hold on this host: run plan to see what differs');
  }
}
