// Durable handlers: before a change that needs a handler (a restart) is applied, the handler's name is
// written down on the target; it is crossed out only after it succeeded. A run that died half-way
// finishes the job on the next run, even when nothing else changed. Names are the playbook's: the
// journal keeps any name, and a name the running playbook does not declare is reported, never dropped.
import type { Transport } from '../transport/ssh.ts';
import { defineFact, shq, type FactSpec } from './facts.ts';

const ADD = [
  'set -e',
  'mkdir -p "$(dirname "$1")"',
  'f=$1; shift',
  'for h in "$@"; do grep -qxF "$h" "$f" 2>/dev/null || echo "$h" >>"$f"; done',
  'sync "$f" 2>/dev/null || sync',
].join('\n');

const REMOVE = [
  'set -e',
  '[ -f "$1" ] || exit 0',
  'grep -vxF "$2" "$1" >"$1.tmp" || true',
  'mv -f "$1.tmp" "$1"',
].join('\n');

export class Journal {
  constructor(readonly t: Transport, readonly path: string) {}

  /** The names written down by a run that did not finish them. */
  fact(): FactSpec<string[]> {
    return defineFact(`journal ${this.path}`, `cat ${shq(this.path)}`, (raw) => raw.split('\n').map((s) => s.trim()).filter(Boolean));
  }

  async add(names: readonly string[]): Promise<void> {
    if (names.some((n) => !/^[A-Za-z0-9_.:@-]+$/.test(n))) throw new Error(`a handler name is one plain word: ${names.join(', ')}`);
    const r = await this.t.exec(['sh', '-c', ADD, 'journal', this.path, ...names], { timeoutMs: 30_000, what: `writing the journal ${this.path}` });
    if (r.code !== 0) throw new Error(`cannot write the pending-handler journal ${this.path}: ${r.stderr.trim()}`);
  }

  async remove(name: string): Promise<void> {
    const r = await this.t.exec(['sh', '-c', REMOVE, 'journal', this.path, name], { timeoutMs: 30_000, what: `updating the journal ${this.path}` });
    if (r.code !== 0) throw new Error(`cannot update the pending-handler journal ${this.path}: ${r.stderr.trim()}`);
  }
}
