// The bench the engine tests share: a fake host (FakeTransport + FakeController behind a real
// HostSession and Journal), small resources whose state is one string per id in a `world` map, handlers
// that record their run, and one timeline where reads, applies, handlers and the commands the host
// answered appear in the order they happened.
import type { Resource, Diff } from '../../src/engine/resource.ts';
import type { HandlerDef } from '../../src/engine/playbook.ts';
import type { HostReport, Mode } from '../../src/engine/report-model.ts';
import type { HostWork } from '../../src/engine/apply.ts';
import { HostSession } from '../../src/engine/host.ts';
import { Journal } from '../../src/engine/journal.ts';
import { FakeController, FakeTransport, describeCommand } from './fake-transport.ts';

export const OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_CODENAME=bookworm\n';
export const JOURNAL_PATH = '/var/lib/install-glance/pending-handlers';

export type FakeOp = { set: string };

export interface FakeResourceOptions {
  id: string;
  /** The value the playbook wants for this id. */
  want: string;
  lane?: string;
  notifies?: string[];
  doneBy?: string;
  /** Awaited when apply starts (a test holds it to see what runs meanwhile). */
  gate?: Promise<unknown>;
  /** Awaited when read starts. */
  readGate?: Promise<unknown>;
  /** Apply throws this (after the gate). */
  failApply?: Error;
  /** Read throws this. */
  failRead?: Error;
  /** Apply reports success but the host does not keep the change. */
  sticky?: boolean;
  /** What else apply changes on the host (a package install makes a config file). */
  alsoSets?: Record<string, string>;
  /** It can put back what its apply replaced (a config file's backup); rollback throws this when given. */
  rollback?: boolean | Error;
}

export interface Applied { id: string; ops: FakeOp[]; current: string | undefined; journal: string[] }

/** A deferred: a promise a test resolves when it chooses. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/** Resolves once `cond()` holds, or rejects after `ms` (so a test that would wait forever fails, naming why). */
export async function until(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

export function emptyReport(mode: Mode): HostReport {
  return {
    host: 'controller', address: 'controller', playbook: 'fake', mode, ok: 0, changed: 0, failed: 0, durationMs: 0,
    resources: [], handlers: [], notes: [], stats: { sshRoundTrips: 0, remoteCommands: 0 },
  };
}

export class Bench {
  readonly world = new Map<string, string>();
  readonly log: string[] = [];
  readonly applied: Applied[] = [];
  readonly progress: string[] = [];
  readonly controller = new FakeController({ '/etc/os-release': OS_RELEASE });
  readonly t = new FakeTransport({ answer: (c) => this.controller.answer(c), onAnswered: (c) => this.log.push(describeCommand(c)) });
  readonly host = new HostSession('controller', this.t, (line) => this.progress.push(line));
  readonly journal = new Journal(this.t, JOURNAL_PATH);

  /** The host as it is before the run: values per id, and the names a dead run left in the journal. */
  constructor(state: Record<string, string> = {}, journal: string[] = []) {
    for (const [k, v] of Object.entries(state)) this.world.set(k, v);
    if (journal.length) this.controller.files.set(JOURNAL_PATH, journal.map((n) => `${n}\n`).join(''));
  }

  resource(o: FakeResourceOptions): Resource<string | undefined, FakeOp> {
    const { id, want } = o;
    let before: { value: string | undefined } | undefined;
    const rollback = o.rollback ? {
      rollback: async (): Promise<string | undefined> => {
        this.log.push(`rollback ${id}`);
        await new Promise((r) => setImmediate(r));
        if (o.rollback instanceof Error) throw o.rollback;
        if (!before) return undefined;
        if (before.value === undefined) this.world.delete(id);
        else this.world.set(id, before.value);
        return `${id} is ${before.value} again`;
      },
    } : {};
    return {
      ...rollback,
      kind: 'fake',
      id,
      ...(o.lane ? { lane: o.lane } : {}),
      ...(o.notifies ? { notifies: o.notifies } : {}),
      ...(o.doneBy ? { doneBy: o.doneBy } : {}),
      read: async () => {
        this.log.push(`read ${id}`);
        await o.readGate;
        if (o.failRead) throw o.failRead;
        return this.world.get(id);
      },
      diff: (current): Diff<FakeOp> => {
        if (current === want) return { action: 'none', changes: [], why: `${id} is ${want}`, ops: [] };
        return {
          action: current === undefined ? 'create' : 'update',
          changes: [{ field: 'value', ...(current === undefined ? {} : { from: current }), to: want }],
          why: current === undefined ? `${id} is missing` : `${id} is ${current}`,
          ops: [{ set: want }],
        };
      },
      apply: async (_host, ops, current) => {
        this.log.push(`apply ${id} start`);
        this.applied.push({ id, ops, current, journal: this.controller.journal(JOURNAL_PATH) });
        await o.gate;
        if (o.failApply) {
          this.log.push(`apply ${id} failed`);
          throw o.failApply;
        }
        if (!o.sticky) {
          before = { value: this.world.get(id) };
          for (const op of ops) this.world.set(id, op.set);
          for (const [k, v] of Object.entries(o.alsoSets ?? {})) this.world.set(k, v);
        }
        this.log.push(`apply ${id} end`);
      },
    };
  }

  /**
   * A handler that records its run; `sets` is what running it changes on the host (a restart starts a
   * service); `failWhen` fails it when the host looks a certain way (a service that does not start on a file).
   */
  handler(name: string, o: { fail?: Error; sets?: Record<string, string>; failWhen?: (world: ReadonlyMap<string, string>) => Error | undefined } = {}): HandlerDef {
    return {
      name,
      run: async () => {
        this.log.push(`handler ${name}`);
        await new Promise((r) => setImmediate(r));
        if (o.fail) throw o.fail;
        const bad = o.failWhen?.(this.world);
        if (bad) throw bad;
        for (const [k, v] of Object.entries(o.sets ?? {})) this.world.set(k, v);
      },
    };
  }

  /** What runHost hands plan() and apply(): facts gathered in one round trip, the journal read from them. */
  async work(mode: Mode, resources: Resource[], handlers: HandlerDef[]): Promise<HostWork> {
    await this.host.gather([this.journal.fact()]);
    const pending = await this.host.fact(this.journal.fact());
    this.log.length = 0;
    return { host: this.host, resources, handlers, journal: this.journal, pending, report: emptyReport(mode) };
  }

  /** The position of the first timeline entry that equals `entry` (or -1), for "this before that". */
  at(entry: string): number {
    return this.log.indexOf(entry);
  }
}
