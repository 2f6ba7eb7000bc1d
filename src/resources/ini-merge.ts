// The config-file layer, pure (no I/O): render a template of the keys install-glance owns, merge them
// line by line into the packaged file (comments, operator keys, blank lines and order kept byte for
// byte, like Ansible's ini_file), and show a masked diff. The only module that imports `ini`.
//
// Template format (templates/<release>/*.conf):
//   [section]
//   key = value            install-glance owns this key: the file gets exactly this value
//   key = …{{NAME}}…       a placeholder, filled from the vars given to renderTemplate
//   key = …{{NAME|url}}…   the same, percent-encoded (for a password inside a URL)
//   !key                   install-glance removes this key (its active lines; comments stay)
//   # comment / ; comment  ignored
// Templates are parsed by the `ini` package, so inside a template a value ends at an unescaped `;` or
// `#` (write `\;`, `\#`), and `"…"` quotes are JSON. Substituted values are inserted *after* parsing,
// so a password may hold any character but a line break or surrounding white space; `$` in a
// substituted value is written `$$`, because oslo.config reads `$name` as a reference to another option.
//
// The existing file is read the way oslo.config's iniparser reads it: `[name]` starts a section,
// a line starting with `#` or `;` is a comment, a line starting with white space continues the
// previous value, `key = value` or `key: value` (split at the first `=` or `:`; one level of matching
// quotes around the value is dropped). Keys and section names compare case-sensitively, DEFAULT included:
// oslo.config reads a `[default]` section as a group of its own, not as DEFAULT (checked against
// glance 25's oslo.config on a bookworm lab), so the merge must not put DEFAULT's keys there.
import { decode } from 'ini';

/** Values for the `{{NAME}}` placeholders of a template. */
export type TemplateVars = Readonly<Record<string, string>>;

/** What a template says about one section: the keys install-glance sets, and the keys it removes. */
export interface ManagedSection {
  readonly name: string;
  readonly set: ReadonlyArray<readonly [key: string, value: string]>;
  readonly remove: readonly string[];
}

/** A rendered template: the sections install-glance manages in one file, in template order. */
export interface ManagedIni {
  readonly sections: readonly ManagedSection[];
}

/** A template that cannot be rendered: a missing placeholder, a malformed line, an unwritable value. */
export class IniTemplateError extends Error {
  constructor(message: string, readonly placeholders: readonly string[] = []) {
    super(message);
    this.name = 'IniTemplateError';
  }
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*([A-Za-z0-9_]+)\s*)?\}\}/g;
const FILTERS: Readonly<Record<string, (v: string) => string>> = { url: encodeURIComponent };

/** The placeholder names a template uses, sorted, each once. */
export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string))].sort();
}

/** Section identity: the name itself (see the header: `[default]` is not DEFAULT to oslo.config). */
const sectionId = (name: string): string => name;

/** Checks a template's lines for what `ini` would silently accept: bare keys, duplicates, keys outside a section. */
function lintTemplate(text: string): void {
  const seen = new Set<string>();
  let section: string | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    const where = `template line ${i + 1}`;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[(.*)\]$/.exec(line);
    if (header) {
      section = sectionId(header[1] as string);
      if (section.includes('{{')) throw new IniTemplateError(`${where}: a placeholder in a section name is not supported`);
      return;
    }
    if (section === undefined) throw new IniTemplateError(`${where}: "${line}" is outside any [section]`);
    const eq = line.indexOf('=');
    const removal = line.startsWith('!');
    if (removal && eq >= 0) throw new IniTemplateError(`${where}: "${line}": a removal is "!key" alone, without a value`);
    if (!removal && eq < 0) throw new IniTemplateError(`${where}: "${line}" has no value (write "key = value", or "!key" to remove the key)`);
    const key = (removal ? line.slice(1) : line.slice(0, eq)).trim();
    if (!/^[A-Za-z0-9_.-]+$/.test(key)) throw new IniTemplateError(`${where}: "${line}": a key must be a plain name (letters, digits, _ . -; no placeholder, no comment on the line)`);
    const id = `${section}\u0000${key}`;
    if (seen.has(id)) throw new IniTemplateError(`${where}: [${section}] ${key} appears twice (set or removed)`);
    seen.add(id);
  });
}

/** Flattens what `ini` decoded (it nests `[a.b]` as a.b) back into dotted section names. */
function flatten(obj: Record<string, unknown>, prefix: string, out: Map<string, Record<string, unknown>>): void {
  const own: Record<string, unknown> = {};
  const children: [string, Record<string, unknown>][] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) children.push([prefix ? `${prefix}.${k}` : k, v as Record<string, unknown>]);
    else own[k] = v;
  }
  if (prefix && Object.keys(own).length > 0) out.set(prefix, own);
  for (const [name, child] of children) flatten(child, name, out);
}

/** How a value is written so that oslo.config reads it back unchanged (it drops one level of matching quotes). */
function formatValue(value: string): string {
  const q = value[0];
  return (q === '"' || q === "'") && value.length > 0 && value.endsWith(q) ? `"${value}"` : value;
}

/**
 * Renders a template into the keys install-glance manages. Every placeholder must have a value in
 * `vars`: a missing one is an IniTemplateError that names it (all of them, with where they are used).
 */
export function renderTemplate(text: string, vars: TemplateVars): ManagedIni {
  lintTemplate(text);
  const decoded = decode(text) as Record<string, unknown>;
  const flat = new Map<string, Record<string, unknown>>();
  flatten(decoded, '', flat);
  const missing = new Map<string, string[]>();
  const sections: ManagedSection[] = [];
  for (const [name, entries] of flat) {
    const set: [string, string][] = [];
    const remove: string[] = [];
    for (const [rawKey, rawValue] of Object.entries(entries)) {
      if (rawKey.startsWith('!')) {
        remove.push(rawKey.slice(1).trim());
        continue;
      }
      const template = rawValue === null ? 'null' : String(rawValue);
      if (/\{\{|\}\}/.test(template.replace(PLACEHOLDER, ''))) throw new IniTemplateError(`[${name}] ${rawKey}: malformed placeholder in "${template}" (write {{NAME}} or {{NAME|url}})`);
      let complete = true;
      const value = template.replace(PLACEHOLDER, (_m, varName: string, filter: string | undefined) => {
        if (filter !== undefined && !FILTERS[filter]) throw new IniTemplateError(`[${name}] ${rawKey}: unknown placeholder filter "|${filter}" (known: ${Object.keys(FILTERS).join(', ')})`);
        const v = Object.prototype.hasOwnProperty.call(vars, varName) ? vars[varName] : undefined;
        if (v === undefined) {
          missing.set(varName, [...(missing.get(varName) ?? []), `[${name}] ${rawKey}`]);
          complete = false;
          return '';
        }
        if (/[\r\n]/.test(v)) throw new IniTemplateError(`placeholder {{${varName}}} holds a line break: it cannot be written into an INI file`, [varName]);
        const filtered = filter === undefined ? v : (FILTERS[filter] as (s: string) => string)(v);
        return filtered.replace(/\$/g, '$$$$');
      });
      if (complete && value !== value.trim()) throw new IniTemplateError(`[${name}] ${rawKey}: the value would start or end with white space, which oslo.config drops`);
      set.push([rawKey, value]);
    }
    sections.push({ name, set, remove });
  }
  if (missing.size) {
    const names = [...missing.keys()].sort();
    const detail = names.map((n) => `{{${n}}} (used by ${(missing.get(n) as string[]).join(', ')})`).join('; ');
    throw new IniTemplateError(`template placeholder${names.length > 1 ? 's' : ''} without a value: ${detail}`, names);
  }
  return { sections };
}

// ---------------------------------------------------------------------------------------------------
// The line model of an existing file.

type Kind = 'blank' | 'comment' | 'section' | 'key' | 'cont' | 'other';
interface Line {
  readonly raw: string; // without the '\n' (a '\r' stays, so CRLF files come back byte for byte)
  readonly kind: Kind;
  readonly section: string | undefined; // section id this line belongs to (a header belongs to itself)
  readonly key?: string; // kind 'key'
  readonly value?: string; // kind 'key', first line only
  readonly owner?: number; // kind 'cont': index of the key line it continues
}

function splitLines(text: string): string[] {
  return text === '' ? [] : text.split('\n');
}

function parseLines(text: string): Line[] {
  const out: Line[] = [];
  let section: string | undefined;
  let lastKey: number | undefined; // the key line a continuation would extend
  for (const raw of splitLines(text)) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const trimmed = line.trimEnd();
    if (trimmed === '') {
      out.push({ raw, kind: 'blank', section });
      lastKey = undefined;
    } else if (line[0] === ' ' || line[0] === '\t') {
      if (lastKey !== undefined) out.push({ raw, kind: 'cont', section, owner: lastKey });
      else out.push({ raw, kind: 'other', section });
    } else if (trimmed.startsWith('[')) {
      lastKey = undefined;
      if (trimmed.endsWith(']') && trimmed.length > 2) {
        section = sectionId(trimmed.slice(1, -1));
        out.push({ raw, kind: 'section', section });
      } else out.push({ raw, kind: 'other', section });
    } else if (trimmed.startsWith('#') || trimmed.startsWith(';')) {
      lastKey = undefined;
      out.push({ raw, kind: 'comment', section });
    } else {
      const kv = splitKeyValue(trimmed);
      if (kv && section !== undefined) {
        lastKey = out.length;
        out.push({ raw, kind: 'key', section, key: kv[0], value: kv[1] });
      } else {
        lastKey = undefined;
        out.push({ raw, kind: 'other', section });
      }
    }
  }
  return out;
}

/** oslo.config's split: at the first `=` or `:`, whichever comes first; one level of matching quotes dropped. */
function splitKeyValue(line: string): [string, string] | undefined {
  const eq = line.indexOf('=');
  const colon = line.indexOf(':');
  const at = eq < 0 ? colon : colon < 0 ? eq : Math.min(eq, colon);
  if (at < 0) return undefined;
  const key = line.slice(0, at).trim();
  if (key === '') return undefined;
  let value = line.slice(at + 1).trim();
  const q = value[0];
  if ((q === '"' || q === "'") && value.length > 0 && value.endsWith(q)) value = value.slice(1, -1);
  return [key, value];
}

/** The value of a key line with its continuation lines, as oslo.config would read it. */
function fullValue(lines: readonly Line[], i: number): string {
  const parts = [lines[i]?.value ?? ''];
  for (let j = i + 1; j < lines.length && lines[j]?.kind === 'cont' && lines[j]?.owner === i; j++) {
    const raw = (lines[j] as Line).raw;
    parts.push((raw.endsWith('\r') ? raw.slice(0, -1) : raw).trim());
  }
  return parts.join('\n');
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The first commented-out `#key = …` line in a section: oslo's own sample style first, then looser spellings. */
function commentedKeyLine(lines: readonly Line[], section: string, key: string): number | undefined {
  const strict = new RegExp(`^[#;]${escapeRe(key)}[ \\t]*=`);
  const loose = new RegExp(`^[#;][#; \\t]*${escapeRe(key)}[ \\t]*[=:]`);
  for (const re of [strict, loose]) {
    const i = lines.findIndex((l) => l.kind === 'comment' && l.section === section && re.test(l.raw));
    if (i >= 0) return i;
  }
  return undefined;
}

/** The value of `key` in `section` as oslo.config reads it (the last occurrence wins), or undefined. */
export function getIniValue(text: string, section: string, key: string): string | undefined {
  const lines = parseLines(text);
  const id = sectionId(section);
  let found: string | undefined;
  lines.forEach((l, i) => {
    if (l.kind === 'key' && l.section === id && l.key === key) found = fullValue(lines, i);
  });
  return found;
}

/**
 * Merges the managed keys into an existing file. A managed key replaces the first active line of that
 * key in its section (a line whose value is already right is kept as it is), later duplicates go; a key
 * with only a commented `#key = …` line is inserted right after that comment; otherwise it is appended
 * after the last non-blank line of the section; a missing section is appended at the end of the file.
 * Removed keys lose their active lines. Every other line stays byte for byte. Idempotent.
 */
export function mergeIni(existing: string, managed: ManagedIni): string {
  const lines = parseLines(existing);
  const eol = lines[0]?.raw.endsWith('\r') ? '\r\n' : '\n';
  const cr = eol === '\r\n' ? '\r' : '';
  const replace = new Map<number, string>();
  const drop = new Set<number>();
  const after = new Map<number, string[]>(); // lines inserted after line i, in order
  const newSections: string[][] = [];

  const dropWithContinuations = (i: number): void => {
    drop.add(i);
    for (let j = i + 1; j < lines.length && lines[j]?.kind === 'cont' && lines[j]?.owner === i; j++) drop.add(j);
  };
  const insertAfter = (i: number, text: string): void => {
    after.set(i, [...(after.get(i) ?? []), text]);
  };

  for (const sec of managed.sections) {
    const id = sectionId(sec.name);
    const inSection = (l: Line): boolean => l.section === id;
    const headers = lines.flatMap((l, i) => (l.kind === 'section' && l.section === id ? [i] : []));
    const pending: string[] = [];
    for (const [key, value] of sec.set) {
      const written = value === '' ? `${key} =` : `${key} = ${formatValue(value)}`;
      const active = lines.flatMap((l, i) => (l.kind === 'key' && inSection(l) && l.key === key ? [i] : []));
      const [first, ...dups] = active;
      if (first !== undefined) {
        if (fullValue(lines, first) !== value) {
          dropWithContinuations(first);
          drop.delete(first);
          replace.set(first, written + cr);
        }
        dups.forEach(dropWithContinuations);
        continue;
      }
      const comment = headers.length ? commentedKeyLine(lines, id, key) : undefined;
      // a line after the comment that starts with white space would read as a continuation of our key
      const next = comment === undefined ? undefined : lines[comment + 1];
      if (comment !== undefined && !(next && next.kind !== 'blank' && /^[ \t]/.test(next.raw))) insertAfter(comment, written + cr);
      else pending.push(written + cr);
    }
    for (const key of sec.remove) {
      lines.forEach((l, i) => {
        if (l.kind === 'key' && inSection(l) && l.key === key) dropWithContinuations(i);
      });
    }
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

  const out: string[] = [];
  lines.forEach((l, i) => {
    if (!drop.has(i)) out.push(replace.get(i) ?? l.raw);
    out.push(...(after.get(i) ?? []));
  });
  if (newSections.length) {
    // the file's last line is '' when it ends with a newline
    if (out.length && out[out.length - 1] === '') out.pop();
    for (const s of newSections) {
      const last = out[out.length - 1];
      if (out.length && last !== undefined && last.replace(/\r$/, '').trim() !== '') out.push(cr);
      out.push(...s);
    }
    out.push('');
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------
// Diff.

/** Keys whose whole value is secret, whatever it is (an old password nobody told us about included). */
export function isSensitiveKey(_section: string, key: string): boolean {
  return /(password|passwd|secret|token|_key)$/i.test(key);
}

/** Masks every secret (as written raw, `$$`-escaped or percent-encoded) and every password inside a URL. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  const variants = [...new Set(secrets.filter((s) => s !== '').flatMap((s) => [s, s.replace(/\$/g, '$$$$'), encodeURIComponent(s)]))]
    .sort((a, b) => b.length - a.length);
  let out = text;
  for (const v of variants) out = out.split(v).join('***');
  return out.replace(/(\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^:/@\s]*:)([^@\s]+)(@)/g, '$1***$3');
}

type Op = { op: '=' | '-' | '+'; a: number; b: number };

/** Myers' diff of two line arrays; undefined when they are too far apart to be worth it. */
function myers(a: readonly string[], b: readonly string[], maxD: number): Op[] | undefined {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, maxD);
  const off = max + 1;
  let v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v);
    v = v.slice();
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && (v[off + k - 1] as number) < (v[off + k + 1] as number)) ? (v[off + k + 1] as number) : (v[off + k - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) { x++; y++; }
      v[off + k] = x;
      if (x >= n && y >= m) {
        const ops: Op[] = [];
        let cx = n;
        let cy = m;
        for (let dd = d; dd > 0; dd--) {
          const pv = trace[dd] as Int32Array;
          const kk = cx - cy;
          const down = kk === -dd || (kk !== dd && (pv[off + kk - 1] as number) < (pv[off + kk + 1] as number));
          const pk = down ? kk + 1 : kk - 1;
          const px = pv[off + pk] as number;
          const sx = down ? px : px + 1; // where the edit of step dd lands; a snake follows it
          while (cx > sx) { cx--; cy--; ops.push({ op: '=', a: cx, b: cy }); }
          if (down) { cy--; ops.push({ op: '+', a: cx, b: cy }); } else { cx--; ops.push({ op: '-', a: cx, b: cy }); }
        }
        while (cx > 0 && cy > 0) { cx--; cy--; ops.push({ op: '=', a: cx, b: cy }); }
        return ops.reverse();
      }
    }
  }
  return undefined;
}

/**
 * A short diff of two versions of a file: changed lines only, `-old` / `+new`, each run of changes
 * headed by its `[section]`. Every secret in `secrets` is masked wherever it appears, passwords in URLs
 * are masked, and so is the whole value of every key `sensitive` names (default: password-like keys),
 * commented or not. Empty when the files are the same.
 */
export function diffIni(before: string, after: string, secrets: readonly string[] = [], sensitive: (section: string, key: string) => boolean = isSensitiveKey): string[] {
  if (before === after) return [];
  // the '' after a final newline is not a line
  const lines = (text: string): Line[] => { const l = parseLines(text); return text.endsWith('\n') ? l.slice(0, -1) : l; };
  const la = lines(before);
  const lb = lines(after);
  const a = la.map((l) => l.raw);
  const b = lb.map((l) => l.raw);
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const ma = a.slice(pre, a.length - suf);
  const mb = b.slice(pre, b.length - suf);
  const ops = myers(ma, mb, 400) ?? [...ma.map((_, i) => ({ op: '-' as const, a: i, b: 0 })), ...mb.map((_, i) => ({ op: '+' as const, a: 0, b: i }))];

  const show = (l: Line, all: readonly Line[]): string => {
    let text = l.raw.replace(/\r$/, '');
    if (l.kind === 'cont') {
      const owner = all[l.owner as number] as Line;
      return sensitive(owner.section as string, owner.key as string) ? `${/^\s*/.exec(text)?.[0] ?? ''}***` : maskSecrets(text, secrets);
    }
    const kv = l.kind === 'key' ? [l.key as string] : l.kind === 'comment' ? /^[#;][#; \t]*([A-Za-z0-9_.-]+)[ \t]*[=:]/.exec(text)?.slice(1) : undefined;
    const key = kv?.[0];
    if (key !== undefined && l.section !== undefined && sensitive(l.section, key)) {
      const at = text.search(/[=:]/);
      text = `${text.slice(0, at + 1)}${/[=:]\s/.test(text.slice(at, at + 2)) ? ' ' : ''}***`;
    }
    return maskSecrets(text, secrets);
  };
  const out: string[] = [];
  let context: string | undefined;
  for (const o of ops) {
    if (o.op === '=') continue;
    const all = o.op === '-' ? la : lb;
    const line = all[pre + (o.op === '-' ? o.a : o.b)] as Line;
    if (line.kind === 'section') context = line.section;
    else if (line.kind !== 'blank' && line.section !== undefined && line.section !== context) {
      context = line.section;
      out.push(`[${line.section}]`);
    }
    out.push(`${o.op}${show(line, all)}`);
  }
  if (out.length === 0) out.push('~ (only line endings or the final newline differ)');
  return out;
}
