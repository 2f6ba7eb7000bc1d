// Plan: read every resource (side by side: they are independent reads), diff each against what the
// playbook wants. Nothing is changed.
import { asEngineError } from './errors.ts';
import type { Host } from './host.ts';
import type { Diff, Resource } from './resource.ts';

export interface Planned {
  resource: Resource;
  state: unknown;
  diff: Diff;
  /** How long reading and diffing it took. */
  ms: number;
}

/** Every resource read and diffed; `onRead` hears of each as soon as it is (in the order they finish). */
export async function readAll(host: Host, resources: readonly Resource[], onRead?: (p: Planned, index: number) => void): Promise<Planned[]> {
  return Promise.all(resources.map(async (resource, i) => {
    try {
      const p = await reread(host, resource);
      onRead?.(p, i);
      return p;
    } catch (e) {
      throw asEngineError(`${resource.kind} ${resource.id}`, e);
    }
  }));
}

/** Reads one resource again and diffs it: the state after earlier changes, or the proof after apply. */
export async function reread(host: Host, resource: Resource): Promise<Planned> {
  const started = Date.now();
  const state = await resource.read(host);
  return { resource, state, diff: resource.diff(state), ms: Date.now() - started };
}
