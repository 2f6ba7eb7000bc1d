// The one shape every resource has: read the current state, diff it against the desired one (a pure
// function), apply the difference. Plan mode is the engine not calling apply.
import type { HostContext } from './context.ts';

export type Action = 'none' | 'create' | 'update' | 'replace' | 'delete';

export interface Change {
  field: string;
  from?: string;
  to?: string;
}

export interface Diff {
  action: Action;
  changes: Change[];
  /** Why nothing changes, or why something must: every path says it (`mysql user glance@% exists`). */
  why: string;
  /** Lines to show under the resource in a plan (e.g. a masked config diff). */
  detail?: string[];
}

/** A follow-up that runs once, after every change that asks for it: a restart, a schema sync. */
export type Handler = 'restart-glance-api' | 'restart-glance-registry';

export interface Resource<S = unknown> {
  readonly kind: string;
  readonly id: string;
  /** Handlers to run when this resource changed. */
  readonly notifies?: Handler[];
  /**
   * Resources of different lanes that stand next to each other in a playbook are applied side by side;
   * one lane's resources stay in order. No lane: applied alone, after everything before it.
   */
  readonly lane?: string;
  read(ctx: HostContext): Promise<S>;
  diff(current: S, ctx: HostContext): Diff;
  apply(ctx: HostContext, current: S, diff: Diff): Promise<void>;
}

export const noChange = (why: string): Diff => ({ action: 'none', changes: [], why });
