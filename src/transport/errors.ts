/** A failure on the way to or on a host: which host, which step, the cause and what to do. */
export class TransportError extends Error {
  constructor(readonly host: string, readonly step: string, message: string, readonly hint: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TransportError';
  }
}
