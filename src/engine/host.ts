// What resources, providers, handlers and checks get for one host: the connection, the OS facts, any
// other fact on demand, the sessions (providers), and a progress line. Nothing of a playbook.
import type { Transport } from '../transport/ssh.ts';
import { gatherRaw, initFact, osFact, type FactSpec, type FactsRunner, type OsFacts } from './facts.ts';
import { Providers, type Provider } from './providers.ts';

export interface Host {
  /** The name reports and the local secrets file use (the inventory name, or the host). */
  readonly name: string;
  readonly t: Transport;
  readonly os: OsFacts;
  /** This machine's clock (ms) when the last gathering's answer came: what a clock fact is to be set against. */
  readonly factsAt?: number;
  /** A fact's value as last gathered; a fact not gathered yet costs one round trip now. */
  fact<T>(spec: FactSpec<T>): Promise<T>;
  /** Gathers every known fact again (after a change that moves them: a package install). */
  refreshFacts(): Promise<void>;
  use<T>(provider: Provider<T>): Promise<T>;
  /** One line of progress on a long step (stderr, never the JSON report). */
  progress(line: string): void;
  /**
   * One line for the host's report (its `notes`, shown before the resources and in --json): where an input
   * came from, a check that is switched off. Said once however often it is noted.
   */
  note(line: string): void;
  /**
   * Resolves once what is read is the run's own to act on: the run lock held (for a run without one, at
   * once). Never, for a run that does not get the lock. What a provider reads ahead waits for it.
   */
  readable(): Promise<void>;
  /**
   * `fn` runs once, when the run's plan holds a change (an apply is about to make it): what was read before
   * is stale from then on, and is not what a converged run reads.
   */
  onChange(fn: () => void): void;
}

export class HostSession implements Host {
  readonly providers = new Providers();
  #specs = new Map<string, FactSpec<unknown>>();
  #raw = new Map<string, string>();
  #parsed = new Map<string, unknown>();
  #asking = new Map<string, Promise<void>>();
  /** The gathering under way, and the keys it reads: a fact among them is waited for, not asked again. */
  #gathering: { done: Promise<void>; keys: Set<string> } | undefined;
  #os: OsFacts | undefined;
  factsAt: number | undefined;
  #markReadable!: () => void;
  readonly #readable = new Promise<void>((r) => (this.#markReadable = r));
  #onChange: (() => void)[] = [];
  #changing = false;

  constructor(
    readonly name: string,
    readonly t: Transport,
    readonly progress: (line: string) => void,
    readonly notes: string[] = [],
  ) {}

  note(line: string): void {
    if (!this.notes.includes(line)) this.notes.push(line);
  }

  readable(): Promise<void> {
    return this.#readable;
  }

  /** The engine's word that reads are the run's own (see Host.readable). */
  markReadable(): void {
    this.#markReadable();
  }

  onChange(fn: () => void): void {
    if (this.#changing) fn();
    else this.#onChange.push(fn);
  }

  /** The engine's word that the run is about to change the host. */
  changing(): void {
    if (this.#changing) return;
    this.#changing = true;
    for (const fn of this.#onChange.splice(0)) fn();
  }

  get os(): OsFacts {
    if (!this.#os) throw new Error('the OS facts are read before anything asks for them');
    return this.#os;
  }

  /** The one fact-gathering round trip: the engine's own facts and every spec given; `run`: where the script runs (see gatherRaw). */
  async gather(specs: readonly FactSpec<unknown>[], run?: FactsRunner): Promise<void> {
    for (const s of [osFact, initFact, ...specs]) this.#register(s);
    await this.#refresh(run);
  }

  /** Two facts with one key and different scripts would answer for each other: a playbook's bug, said at once. */
  #register(spec: FactSpec<unknown>): void {
    const known = this.#specs.get(spec.key);
    if (known && known.script !== spec.script) throw new Error(`two facts are named "${spec.key}" with different scripts`);
    this.#specs.set(spec.key, spec);
  }

  refreshFacts(): Promise<void> {
    return this.#refresh();
  }

  async #refresh(run?: FactsRunner): Promise<void> {
    const specs = [...this.#specs.values()];
    const raw = gatherRaw(this.t, specs, run);
    const gathering = { done: raw.then(() => {}, () => {}), keys: new Set(specs.map((s) => s.key)) };
    this.#gathering = gathering;
    try {
      this.#raw = await raw;
    } finally {
      if (this.#gathering === gathering) this.#gathering = undefined;
    }
    this.factsAt = Date.now();
    this.#parsed.clear();
    this.#os = { ...osFact.parse(this.#raw.get(osFact.key) ?? ''), init: initFact.parse(this.#raw.get(initFact.key) ?? '') };
  }

  async fact<T>(spec: FactSpec<T>): Promise<T> {
    this.#register(spec as FactSpec<unknown>);
    // Asked while the gathering that reads it is under way (a session opened beside the facts): its answer.
    if (!this.#raw.has(spec.key) && this.#gathering?.keys.has(spec.key)) await this.#gathering.done;
    if (!this.#raw.has(spec.key)) {
      // Resources read side by side may ask for the same missing fact: one round trip for all of them.
      let asked = this.#asking.get(spec.key);
      if (!asked) {
        asked = gatherRaw(this.t, [spec as FactSpec<unknown>]).then((raw) => { this.#raw.set(spec.key, raw.get(spec.key) ?? ''); });
        this.#asking.set(spec.key, asked);
        void asked.finally(() => this.#asking.delete(spec.key)).catch(() => {});
      }
      await asked;
    }
    if (!this.#parsed.has(spec.key)) this.#parsed.set(spec.key, spec.parse(this.#raw.get(spec.key) ?? ''));
    return this.#parsed.get(spec.key) as T;
  }

  use<T>(provider: Provider<T>): Promise<T> {
    return this.providers.use(provider, this);
  }
}
