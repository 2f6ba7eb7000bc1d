// Merges the managed keys of a rendered template into an existing file, line by line, keeping every
// other line byte for byte (comments, operator keys, blank lines, order), like Ansible's ini_file. The
// result marks the lines that hold a secret, so whatever shows it masks them by type.
import { Secret, SecretText } from '../../secret.ts';
import { fullValue, parseLines, splitLines, isSensitiveKey, hasUrlPassword, type Line } from './lines.ts';
import type { IniValue, ManagedIni } from './template.ts';
import { needsQuotes } from './oslo-value.ts';

/** A file's lines after a merge: plain text, or a line holding a secret. */
export interface MergedIni {
  readonly lines: readonly (string | SecretText)[];
  /** Whether it differs from the file it was merged into. */
  readonly changed: boolean;
}

/**
 * The merged file as bytes for the write to the target (the one place its secrets are revealed). Lines
 * kept from the existing file are plain text read from the target; those that hold a secret by what they
 * are (a password-like key, a password in a URL) are wrapped as secrets too, so the whole content prints
 * masked wherever it goes before the wire.
 */
export function mergedText(m: MergedIni): SecretText {
  const shape = parseLines(m.lines.map((l) => (typeof l === 'string' ? l : l.masked())).join('\n'));
  const sensitive = (i: number): boolean => {
    const l = shape[i];
    if (!l) return false;
    const owner = l.kind === 'cont' ? shape[l.owner as number] : l;
    return (owner?.kind === 'key' && isSensitiveKey(owner.section as string, owner.key as string)) || hasUrlPassword(l.raw);
  };
  return new SecretText(m.lines.flatMap((l, i) => {
    const line = typeof l === 'string' ? (sensitive(i) ? [new Secret(l)] : [l]) : l.parts;
    return [...(i ? ['\n'] : []), ...line];
  }));
}

/** How a value is written so that oslo.config reads it back unchanged: quoted when its ends would be stripped or a level of matching quotes dropped. */
function formatValue(value: IniValue): IniValue {
  if (typeof value === 'string') return needsQuotes(value) ? `"${value}"` : value;
  return value.satisfies(needsQuotes) ? SecretText.join(['"', value, '"']) : value;
}

const same = (value: IniValue, existing: string): boolean => (typeof value === 'string' ? value === existing : value.matches(existing));

/** The first commented-out `#key = …` line among a section's comment lines: oslo's own sample style first, then looser spellings. */
function commentedKeyLine(lines: readonly Line[], comments: readonly number[], key: string): number | undefined {
  const esc = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const strict = new RegExp(`^[#;]${esc}[ \\t]*=`);
  const loose = new RegExp(`^[#;][#; \\t]*${esc}[ \\t]*[=:]`);
  for (const re of [strict, loose]) {
    const i = comments.find((c) => re.test((lines[c] as Line).raw));
    if (i !== undefined) return i;
  }
  return undefined;
}

/** Where each section's headers, comment lines and active keys are: one pass, so a merge does not scan the file once per key. */
interface LineIndex {
  headers(section: string): readonly number[];
  comments(section: string): readonly number[];
  keyLines(section: string, key: string): readonly number[];
}

function indexLines(lines: readonly Line[]): LineIndex {
  const headers = new Map<string, number[]>();
  const comments = new Map<string, number[]>();
  const keys = new Map<string, number[]>();
  const add = (m: Map<string, number[]>, k: string, i: number) => {
    const at = m.get(k);
    if (at) at.push(i);
    else m.set(k, [i]);
  };
  lines.forEach((l, i) => {
    if (l.section === undefined) return;
    if (l.kind === 'section') add(headers, l.section, i);
    else if (l.kind === 'comment') add(comments, l.section, i);
    else if (l.kind === 'key') add(keys, `${l.section}\0${l.key}`, i);
  });
  return {
    headers: (s) => headers.get(s) ?? [],
    comments: (s) => comments.get(s) ?? [],
    keyLines: (s, k) => keys.get(`${s}\0${k}`) ?? [],
  };
}

/**
 * A managed key replaces the first active line of that key in its section (a line whose value is
 * already right is kept as it is), later duplicates go; a key with only a commented `#key = …` line is
 * inserted right after that comment; otherwise it is appended after the last non-blank line of the
 * section; a missing section is appended at the end of the file. Removed keys lose their active lines.
 * Every other line stays byte for byte. Idempotent.
 */
export function mergeIni(existing: string, managed: ManagedIni): MergedIni {
  const lines = parseLines(existing);
  const index = indexLines(lines);
  const cr = lines[0]?.raw.endsWith('\r') ? '\r' : '';
  const replace = new Map<number, string | SecretText>();
  const drop = new Set<number>();
  const after = new Map<number, (string | SecretText)[]>(); // lines inserted after line i, in order
  const newSections: (string | SecretText)[][] = [];

  const dropWithContinuations = (i: number): void => {
    drop.add(i);
    for (let j = i + 1; j < lines.length && lines[j]?.kind === 'cont' && lines[j]?.owner === i; j++) drop.add(j);
  };
  const insertAfter = (i: number, text: string | SecretText): void => {
    after.set(i, [...(after.get(i) ?? []), text]);
  };

  for (const sec of managed.sections) {
    const headers = index.headers(sec.name);
    const pending: (string | SecretText)[] = [];
    for (const [key, value] of sec.set) {
      const written = SecretText.join(value === '' ? [`${key} =`, cr] : [`${key} = `, formatValue(value), cr]);
      const [first, ...dups] = index.keyLines(sec.name, key);
      if (first !== undefined) {
        if (!same(value, fullValue(lines, first))) {
          dropWithContinuations(first);
          drop.delete(first);
          replace.set(first, written);
        }
        dups.forEach(dropWithContinuations);
        continue;
      }
      const comment = headers.length ? commentedKeyLine(lines, index.comments(sec.name), key) : undefined;
      // a line after the comment that starts with white space would read as a continuation of our key
      const next = comment === undefined ? undefined : lines[comment + 1];
      if (comment !== undefined && !(next && next.kind !== 'blank' && /^[ \t]/.test(next.raw))) insertAfter(comment, written);
      else pending.push(written);
    }
    for (const key of sec.remove) index.keyLines(sec.name, key).forEach(dropWithContinuations);
    if (pending.length === 0) continue;
    const lastHeader = headers[headers.length - 1];
    if (lastHeader === undefined) {
      newSections.push([`[${sec.name}]${cr}`, ...pending]);
      continue;
    }
    // after the last non-blank line of the section's last occurrence
    let end = lastHeader;
    for (let j = lastHeader + 1; j < lines.length && lines[j]?.kind !== 'section'; j++) {
      if (lines[j]?.kind !== 'blank') end = j;
    }
    for (const p of pending) insertAfter(end, p);
  }

  // Nothing to replace, drop or add (a converged file, every run): the file as it is.
  if (!replace.size && !drop.size && !after.size && !newSections.length) return { lines: splitLines(existing), changed: false };
  const out: (string | SecretText)[] = [];
  lines.forEach((l, i) => {
    if (!drop.has(i)) out.push(replace.get(i) ?? l.raw);
    out.push(...(after.get(i) ?? []));
  });
  if (newSections.length) {
    // the file's last line is '' when it ends with a newline
    if (out.length && out[out.length - 1] === '') out.pop();
    for (const s of newSections) {
      const last = out[out.length - 1];
      if (out.length && (typeof last !== 'string' || last.replace(/\r$/, '').trim() !== '')) out.push(cr);
      out.push(...s);
    }
    out.push('');
  }
  const plainSame = out.every((l) => typeof l === 'string') && out.join('\n') === existing;
  return { lines: out, changed: !plainSame };
}
