// A service that must be running (or stopped, for a tear-down). Restarts are not this resource's
// business: they are handlers the engine runs once after the changes that ask for them; when such a
// restart is owed anyway, it also starts a stopped service (`doneBy`).
import type { Diff, Resource } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';
import { defineFact, shq } from '../engine/facts.ts';
import { controlService, type ServiceSpec } from './service-control.ts';

/**
 * Upstart's answer to `initctl status JOB` as a pid: the job's goal is start and it has a main process
 * ("glance-api start/running, process 1234"; also start/spawned and start/post-start, which a restart
 * passes through). Anything else (stop/waiting, stop/killed, an unknown job) is not running.
 */
export function parseUpstartStatus(text: string): number | undefined {
  const m = /^\S+ start\/[a-z-]+, process (\d+)\s*$/m.exec(text);
  const pid = Number(m?.[1]);
  return pid > 0 ? pid : undefined;
}

const UPSTART_MARK = 'upstart job';

/**
 * The pid of a running service: from upstart when the host's init is upstart and the service is one of
 * its jobs (Ubuntu 14.04's jobs leave no pid file), else from its pid files; undefined when none names a
 * live process. One script for every host, so it can be gathered before the host's init is known.
 */
export function pidFact(name: string, pidfiles: readonly string[]) {
  const fromFiles = pidfiles.length ? `for f in ${pidfiles.map(shq).join(' ')}; do p=$(cat "$f") && kill -0 "$p" && { echo "$p"; break; }; done` : 'true';
  const script = [
    `if [ -r ${shq(`/etc/init/${name}.conf`)} ] && /sbin/initctl version 2>/dev/null | grep -q upstart; then`,
    `  echo ${shq(UPSTART_MARK)}; /sbin/initctl status ${shq(name)}`,
    `else ${fromFiles}; fi`,
  ].join('\n');
  return defineFact(`pid ${name} ${pidfiles.join(' ')}`.trimEnd(), script, (raw) => {
    const [first, ...rest] = raw.split('\n');
    if (first === UPSTART_MARK) return parseUpstartStatus(rest.join('\n'));
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
