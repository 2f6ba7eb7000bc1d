/** An HTTP API said no, or could not be reached: the request, the status, the API's message, what to do. */
export class ApiError extends Error {
  /**
   * The step to report it under when it is not the resource that happened to ask first (a login that is
   * refused, a certificate that fails, is the same whichever read met it).
   */
  step?: string;
  constructor(
    message: string,
    readonly hint: string,
    readonly request: { method: string; path: string; status?: number },
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
  }
}
