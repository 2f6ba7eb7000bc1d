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
  /** Time spent on it in this run: reading and diffing it, and in an apply reading it again and changing it. */
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
  /**
   * One line each for what the release does not have, what the journal holds that is not ours, a secret
   * adopted, made or rotated, and what the run's resources and sessions noted (host.note: where an input
   * came from, a check switched off).
   */
  notes: string[];
  /** Where each secret came from (the environment, a file, adopted from the host, generated); never a value. */
  secrets?: { name: string; from: string }[];
  error?: { step: string; message: string; hint: string };
  /** What the preflight found wrong, one entry per check, each with what to do (then `error` is the preflight's). */
  preflight?: { check: string; message: string; hint: string }[];
  /** The run never got onto the host (no SSH connection: unreachable, refused, a host key problem). */
  unreachable?: boolean;
  /** Round trips and remote commands on the one SSH connection, plus each session's own counters. */
  stats: { sshRoundTrips: number; remoteCommands: number; [counter: string]: number };
}
