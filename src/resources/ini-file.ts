// A service's INI file: the keys its template owns are merged into the file the package made, every
// other line kept; owner and mode set; written atomically (the one place its secrets are revealed, as
// the bytes on the wire). The plan shows a diff with every secret masked. Before the package made the
// file, the plan says it will follow the install. Removed when the playbook wants it absent.
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

export function iniFile(spec: IniFileSpec): Resource<IniFileState, IniFileOp> {
  // Rendered once: a template that cannot be rendered is the playbook's error, found before any read.
  const managed = renderTemplate(spec.template, spec.vars);
  const desired = { ...spec, managed };
  const fact = fileFact(spec.path);
  return {
    kind: 'ini-file',
    id: spec.path,
    notifies: spec.notifies,
    async read(host) {
      return { file: await host.fact(fact) };
    },
    diff: (current) => iniFileDiff(current, desired),
    async apply(host, ops) {
      for (const o of ops) {
        if (o.op === 'write') await host.t.writeFileAtomic(o.path, o.content, o.owner, o.mode);
        else if (o.op === 'remove') {
          const r = await host.t.exec(['rm', '-f', o.path]);
          if (r.code !== 0) throw new EngineError('ini-file', `cannot remove ${o.path}: ${r.stderr.trim()}`, 'check the file system on the controller');
        } else throw new EngineError('ini-file', `${o.path} is still missing: ${o.by} did not make it`, `check that ${o.by} installed (dpkg -S ${o.path}), then run again`);
      }
    },
  };
}
