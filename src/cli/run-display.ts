// What a run prints while it goes, from the engine's events: a host's header when it starts to report,
// each resource as it finishes (with its masked detail), an apply's plan before anything is touched,
// the rest when the host ends, progress as a status line, and at the very end a recap over all hosts.
// One host at a time reads as a block under its header; several at once, every line names its host.
// -q keeps only changes and errors; -v adds every remote command and API call (to the log stream).
import type { RunEvents } from '../engine/events.ts';
import type { HostReport, Mode, ResourceResult } from '../engine/report-model.ts';
import { errorLines, handlerLine, hostHeader, noteLines, plannedLines, recapLines, resourceLines, tailLines, type Paint } from '../engine/report.ts';
import type { TraceEvent } from '../trace.ts';
import type { Live } from './live.ts';

export type Verbosity = 'quiet' | 'normal' | 'verbose';

export interface DisplayOptions {
  mode: Mode;
  verbosity: Verbosity;
  /** Several hosts run at once: every line starts with its host's name instead of sitting under a header. */
  prefixed: boolean;
  /** Styles for the report's stream and for the log's. */
  paint: Paint;
  logPaint: Paint;
}

const TRACE_LABEL: Record<TraceEvent['kind'], string> = { connect: 'ssh', exec: 'run', script: 'run', write: 'write', tunnel: 'tunnel', api: 'api' };

/** One -v line: `run    systemctl is-active glance-api → exit 0 (12 ms)`. */
export function traceLine(e: TraceEvent): string {
  return `${TRACE_LABEL[e.kind].padEnd(6)} ${e.what} → ${e.outcome} (${e.ms} ms)`;
}

/** Whether -q shows a resource: what changes or failed (or was changed and put back). */
const isChange = (r: ResourceResult, mode: Mode) => (mode === 'plan' ? r.action !== 'none' : r.status === 'changed' || r.status === 'failed' || r.status === 'rolled-back');

export class RunDisplay {
  readonly #started = new Set<string>();

  constructor(
    readonly live: Live,
    readonly o: DisplayOptions,
  ) {}

  get #quiet(): boolean {
    return this.o.verbosity === 'quiet';
  }

  /** Lines of one host: under its header, or each with its name. */
  #say(host: string, lines: string[]): void {
    const p = this.o.paint;
    const named = this.o.prefixed || this.#quiet;
    for (const l of lines) this.live.say(named && l.startsWith('  ') ? `${p.bold(host)}: ${l.slice(2)}` : l);
  }

  /** The header the first time a host reports; then any note added since (a session opened later adds its own). */
  #start(h: HostReport): void {
    if (this.#quiet) return;
    if (!this.#started.has(h.host)) {
      this.#started.add(h.host);
      this.live.say(hostHeader(h, this.o.paint));
    }
    const shown = this.#notesShown.get(h.host) ?? 0;
    this.#say(h.host, noteLines({ ...h, notes: h.notes.slice(shown) }, this.o.paint));
    this.#notesShown.set(h.host, h.notes.length);
  }

  readonly #notesShown = new Map<string, number>();

  readonly events: RunEvents = {
    planned: (h, changes, owed) => {
      this.#start(h);
      if (!this.#quiet) this.#say(h.host, plannedLines(changes, owed, this.o.paint));
    },
    resource: (h, r) => {
      this.#start(h);
      if (!this.#quiet || isChange(r, h.mode)) this.#say(h.host, resourceLines(r, h.mode, this.o.paint));
    },
    done: (h) => {
      this.live.clear(h.host);
      this.#start(h);
      const p = this.o.paint;
      // A change put back after its handler failed was shown as changed when it was made: said again as it ended.
      const undone = h.resources.filter((r) => r.status === 'rolled-back').map((r) => resourceLines(r, h.mode, p)[0]!);
      if (!this.#quiet) return this.#say(h.host, [...undone, ...tailLines(h, p)]);
      // -q: what was put back, handlers that ran or failed, and the error; nothing else.
      const handlers = h.mode === 'plan' ? [] : h.handlers.filter((x) => x.status === 'changed' || x.status === 'failed');
      this.#say(h.host, [...undone, ...handlers.map((x) => handlerLine(x, h.mode, p)), ...errorLines(h, p)]);
    },
  };

  /** -v: each remote command and API call once it ends; the same call again and again (a poll) is counted, not repeated. */
  trace(host: string, e: TraceEvent): void {
    if (this.o.verbosity !== 'verbose') return;
    const key = `${host}\0${e.kind}\0${e.what}\0${e.outcome}`;
    if (this.#repeat?.key === key) {
      this.#repeat.times++;
      this.#repeat.ms += e.ms;
      return;
    }
    this.#flushRepeat();
    this.live.note(this.o.logPaint.dim(`${host}: ${traceLine(e)}`));
    this.#repeat = { key, host, times: 0, ms: 0 };
  }

  #repeat: { key: string; host: string; times: number; ms: number } | undefined;

  #flushRepeat(): void {
    const r = this.#repeat;
    this.#repeat = undefined;
    if (r?.times) this.live.note(this.o.logPaint.dim(`${r.host}: ${''.padEnd(6)} the same, ${r.times} more time${r.times > 1 ? 's' : ''} (${r.ms} ms)`));
  }

  /** The engine's progress for a host: the status line (none with -q). */
  progress(host: string, line: string): void {
    if (!this.#quiet) this.live.status(`${host}: ${line}`, host);
  }

  /** The end of a run: the status line away, then (unless -q) the recap over every host. */
  finish(reports: readonly HostReport[]): void {
    this.#flushRepeat();
    this.live.clear();
    if (this.#quiet || !reports.length) return;
    this.live.say('');
    for (const l of recapLines(reports, this.o.paint)) this.live.say(l);
  }
}
