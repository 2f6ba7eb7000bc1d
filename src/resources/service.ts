// A service that must be running (or stopped, for a tear-down). Restarts are not this resource's
// business: they are handlers the engine runs once after the changes that ask for them; when such a
// restart is owed anyway, it also starts a stopped service (`doneBy`).
import type { Diff, Resource } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';
import { defineFact, shq } from '../engine/facts.ts';
import { controlService, type ServiceSpec } from './service-control.ts';

/** The pid of a running service, from its pid files; undefined when none names a live process. */
export function pidFact(name: string, pidfiles: readonly string[]) {
  return defineFact(`pid ${name} ${pidfiles.join(' ')}`.trimEnd(), pidfiles.length ? `for f in ${pidfiles.map(shq).join(' ')}; do p=$(cat "$f") && kill -0 "$p" && { echo "$p"; break; }; done` : 'true', (raw) => {
    const pid = Number(raw.trim());
    return pid > 0 ? pid : undefined;
  });
}

export interface ServiceState {
  pid?: number;
}

export type ServiceOp = { op: 'start' } | { op: 'stop' };

export function serviceDiff(s: ServiceState, desired: { name: string; state: 'running' | 'stopped' }): Diff<ServiceOp> {
  const { name } = desired;
  if (desired.state === 'stopped') {
    if (!s.pid) return noChange(`${name} is not running`);
    return { action: 'update', changes: [{ field: 'state', from: `running (pid ${s.pid})`, to: 'stopped' }], why: `${name} is running`, ops: [{ op: 'stop' }] };
  }
  if (s.pid) return noChange(`${name} is running (pid ${s.pid})`);
  return { action: 'update', changes: [{ field: 'state', from: 'stopped', to: 'running' }], why: `${name} is not running`, ops: [{ op: 'start' }] };
}

export function service(spec: ServiceSpec & { state: 'running' | 'stopped'; doneBy?: string }): Resource<ServiceState, ServiceOp> {
  const fact = pidFact(spec.name, spec.pidfiles);
  return {
    kind: 'service',
    id: spec.name,
    doneBy: spec.doneBy,
    async read(host) {
      return { pid: await host.fact(fact) };
    },
    diff: (current) => serviceDiff(current, { name: spec.name, state: spec.state }),
    async apply(host, ops) {
      for (const o of ops) await controlService(host, spec, o.op);
    },
  };
}
