// A service's INI file: the keys its template owns are merged into the file the package made, every
// other line kept; owner and mode set; written atomically (the one place its secrets are revealed, as
// the bytes on the wire). The plan shows a diff with every secret masked. Before the package made the
// file, the plan says it will follow the install. Removed when the playbook wants it absent. Before it
// replaces a file, the previous one is copied under `backupDir` (owner and mode kept): a restart that
// fails on the new file puts that one back (the engine's rollback).
import type { Change, Diff, Ensure, Resource } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';
import { defineFact, shq } from '../engine/facts.ts';
import { EngineError } from '../engine/errors.ts';
import type { SecretText } from '../secret.ts';
import { renderTemplate, type ManagedIni, type TemplateVars } from './ini/template.ts';
import { mergeIni, mergedText } from './ini/merge.ts';
import { diffIni } from './ini/diff.ts';

export interface FileFact {
  owner: string;
  mode: number;
  content: string;
}

/** A file's owner, mode and content (base64 on the wire, so any byte survives), or undefined when absent. */
export function fileFact(path: string) {
  return defineFact(`file ${path}`, `if [ -f ${shq(path)} ]; then stat -c '%U:%G %a' ${shq(path)}; base64 -w0 ${shq(path)}; echo; fi`, (raw): FileFact | undefined => {
    const [meta, b64] = raw.split('\n');
    const m = /^(\S+) ([0-7]+)$/.exec(meta ?? '');
    return m ? { owner: m[1]!, mode: parseInt(m[2]!, 8), content: Buffer.from(b64 ?? '', 'base64').toString() } : undefined;
  });
}

export interface IniFileSpec {
  path: string;
  /** The template's text (see ini/template.ts) and the values of its placeholders. */
  template: string;
  vars: TemplateVars;
  owner: string;
  mode: number;
  /** Who makes the file when it does not exist yet (e.g. "the package"); undefined: we create it. */
  madeBy?: string;
  ensure?: Ensure;
  notifies?: readonly string[];
  /** Where the previous file is kept before a write (under its own path), for a rollback; none: no backup. */
  backupDir?: string;
}

export interface IniFileState {
  file?: FileFact;
}

export type IniFileOp =
  | { op: 'write'; path: string; content: SecretText; owner: string; mode: number }
  | { op: 'merge-when-made'; path: string; by: string }
  | { op: 'remove'; path: string };

const octal = (m: number) => m.toString(8).padStart(4, '0');

export function iniFileDiff(s: IniFileState, desired: { path: string; managed: ManagedIni; owner: string; mode: number; madeBy?: string; ensure?: Ensure }): Diff<IniFileOp> {
  const { path, owner, mode } = desired;
  if (desired.ensure === 'absent') {
    if (!s.file) return noChange(`${path} does not exist`);
    return { action: 'delete', changes: [{ field: 'file', from: path, to: '(removed)' }], why: `${path} exists`, ops: [{ op: 'remove', path }] };
  }
  if (!s.file && desired.madeBy) {
    return {
      action: 'create', changes: [{ field: 'file', to: `${path} (${desired.madeBy} makes it; managed keys then set)` }], why: `${path} does not exist yet`,
      ops: [{ op: 'merge-when-made', path, by: desired.madeBy }],
    };
  }
  const before = s.file?.content ?? '';
  const merged = mergeIni(before, desired.managed);
  const changes: Change[] = [];
  const detail = diffIni(before, merged);
  if (!s.file) changes.push({ field: 'file', to: path });
  else if (detail.length) changes.push({ field: 'content', from: '', to: `${detail.filter((l) => l.startsWith('+') || l.startsWith('-')).length} lines` });
  if (s.file && s.file.owner !== owner) changes.push({ field: 'owner', from: s.file.owner, to: owner });
  if (s.file && s.file.mode !== mode) changes.push({ field: 'mode', from: octal(s.file.mode), to: octal(mode) });
  if (!changes.length) return noChange(`${path} has every managed key, owner ${owner}, mode ${octal(mode)}`);
  return {
    action: s.file ? 'update' : 'create', changes, why: s.file ? changes.map((c) => c.field).join(', ') + ' differ' : `${path} does not exist`, detail,
    ops: [{ op: 'write', path, content: mergedText(merged), owner, mode }],
  };
}

// Arguments: FILE BACKUP. The copy keeps owner, mode and times; directories made for it are root's alone.
const BACKUP = [
  'set -e',
  'umask 077',
  'mkdir -p "$(dirname "$2")"',
  'cp -p "$1" "$2.tmp"',
  'mv -f "$2.tmp" "$2"',
].join('\n');

// Arguments: FILE BACKUP. Copied beside the file, then renamed over it: a reader sees one file or the other.
const RESTORE = [
  'set -e',
  '[ -f "$2" ] || { echo "no backup at $2" >&2; exit 3; }',
  'tmp=$(mktemp "$(dirname "$1")/.install-glance.XXXXXX")',
  'trap \'rm -f "$tmp"\' EXIT',
  'cp -p "$2" "$tmp"',
  'mv -f "$tmp" "$1"',
  'trap - EXIT',
].join('\n');

export const backupPath = (backupDir: string, path: string) => `${backupDir.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;

export function iniFile(spec: IniFileSpec): Resource<IniFileState, IniFileOp> {
  // Rendered once: a template that cannot be rendered is the playbook's error, found before any read.
  const managed = renderTemplate(spec.template, spec.vars);
  const desired = { ...spec, managed };
  const fact = fileFact(spec.path);
  const backup = spec.backupDir ? backupPath(spec.backupDir, spec.path) : undefined;
  /** Set once this run's write replaced a file that was backed up first. */
  let backedUp = false;
  return {
    kind: 'ini-file',
    id: spec.path,
    notifies: spec.notifies,
    async read(host) {
      return { file: await host.fact(fact) };
    },
    diff: (current) => iniFileDiff(current, desired),
    async apply(host, ops, current) {
      for (const o of ops) {
        if (o.op === 'write') {
          if (backup && current.file) {
            const r = await host.t.exec(['sh', '-c', BACKUP, 'backup', o.path, backup], { timeoutMs: 30_000, what: `backing up ${o.path}` });
            if (r.code !== 0) throw new EngineError('ini-file', `cannot keep a backup of ${o.path} at ${backup} before changing it: ${r.stderr.trim()}`, `check the disk and ${spec.backupDir} on the controller`);
          }
          await host.t.writeFileAtomic(o.path, o.content, o.owner, o.mode);
          backedUp = !!(backup && current.file);
        } else if (o.op === 'remove') {
          const r = await host.t.exec(['rm', '-f', o.path]);
          if (r.code !== 0) throw new EngineError('ini-file', `cannot remove ${o.path}: ${r.stderr.trim()}`, 'check the file system on the controller');
        } else throw new EngineError('ini-file', `${o.path} is still missing: ${o.by} did not make it`, `check that ${o.by} installed (dpkg -S ${o.path}), then run again`);
      }
    },
    async rollback(host) {
      if (!backedUp || !backup) return undefined;
      const r = await host.t.exec(['sh', '-c', RESTORE, 'restore', spec.path, backup], { timeoutMs: 30_000, what: `restoring ${spec.path}` });
      if (r.code !== 0) throw new EngineError('ini-file', `cannot restore ${spec.path} from ${backup}: ${r.stderr.trim()}`, `copy ${backup} over ${spec.path} by hand (cp -p)`);
      backedUp = false;
      return `${spec.path} restored from the copy kept before this run's write (${backup})`;
    },
  };
}
