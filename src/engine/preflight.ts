// The playbook's preflight, started beside the plan's reads: its problems stop an apply before its first
// change, are a plan's error, and explain a read that failed for the same cause (MariaDB down) better than
// that read's own error. A preflight that itself throws counts as one problem.
import { EngineError } from './errors.ts';
import type { PreflightProblem } from './playbook.ts';

export class Preflight {
  readonly #problems: Promise<readonly PreflightProblem[]>;

  constructor(run: (() => Promise<readonly PreflightProblem[]>) | undefined) {
    this.#problems = run
      ? run().catch((e: unknown) => [{ check: 'preflight', message: `the preflight failed: ${e instanceof Error ? e.message : String(e)}`, hint: (e as { hint?: string }).hint ?? 'see the message; run again once it is fixed' }])
      : Promise.resolve([]);
  }

  problems(): Promise<readonly PreflightProblem[]> {
    return this.#problems;
  }

  /** Throws the preflight's error when it found anything (`cause`: what failed meanwhile, kept as the cause). */
  async check(cause?: unknown): Promise<void> {
    const found = await this.#problems;
    if (found.length) throw new PreflightError(found, cause);
  }
}

export class PreflightError extends EngineError {
  constructor(readonly problems: readonly PreflightProblem[], cause?: unknown) {
    const n = problems.length;
    // One problem reads as one error; several as a list, each with its own fix.
    super('preflight', n === 1 ? `the ${problems[0]!.check} check failed before any change (nothing was changed): ${problems[0]!.message}`
      : [`${n} checks failed before any change (nothing was changed):`, ...problems.flatMap((p) => [`- ${p.check}: ${p.message}`, `  what to do: ${p.hint}`])].join('\n'),
    n > 1 ? 'do what each check says, then run again' : problems[0]!.hint, cause);
    this.name = 'PreflightError';
  }
}
