// Where a run's lines go. Lines that stay (the report, -v's trace, warnings) are written whole; progress
// (apt's bar, an upload, a restart under way) is one status line that a terminal rewrites in place
// (carriage return, erase line), and that a log (a pipe, a file) gets as ordinary lines, one per step.
// The status line is taken away before a line that stays is written, and put back after it.

export interface OutStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const ERASE_LINE = '\r\x1b[2K';

/** `text` cut to `width` characters (code points), an ellipsis marking the cut. */
export function fit(text: string, width: number): string {
  const chars = Array.from(text);
  return chars.length <= width ? text : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

export class Live {
  #status = '';
  #owner: string | undefined;

  /**
   * `human`: the report's lines (stdout, or stderr with --json). `log`: progress, trace and warnings
   * (stderr); when it is a terminal, progress updates in place there.
   */
  constructor(
    readonly human: OutStream,
    readonly log: OutStream,
    readonly inPlace = log.isTTY === true,
  ) {}

  /** A line of the report. */
  say(line: string): void {
    this.#hide();
    this.human.write(`${line}\n`);
    this.#show();
  }

  /** A line of the log that stays (a trace line, a warning). */
  note(line: string): void {
    this.#hide();
    this.log.write(`${line}\n`);
    this.#show();
  }

  /** Progress (of `owner`, a host): on a terminal it replaces the status line; in a log it is a line of its own. */
  status(line: string, owner?: string): void {
    if (!this.inPlace) {
      this.log.write(`${line}\n`);
      return;
    }
    this.#hide();
    // One screen line at most, or the carriage return would not get back to its start.
    this.#status = fit(line.replace(/[\r\n]+/g, ' '), Math.max(20, (this.log.columns || 80) - 1));
    this.#owner = owner;
    this.#show();
  }

  /** Takes the status line away: for good (before a prompt, at the end), or when it is `owner`'s (its host ended). */
  clear(owner?: string): void {
    if (owner !== undefined && owner !== this.#owner) return;
    this.#hide();
    this.#status = '';
    this.#owner = undefined;
  }

  #hide(): void {
    if (this.inPlace && this.#status) this.log.write(ERASE_LINE);
  }

  #show(): void {
    if (this.inPlace && this.#status) this.log.write(this.#status);
  }
}
