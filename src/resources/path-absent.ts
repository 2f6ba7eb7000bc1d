// A path that must not exist (a tear-down's leftovers: a state directory, a journal).
import type { Diff, Resource } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';
import { defineFact, shq } from '../engine/facts.ts';
import { EngineError } from '../engine/errors.ts';

export function pathFact(path: string) {
  return defineFact(`exists ${path}`, `[ -e ${shq(path)} ] || [ -L ${shq(path)} ] && echo yes`, (raw) => raw.trim() === 'yes');
}

export type PathOp = { op: 'remove'; path: string };

export function pathAbsentDiff(exists: boolean, path: string): Diff<PathOp> {
  if (!exists) return noChange(`${path} does not exist`);
  return { action: 'delete', changes: [{ field: 'path', from: path, to: '(removed)' }], why: `${path} exists`, ops: [{ op: 'remove', path }] };
}

export function pathAbsent(path: string): Resource<boolean, PathOp> {
  if (!path.startsWith('/') || path.split('/').filter(Boolean).length < 2) throw new Error(`refusing to manage "${path}": an absolute path at least two levels deep`);
  const fact = pathFact(path);
  return {
    kind: 'path',
    id: path,
    read: (host) => host.fact(fact),
    diff: (exists) => pathAbsentDiff(exists, path),
    async apply(host, ops) {
      for (const o of ops) {
        const r = await host.t.exec(['rm', '-rf', '--one-file-system', '--', o.path]);
        if (r.code !== 0) throw new EngineError('path', `cannot remove ${o.path}: ${r.stderr.trim()}`, 'check the file system on the controller');
      }
    },
  };
}
