/** A failure on a host while planning or applying: the step, the cause, and what the operator can do. */
export class EngineError extends Error {
  constructor(readonly step: string, message: string, readonly hint: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'EngineError';
  }
}

/**
 * Any error as an EngineError. Errors from clients and the transport carry their own `hint` (and the
 * transport its own `step`); the engine keeps them, so it needs to know none of their classes.
 */
export function asEngineError(step: string, e: unknown): EngineError {
  if (e instanceof EngineError) return e;
  const x = e as { hint?: unknown; step?: unknown; message?: unknown };
  const hint = typeof x?.hint === 'string' ? x.hint : 'see the message; run again with the same command once it is fixed';
  const own = typeof x?.step === 'string' && x.step ? x.step : step;
  return new EngineError(own, e instanceof Error ? e.message : String(e), hint, e);
}
