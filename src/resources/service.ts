// A service that must be running. Restarts are not this resource's business: they are handlers the
// engine runs once after the changes that ask for them (and that a dead run left in the journal).
import type { Resource } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';
import { controlService } from '../engine/service-control.ts';

export interface ServiceState {
  pid?: number;
}

export function serviceRunning(name: string): Resource<ServiceState> {
  return {
    kind: 'service',
    id: name,
    async read(ctx) {
      return { pid: ctx.facts.running[name] };
    },
    diff(s) {
      if (s.pid) return noChange(`${name} is running (pid ${s.pid})`);
      return { action: 'update', changes: [{ field: 'state', from: 'stopped', to: 'running' }], why: `${name} is not running` };
    },
    async apply(ctx) {
      await controlService(ctx, name, 'start');
    },
  };
}
