// The one shape every resource has: read the current state (I/O allowed), diff it against the desired
// state the resource was built with (pure: no I/O, no reveal of a secret), then apply exactly the
// operations the diff returned. Plan mode is the engine not calling apply.
import type { Host } from './host.ts';

export type Action = 'none' | 'create' | 'update' | 'replace' | 'delete';

/** Whether the thing a resource describes should exist (apply, install) or not (destroy). */
export type Ensure = 'present' | 'absent';

export interface Change {
  field: string;
  from?: string;
  to?: string;
  /** A change to one key of a configuration file: its section (`DEFAULT`, `database`) and key, for machines. */
  section?: string;
  key?: string;
}

export interface Diff<Op = unknown> {
  action: Action;
  changes: Change[];
  /** Why nothing changes, or why something must: every path says it (`mysql user glance@% exists`). */
  why: string;
  /** Lines to show under the resource in a plan (e.g. a masked config diff). */
  detail?: string[];
  /**
   * What apply will do, in order, as data: empty exactly when action is 'none'. Secrets in an operation
   * stay `Secret`s, so a fixture of operations prints them as "[secret]".
   */
  ops: Op[];
}

export interface Resource<S = unknown, Op = unknown> {
  readonly kind: string;
  readonly id: string;
  /** Handler names (declared by the playbook) to run when this resource changed. */
  readonly notifies?: readonly string[];
  /**
   * Resources of different lanes that stand next to each other in a playbook are applied side by side;
   * one lane's resources stay in order. No lane: applied alone, after everything before it.
   */
  readonly lane?: string;
  /**
   * A handler whose run does this resource's change anyway (a restart starts a stopped service). When the
   * resource also notifies it, the resource hands its change to it: the handler is written to the journal,
   * then makes the change once, after the other changes (a schema sync after the packages and the config).
   */
  readonly doneBy?: string;
  read(host: Host): Promise<S>;
  diff(current: S): Diff<Op>;
  apply(host: Host, ops: Op[], current: S): Promise<void>;
  /**
   * Puts back what this resource's apply replaced in this run (a file's previous content), when a handler
   * it notified then failed (a service that does not start on the new file). The engine asks only a
   * resource that existed before the run and changed in it. Returns one line saying what it restored, or
   * undefined when it kept nothing to restore.
   */
  rollback?(host: Host): Promise<string | undefined>;
}

export const noChange = (why: string): Diff<never> => ({ action: 'none', changes: [], why, ops: [] });

/** The same resource, in a lane that is applied beside the other lanes next to it. */
export function inLane<R extends Resource>(lane: string, r: R): R {
  return { ...r, lane };
}
