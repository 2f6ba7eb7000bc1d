// The report of one host's run: the same data for people (report.ts) and for `--json`. Secrets never
// reach it: a change or detail line holding one is masked where the diff is made.
import type { Action, Change } from './resource.ts';
import type { CheckResult } from './playbook.ts';

export type Mode = 'plan' | 'apply' | 'verify';

/** `rolled-back`: changed, then put back as it was because a handler it notified failed. */
export type Status = 'ok' | 'changed' | 'failed' | 'skipped' | 'pending' | 'rolled-back';

export interface ResourceResult {
  kind: string;
  id: string;
  action: Action;
  status: Status;
  why: string;
  changes: Change[];
  detail?: string[];
  error?: string;
  /** Time spent changing it (0 when nothing changed). */
  ms: number;
  /** In an apply: what the plan promised for it (a re-read just before applying may change the action). */
  planned?: { action: Action; changes: Change[] };
  /** After an apply that changed it: what reading it again found (`none` is the proof). */
  after?: { action: Action; why: string };
}

export interface HandlerResult {
  name: string;
  status: Status;
  reason: string;
  ms?: number;
  /**
   * After this handler failed: `done` = the changes that notified it were put back and it ran again on
   * them and succeeded; `failed` = put back, but it failed again (or the putting back failed); `off` =
   * rollback was turned off, the changes stay.
   */
  rollback?: { status: 'done' | 'failed' | 'off'; resources: string[] };
}

export interface HostReport {
  host: string;
  address: string;
  playbook: string;
  release?: string;
  os?: string;
  mode: Mode;
  ok: number;
  changed: number;
  failed: number;
  durationMs: number;
  resources: ResourceResult[];
  handlers: HandlerResult[];
  verify?: CheckResult;
  /** One line each for what the release does not have, or what the journal holds that is not ours. */
  notes: string[];
  error?: { step: string; message: string; hint: string };
  /** Round trips and remote commands on the one SSH connection, plus each session's own counters. */
  stats: { sshRoundTrips: number; remoteCommands: number; [counter: string]: number };
}
