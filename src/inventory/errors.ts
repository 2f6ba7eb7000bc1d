// One error type for every inventory problem: where (file and line, with the line itself) and what to do.
// The CLI turns it into a usage error, so a bad inventory stops the run before any host is contacted.
export class InventoryError extends Error {
  constructor(
    readonly source: string,
    readonly line: number | undefined,
    what: string,
    readonly hint: string,
    /** The text of the line the reader choked on, shown under the message. */
    readonly text?: string,
  ) {
    super(`${source}${line ? `:${line}` : ''}: ${what}${text !== undefined ? `\n    ${line ?? ''} | ${text}` : ''}`);
    this.name = 'InventoryError';
  }
}

/** An error raised deep in a reader (ranges, literals) without a line: the reader adds where it was. */
export class InventorySyntaxError extends Error {
  constructor(message: string, readonly hint = 'fix the line, or see the Ansible inventory guide for the syntax') {
    super(message);
    this.name = 'InventorySyntaxError';
  }
}
