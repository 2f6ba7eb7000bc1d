// A service's INI file: the keys its template owns are merged into the file the package made, every
// other line kept; owner and mode set; written atomically (the one place its secrets are revealed, as
// the bytes on the wire). The plan shows a diff with every secret masked. Before the package made the
// file, the plan says it will follow the install. Removed when the playbook wants it absent. Before it
// replaces a file, the previous one is copied under `backupDir` (owner and mode kept): a restart that
// fails on the new file puts that one back (the engine's rollback).
import type { Change, Diff, Ensure, Resource } from '../engine/resource.ts';
import { noChange } from '../engine/resource.ts';
import { fileFact, type FileFact } from './file.ts';
import { EngineError } from '../engine/errors.ts';
import type { SecretText } from '../secret.ts';
import { renderTemplate, type ManagedIni, type TemplateVars } from './ini/template.ts';
import { mergeIni, mergedText } from './ini/merge.ts';
import { iniDiff } from './ini/diff.ts';
import { getIniValue } from './ini/lines.ts';

// The fact is the file resource's; kept importable from here for the playbooks that read config files.
export { fileFact, type FileFact };

/**
 * Keys an older release's file had that the template removes, and what they do there: a file that still
 * has any of them (and loses them in the merge) gets this as its plan line, instead of "content differ".
 */
export interface RetiredKeys {
  readonly section: string;
  readonly keys: readonly string[];
  /** One line: what they are, what they break, what the change does. */
  readonly why: string;
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
  retired?: readonly RetiredKeys[];
}

export interface IniFileState {
  file?: FileFact;
}

export type IniFileOp =
  | { op: 'write'; path: string; content: SecretText; owner: string; mode: number }
  | { op: 'merge-when-made'; path: string; by: string }
  | { op: 'remove'; path: string };

const octal = (m: number) => m.toString(8).padStart(4, '0');

/** The groups of retired keys `before` has and `after` no longer has (after: the merged file, masked: keys are what matters). */
function retiredFound(before: string, after: string, groups: readonly RetiredKeys[]): RetiredKeys[] {
  const has = (text: string, g: RetiredKeys) => g.keys.some((k) => getIniValue(text, g.section, k) !== undefined);
  return groups.filter((g) => has(before, g) && !has(after, g));
}

export function iniFileDiff(
  s: IniFileState,
  desired: { path: string; managed: ManagedIni; owner: string; mode: number; madeBy?: string; ensure?: Ensure; retired?: readonly RetiredKeys[] },
): Diff<IniFileOp> {
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
  const { lines: detail, keys } = iniDiff(before, merged);
  // The content's changes as data, one per key (masked as the detail lines are); the lines stay for people.
  const content: Change[] = keys.map((k) => ({ field: `[${k.section}] ${k.key}`, section: k.section, key: k.key, ...(k.from !== undefined ? { from: k.from } : {}), ...(k.to !== undefined ? { to: k.to } : {}) }));
  if (!s.file) changes.push({ field: 'file', to: path });
  else if (detail.length && !content.length) changes.push({ field: 'content', from: '', to: `${detail.filter((l) => l.startsWith('+') || l.startsWith('-')).length} lines` });
  changes.push(...content);
  if (s.file && s.file.owner !== owner) changes.push({ field: 'owner', from: s.file.owner, to: owner });
  if (s.file && s.file.mode !== mode) changes.push({ field: 'mode', from: octal(s.file.mode), to: octal(mode) });
  if (!changes.length) return noChange(`${path} has every managed key, owner ${owner}, mode ${octal(mode)}`);
  const text = mergedText(merged);
  const retired = s.file && merged.changed ? retiredFound(before, text.masked(), desired.retired ?? []) : [];
  // What differs besides the content the retired keys already explain.
  const differ = [...(detail.length && !retired.length ? ['content'] : []), ...changes.filter((c) => c.field === 'owner' || c.field === 'mode').map((c) => c.field)];
  const why = !s.file ? `${path} does not exist` : [...retired.map((g) => g.why), ...(differ.length ? [`${differ.join(', ')} differ`] : [])].join('; ');
  return {
    action: s.file ? 'update' : 'create', changes, why, detail,
    ops: [{ op: 'write', path, content: text, owner, mode }],
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
