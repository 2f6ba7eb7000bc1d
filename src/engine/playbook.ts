// The contract between the engine and a playbook. A playbook says what a host should look like; the
// engine knows order, lanes, handlers with their journal, proof after apply, reporting. The engine
// takes a playbook and runs it; it never imports one (the command line hands it over).
import type { Secret } from '../secret.ts';
import type { FactSpec, OsFacts } from './facts.ts';
import type { Host } from './host.ts';
import type { Provider } from './providers.ts';
import type { Resource } from './resource.ts';

/** What every release profile has; a playbook's profiles add their own data. */
export interface ProfileBase {
  readonly id: string;
  /** One line each for what this release does not have (a config file, a service), shown by the plan. */
  readonly notes?: readonly string[];
}

/** A secret the playbook needs per host: kept locally, made on first use when it can be generated. */
export interface SecretSpec {
  readonly name: string;
  readonly describe: string;
  /** A new random value; absent when the operator must supply it. */
  generate?(): string;
  /**
   * Why a value cannot be used where this secret goes (a file format, a driver, an API), or undefined.
   * Asked of every value, whatever its source, before anything is changed or kept: a value no layer can
   * carry is refused up front instead of half-way through a run.
   */
  problem?(value: string): string | undefined;
}

/** A command-line option a playbook reads its settings from. */
export interface OptionSpec {
  readonly name: string;
  readonly type: 'string' | 'number' | 'boolean';
  readonly describe: string;
  readonly default?: string | number | boolean;
}

export interface PlaybookContext<S, P extends ProfileBase> {
  readonly host: Host;
  readonly profile: P;
  readonly settings: S;
  readonly secrets: Readonly<Record<string, Secret>>;
}

/** Something the engine runs once after the changes that asked for it, in the order declared. */
export interface HandlerDef {
  readonly name: string;
  run(host: Host): Promise<void>;
}

/** The closing check: proof that the service works, not only that its parts look right. */
export interface CheckResult {
  kind: string;
  ok: boolean;
  ms: number;
  /** One line for people, e.g. "image 624ff592-…: active, 1048576 bytes, …". */
  summary: string;
  [detail: string]: unknown;
}

/** A check made before any change that found something wrong: what, and what to do about it. */
export interface PreflightProblem {
  /** Which check: "disk", "clock", "port 9292", … */
  readonly check: string;
  readonly message: string;
  readonly hint: string;
}

export interface Check<S, P extends ProfileBase> {
  /** A read-only check, run beside the plan's reads and kept when nothing changed. */
  quick(ctx: PlaybookContext<S, P>): Promise<CheckResult>;
  /** The full check after a change, or asked for (`verify`). */
  full(ctx: PlaybookContext<S, P>): Promise<CheckResult>;
}

export interface Playbook<S = unknown, P extends ProfileBase = ProfileBase> {
  readonly id: string;
  readonly describe: string;
  readonly profiles: Readonly<Record<string, P>>;
  /** The profile for a host's OS, or undefined (then the operator must name one). */
  profileFor(os: OsFacts): P | undefined;
  readonly options: readonly OptionSpec[];
  /** Settings from the command line's values for `options` and the operator's environment. */
  settings(values: Readonly<Record<string, unknown>>, env: Readonly<Record<string, string | undefined>>): S;
  readonly secrets: readonly SecretSpec[];
  /**
   * Facts gathered in the engine's one round trip (what the resources of any profile will ask for); a
   * function when some depend on the settings (a name given on the command line to look up).
   */
  readonly facts: readonly FactSpec<unknown>[] | ((settings: S) => readonly FactSpec<unknown>[]);
  /** Sessions worth opening while the facts are gathered (they need nothing from them), in this order, once the run lock is held. */
  warm?(settings: S): readonly Provider<unknown>[];
  resources(ctx: PlaybookContext<S, P>): Resource[] | Promise<Resource[]>;
  handlers(ctx: PlaybookContext<S, P>): readonly HandlerDef[];
  /**
   * For secrets no source holds: the values the host already uses (read from its own config with the
   * facts, proven by using them), so that a run from another machine keeps them instead of making new
   * ones. Called after the facts, before the resources are built; what it cannot find is generated.
   */
  adoptSecrets?(ctx: AdoptContext<S, P>, missing: readonly SecretSpec[]): Promise<Adoption>;
  readonly check?: Check<S, P>;
  /**
   * What would make the run fail half-way (no room, a clock, a name, a port, a service that does not
   * answer), from the facts and the sessions the resources use anyway. Started beside the plan's reads:
   * a plan reports its problems as its error, an apply stops before its first change. Not run by verify.
   */
  preflight?(ctx: PlaybookContext<S, P>): Promise<readonly PreflightProblem[]>;
  /** A tear-down: after a successful apply the host's local secrets are forgotten too. */
  readonly forgetsSecrets?: boolean;
}

/** A secret's value and where it came from (the report says it). */
export interface FoundSecret {
  readonly value: Secret;
  readonly from: string;
  /** Kept by the tool itself (its local file), so --rotate-secrets may replace it; a value the operator supplies (the environment, a team's file) is theirs to change. */
  readonly replaceable: boolean;
}

/**
 * Where a host's secrets come from on the operator's side (the environment, a team's file, a 0600 file
 * per host), and where values made or adopted on a run are kept.
 */
export interface SecretsSource {
  /** The secrets the source holds for the host: any of `specs`, by name. */
  load(host: string, specs: readonly SecretSpec[]): Promise<Record<string, FoundSecret>>;
  /** Keeps values made or adopted on this run, for the next one. */
  keep(host: string, values: Readonly<Record<string, Secret>>): Promise<void>;
  /** Where the operator can supply a secret, for a hint. */
  where(host: string, name: string): string;
  forget(host: string): Promise<void>;
}

/** What adoptSecrets sees: the host and its facts, no secrets yet. */
export type AdoptContext<S, P extends ProfileBase> = Omit<PlaybookContext<S, P>, 'secrets'>;

export interface Adoption {
  /** Values the host uses, proven where they are checked (or checked nowhere yet): used, and kept. */
  readonly adopted: Readonly<Record<string, { value: Secret; from: string }>>;
  /** Values the host uses that are refused where they are checked, with why: the run stops rather than replace them unasked. */
  readonly refused: Readonly<Record<string, string>>;
}
