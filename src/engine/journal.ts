// Durable handlers: before a change that needs a restart is applied, the restart is written down on
// the target; it is crossed out only after it succeeded. A run that died half-way finishes the job
// on the next run, even when nothing else changed.
import type { Transport } from '../transport/ssh.ts';
import type { Handler } from './resource.ts';
import { JOURNAL } from './facts.ts';

export const HANDLERS: Handler[] = ['restart-glance-registry', 'restart-glance-api'];

export function isHandler(s: string): s is Handler {
  return (HANDLERS as string[]).includes(s);
}

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

export async function journalAdd(t: Transport, handlers: Handler[]): Promise<void> {
  const r = await t.exec(['sh', '-c', ADD, 'journal', JOURNAL, ...handlers]);
  if (r.code !== 0) throw new Error(`cannot write the pending-handler journal ${JOURNAL}: ${r.stderr.trim()}`);
}

export async function journalRemove(t: Transport, handler: Handler): Promise<void> {
  const r = await t.exec(['sh', '-c', REMOVE, 'journal', JOURNAL, handler]);
  if (r.code !== 0) throw new Error(`cannot update the pending-handler journal ${JOURNAL}: ${r.stderr.trim()}`);
}
