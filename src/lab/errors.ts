/** A lab failure an operator can act on: what went wrong, and what to do about it. */
export class LabError extends Error {
  constructor(message: string, readonly hint: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'LabError';
  }
}
