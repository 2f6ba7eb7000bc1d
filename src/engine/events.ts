// What a run tells while it goes, for a live display (the command line prints each resource as it
// finishes, and -v every remote command). The report at the end holds the same data; nothing here is
// needed to run, and a listener that throws is the display's bug, never the run's.
import type { TraceEvent } from '../trace.ts';
import type { HostReport, ResourceResult } from './report-model.ts';

export interface RunEvents {
  /** In an apply, before anything is touched: what will change, and the handlers an earlier run left owed. */
  planned?(host: HostReport, changes: readonly ResourceResult[], owed: readonly string[]): void;
  /**
   * A resource is done: read and diffed (plan), in place, changed or failed (apply), or skipped after a
   * failure. Told in the playbook's order, each as soon as it and every resource before it are done, so
   * what is printed reads the same on every run however the lanes interleave.
   */
  resource?(host: HostReport, result: ResourceResult): void;
  /** A host's run ended; its report is complete. */
  done?(host: HostReport): void;
  /** Each remote command, file write, tunnel and API call on a host, once it ends. */
  trace?(host: string, event: TraceEvent): void;
}

/** Calls a listener; what it throws is dropped, so a display bug cannot fail a run. */
export function tell<A extends unknown[]>(listener: ((...args: A) => void) | undefined, ...args: A): void {
  try {
    listener?.(...args);
  } catch {
    // the display's problem, not the host's
  }
}

/**
 * Tells results in their order, each once it and all before it are done: `done(i)` when result i is
 * final, `rest()` to tell every one not told yet (after a failure, the ones never reached).
 */
export function inOrder<T>(items: readonly T[], told: (item: T) => void): { done(i: number): void; rest(): void } {
  const finished = new Array<boolean>(items.length).fill(false);
  let next = 0;
  const flush = () => {
    for (; next < items.length && finished[next]; next++) told(items[next]!);
  };
  return {
    done(i) {
      finished[i] = true;
      flush();
    },
    rest() {
      finished.fill(true);
      flush();
    },
  };
}
