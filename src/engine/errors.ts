/** A failure on a host while planning or applying: the step, the cause, and what the operator can do. */
export class EngineError extends Error {
  constructor(readonly step: string, message: string, readonly hint: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'EngineError';
  }
}
